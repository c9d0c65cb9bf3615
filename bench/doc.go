// Package bench is cairn's load generator and side-by-side comparison with
// etcd and Redis: the runtime of `cairn bench`, whose cobra command
// (cmd/cairn/bench.go) only turns flags into the types here.
//
// # Shape
//
//	Spec ──▶ Run ──▶ Workload (clientv3: put range txn watch │ go-redis: set get incr sadd mixed)
//	           │        Open (connect, write what reads read; not timed) · Do(client c, n requests) · Close
//	           ├──▶ Spec.Clients goroutines: claim requests (Total) or run until Duration,
//	           │      wait for a Pacer slot (Rate), Do, record latency in their own Histogram
//	           ├──▶ sampler: one Point per second (rate, errors, mean latency) from atomic counters
//	           └──▶ Result (merged Histogram, LatencySummary, Series, ErrorKinds)
//	Compare ──▶ per round, per system: Start{Etcd,Cairn,Redis} ─▶ MeasureMemory (round 1) ─▶ Run each workload ─▶ Stop
//	Report (JSON, schema SchemaVersion) ──▶ Summarize/WriteTable (medians, ratios) · WritePlots (SVG via package plot)
//
// A Workload is the client side of one Spec against one Target. The
// strong tier's workloads use Spec.Conns clientv3 clients, connection j to
// endpoint j mod len(endpoints), client c on connection c mod Conns, as
// etcd's benchmark tool spreads them. The eventual tier's give each client
// its own RESP connection, as redis-benchmark does, and send CAIRN.CONSISTENCY
// <level> (ConsistencyCommand) when the connection opens if
// Spec.Consistency is set (a cairn command, which a real Redis refuses: the run then fails in Open with an
// error that says so).
//
// # What is measured
//
// Latency is from just before a request is sent to its answer; a pipeline
// of P commands counts as P requests of the pipeline's latency (as
// redis-benchmark). With Spec.Rate the clients together take slots of an
// open-loop schedule (Pacer) and latency runs from the slot's due time, so
// a server that falls behind shows the queueing it causes (coordinated
// omission, corrected as wrk2 does). Watch measures from the put being
// sent (its send time travels in the value) to each watcher's event.
//
// Latencies go into a log-linear Histogram (128 buckets per power of two,
// relative error at most 1/256 for any quantile), one per client, merged
// at the end: merging is exact. Failed requests are counted by message
// and do not enter the histogram. At the end of a Duration run, requests
// still in flight get RunOptions.Drain to finish; those cut then count as
// failures ("cancelled while in flight").
//
// # Comparison
//
// Compare starts every system fresh in every round (etcd and cairn with 3
// members and the same Raft timings, Redis alone), in the same order each
// round, so the systems alternate (A, B, C, A, B, C): drift in the
// machine's load spreads over all of them. Writes go to the Raft leader,
// reads and watches to all members. Tables give medians over rounds and
// ratios to the anchor of the tier (etcd for the strong tier, Redis for
// the eventual tier). Servers' CPU per request comes from /proc.
//
// # Bounds
//
// Every Spec field has a bound checked by Validate (MaxClients,
// MaxValueSize, ...). A run stops after RunOptions.MaxErrors failures, so a
// target that refuses everything fails fast; it keeps at most
// MaxErrorKinds error messages and MaxSeriesPoints seconds of series.
// Histograms hold at most 36 KiB each. Sweeps take at most MaxSweepRates
// rates.
//
// # Hazards
//
// HAZARD: the load generator runs on the machine it measures. On a small
// machine the client's CPU competes with the servers'; compare ratios
// measured in the same run, not absolute figures across runs.
//
// HAZARD: FreePorts releases the ports it found before the servers bind
// them; another process may take one in between (the start then fails and
// says so).
//
// HAZARD: server processes are stopped on every return path and on
// Ctrl-C, and the kernel kills them if bench itself is killed (Linux
// Pdeathsig); a bench killed on another OS leaves them running.
//
// HAZARD: memory per key comes from RSS and allocated disk blocks, both
// coarse (Go heap garbage, preallocated WAL segments): read them as
// orders of magnitude.
package bench
