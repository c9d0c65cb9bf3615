// Package txnsim runs cairn's atomic commit protocols (packages twopc,
// threepc and decision) in the deterministic simulator (package sim) and
// checks them.
//
// # The world
//
// Node 1 is the coordinator, the next Options.Participants nodes are the
// participants, and, for TwoPCRegister, three more nodes are the replicas
// of the decision register. Every node keeps one log on its simulated
// disk and rebuilds its core from it at each restart; a crash keeps only
// what was synced (sim.LossPrefix keeps a random prefix of the rest). A
// workload begins a transaction over two or more random participants every
// few milliseconds while the coordinator is up, keeping at most
// MaxConcurrent in flight; participants vote at their next tick, no with
// probability NoVoteProb. The nemesis injects crashes, pauses, partitions
// of every shape, loss bursts and delay spikes, on top of the network's
// own loss, duplication and reordering. A lost coordinator
// (LoseCoordinatorAt, LoseCoordinatorOnCommit) never comes back: the
// machine is gone.
//
// # The decision register: a choice
//
// The register variant needs "a store whose decision survives any single
// crash". It is modelled as three extra simulated nodes running the real
// Paxos register of package decision, not as an oracle outside the world:
// the register's messages are lost, delayed and partitioned like any
// other, its replicas crash and lose unsynced writes like any other, and
// the checker verifies that it never chooses two values. The price is a
// few more nodes per run, which the simulator handles easily.
//
// # What is checked
//
// After every step (checker.go): atomicity (no two nodes decide
// differently for a transaction: participants applying, the coordinator
// answering its client, termination leaders, register replicas choosing),
// validity (commit only if every participant voted yes; no participant
// votes both ways), and durability of decisions (a participant that
// restarts knows every outcome it applied). A core that reports a message
// contradicting its recorded outcome fails the run too.
//
// After the heal: termination. Within Options.Settle every participant
// knows the outcome of every transaction it heard of, and the coordinator
// (unless lost) has finished every transaction. Classic 2PC without its
// coordinator may instead block: Run then counts the blocked transactions
// (Result.Blocked), after checking that each is blocked for the only
// legitimate reason (every participant voted yes and none knows the
// outcome).
//
// The tests run 1,000 seeds per protocol in CI (a tenth under the race
// detector), replayable one at a time with -sim.seed, and put the
// protocols side by side (see the txn package doc for the comparison and
// its seeds). Bugs switches on known defects (a yes vote or a decision
// sent before its record is synced) to show that the checks catch them.
package txnsim
