// Package cluster gives the verification harness the clusters it attacks
// and the levers it pulls on them: start, SIGKILL, SIGSTOP/SIGCONT a
// member's process, restart a member as a new member (for membership
// changes), and fault the network between members.
//
// # Targets
//
//   - Local (NewLocal): N `cairn server` processes on loopback with free
//     ports, temporary data dirs and --enable-fault-injection. Network
//     faults go through each member's /debug/faults endpoint (the peer
//     transport's fault hook: partition, drop, delay per peer and
//     direction), so they act on Raft and eventual-tier frames, not on
//     sockets. Works anywhere, without privileges.
//   - Network namespaces (NewLocal with Netns): each member runs in its
//     own network namespace (ip netns), joined to a bridge in the root
//     namespace by a veth pair, on its own address of a private /24 that
//     only these namespaces use. Partitions and packet loss are iptables
//     rules inside the namespaces (DROP by source address, and the
//     statistic match for loss), so they cut real TCP and UDP traffic
//     between real processes; delay uses tc netem where the kernel has it
//     and falls back to the fault hook's delay where it does not. Needs
//     root, ip, iptables. The harness's own clients talk from the bridge
//     address, which the rules never match, so a partition separates
//     members, not the observer.
//   - Attach (NewAttach): an existing cluster's endpoints. No process
//     control; network faults only if its members' admin addresses are
//     given and they run with --enable-fault-injection.
//
// # Network faults
//
// A Network holds the desired faults (Faults: cut links, loss and delay
// per member) and applies them to every member; a member that could not
// be reached (paused, killed) is brought in line when it runs again, so a
// restarted member does not escape a partition that its restart would
// otherwise have healed (the fault hook's rules live in process memory).
//
// HAZARD: ports on loopback are picked by binding :0 and closing the
// listener; another process may take one in between. Start retries a
// member whose process exits while starting.
//
// HAZARD: namespaces, veth pairs and the bridge outlive a harness that is
// killed with SIGKILL. Their names carry the harness's pid (cv<pid>...),
// and NewLocal removes leftovers whose pid no longer runs.
package cluster
