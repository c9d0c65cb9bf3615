// Package e2e holds cairn's process-level tests: they build the cairn
// binary once (TestMain), start real `cairn server` processes on loopback
// ports picked free at run time, and drive them the way an etcd user
// would, with etcd's own etcdctl and clientv3. The package has no code
// outside its tests.
//
// # What the tests check
//
//   - etcdctl compatibility (etcdctl_test.go, etcdctl_cluster_test.go):
//     put/get with the common flags, del, txn from stdin, watch, leases,
//     member list, endpoint status/health/hashkv, compaction, and the
//     lock and elect commands, with outputs compared byte for byte where
//     etcdctl's format is stable (ids, sizes and timings are checked by
//     value or shape instead). etcdctl's lock and elect are client-side
//     recipes (clientv3/concurrency over KV, Lease and Watch), so they
//     need no extra service.
//   - etcd's server-side Lock and Election services (recipes_grpc_test.go),
//     called with hand-encoded messages; each sub-test skips while the
//     member answers Unimplemented.
//   - Durability under kill -9 (durability_test.go): several clientv3
//     writers record every acknowledged put; the leader, then a follower,
//     then all three members are killed with SIGKILL mid-load and
//     restarted with the same flags; every acknowledged write must be
//     readable, linearizably, through every member, and HashKV must
//     agree. A variant keeps a member down long enough that it must
//     catch up from a snapshot.
//   - The eventual tier (eventual_test.go) through go-redis, redis-cli and
//     redis-benchmark: writes read through other nodes, concurrent INCRs
//     through every node adding up, QUORUM writes surviving a killed
//     replica while ALL fails with NOQUORUM, and the replica receiving what
//     it missed once restarted (hinted handoff). redis-cli and
//     redis-benchmark are required when $CAIRN_REQUIRE_REDIS_TOOLS is set.
//   - Convergence under faults (eventual_chaos_test.go): 3- and 5-node
//     clusters take INCRBY, SADD, SREM and SET from every node while one
//     node is paused, one cut off and one killed; after the heal every node
//     answers the same at ONE within 30 s, the counter holds exactly the
//     acknowledged increments (up to those whose outcome was unknown), the
//     set exactly the acknowledged adds minus acknowledged removes.
//   - Compare-and-set under faults (eventual_cas_test.go): clients on every
//     node run SET NX|XX ... GET, CAIRN.CAS and CAIRN.LGET while one node is
//     cut off and another killed and restarted; Porcupine checks the
//     history (outcomes a client never learned fork the model's state).
//   - Gossip membership (gossip_test.go): five processes; a killed node is
//     declared dead by all, a SIGSTOPped one suspected and then refuted
//     without ever being declared dead, a 2|3 partition converges after
//     the heal.
//   - The verification harness (verify_test.go): short `cairn verify` runs
//     in-process against real processes: strong workloads under kill,
//     pause and partition; register, bank and watch under loss, delay and
//     member replacement; every eventual workload; network namespaces (as
//     root); and a self-test that must fail (unsafe serializable reads).
//   - Bad input (limits_test.go): the request-size, txn-size, lease, key
//     and revision errors etcd returns, with etcd's exact messages, and
//     the same limits raised by --max-request-bytes and --max-txn-ops.
//
// # Running
//
// etcdctl is found through $CAIRN_ETCDCTL, then PATH; without it the
// etcdctl test skips, unless $CAIRN_REQUIRE_ETCDCTL is set (CI), which
// makes it fail. The kill -9 tests are skipped with -short. A failed
// test prints the tail of every server's log.
//
// With $CAIRN_E2E_ETCD set to an etcd binary (v3.7), every test runs
// against etcd itself instead of cairn, with the same command lines
// translated to etcd's flags: the way to check that an expectation here
// is etcd's behaviour and not merely cairn's.
//
// HAZARD: ports are picked by binding :0 and closing the listener, then
// handed to the server; another process can take a port in between. The
// window is small, and a restarted member must reuse its ports anyway
// (its peer URL is its identity).
//
// HAZARD: SIGKILL ends the process, not the machine: what a member wrote
// without fsync is still in the page cache and survives. These tests
// catch lost acknowledgements and broken recovery, not a missing fsync;
// the simulator's crashable disk covers that.
package e2e
