// Package watch is the strong tier's etcd v3 Watch: a Hub that fans the
// MVCC store's committed revisions out to watchers, and the gRPC Watch
// service (etcdserverpb.WatchServer) on top, which etcdctl and clientv3
// use unchanged. It follows the semantics of etcd's watchable store and
// v3rpc watch server (server/storage/mvcc/watchable_store.go,
// server/etcdserver/api/v3rpc/watch.go) with its own design.
//
// # Wiring
//
//	hub, err := watch.NewHub(store, watch.DefaultOptions()) // *mvcc.Store is a Source
//	mvcc Options.OnCommit = hub.Notify                       // on the apply goroutine
//	svc, err := watch.NewService(hub, header, watch.DefaultServiceOptions())
//	etcdserverpb.RegisterWatchServer(grpcServer, svc)
//	after a snapshot Restore: hub.Resync(); at shutdown: hub.Close()
//
// # Groups
//
// A watcher is synced or unsynced (etcd's groups). Notify(rev, events),
// called once per committed revision in order, hands each synced watcher
// whose range and filters take some of the revision's events one
// response, queued without waiting. Synced watchers are indexed by key,
// by prefix (one map lookup per distinct prefix length in use), and other
// ranges are scanned. A response that does not fit (the stream's queue,
// Options.StreamQueueLength, or the watcher's share of it,
// WatcherQueueLength) makes the watcher unsynced: Notify never waits for
// a client. One goroutine (runSyncer) serves the unsynced watchers in
// rounds: a round picks up to MaxWatchersPerSync of them whose queues have
// room, reads once for all of them, from the in-memory history of recent
// revisions (HistoryEvents, HistoryBytes) when it reaches back far
// enough, else from Source.Changes over the smallest range holding all of
// theirs, and queues what each wants in responses of whole revisions.
//
// # The boundary (no gap, no duplicate)
//
// Each watcher has nextRev, the first revision not yet queued for it;
// notifiedRev is the last revision given to Notify. These hold under the
// Hub's lock:
//   - A synced watcher has every revision up to notifiedRev queued (or
//     starts later: nextRev > notifiedRev), and Notify queues a revision
//     for it only if rev >= nextRev, then sets nextRev = rev+1.
//   - An unsynced watcher has everything before nextRev queued and nothing
//     after; only the catch-up goroutine moves its nextRev, and only after
//     checking, under the lock, that nextRev is still what it read.
//   - A catch-up read covers every revision in [from, coverage]: the
//     history up to the notifiedRev it copied, or Changes up to its next-1.
//     Queuing the read advances nextRev to coverage+1 (or to just past the
//     last response queued, if the queue filled).
//   - A watcher joins the synced group only when nextRev > notifiedRev, in
//     the same critical section as the check. Revisions notified while its
//     read ran outside the lock are first fed from the history (at most
//     maxJoinGapRevisions, so a catch-up converges under any write rate).
//     A read that went past notifiedRev (the store's revision moves before
//     its commit hook runs) leaves nextRev above it, and Notify then skips
//     those revisions for the watcher.
//
// So every revision reaches a watcher exactly once: from Notify if it was
// synced when the revision was notified, else from a catch-up read, and
// the queue keeps the order. A new watcher is registered only after its
// created response is queued, so no event can precede it; with start
// revision 0 it watches from the created response's revision + 1, and
// starts unsynced if revisions were notified in between.
//
// # Responses
//
// A revision is never split across responses (clientv3 resumes after a
// reconnect from the last event's revision + 1, so a split would lose the
// rest), except by fragmentation, which the client reassembles. A
// response's Revision says the watcher has seen everything up to it.
// Progress notifications (stream-wide on request, or periodic for
// watchers created with progress_notify) are queued only for synced
// watchers, behind their events; a stream-wide request made while some
// watcher is unsynced is answered once all are synced (etcd drops it).
// A watcher whose nextRev falls below the Source's compaction revision is
// canceled with CompactRevision set, after the events queued before it.
// Canceling drops the watcher's queued events; closing a stream removes
// all its watchers.
//
// # Departures from etcd
//
//   - Negative client-chosen watch IDs are refused (ErrNegativeWatchID):
//     -1 means "no watcher" in the protocol.
//   - MaxWatchersPerStream bounds a stream (etcd has no bound).
//   - Catch-up responses are bounded by bytes too (CatchupBatchBytes),
//     for clients that keep gRPC's 4 MiB receive limit.
//
// HAZARD: Notify keeps references to the events (in queues and the
// history); the store must never modify them after its commit hook, and
// neither may anything else. mvcc.Store documents this contract.
//
// HAZARD: Notify must be called for every revision, in order, on one
// goroutine. A skipped revision is detected at the next Notify (all
// watchers then catch up from the Source); a revision brought in by a
// snapshot without Notify needs Resync, or watchers see it only after the
// next write.
//
// HAZARD: ranges that are neither a single key nor a prefix are scanned
// per event: about 0.5 to 1 µs per event with 1,000 such synced watchers
// (BenchmarkNotify), on the apply goroutine.
package watch
