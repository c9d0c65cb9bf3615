// Package saga runs durable sagas on cairn's strong tier: long-running
// transactions made of steps, each with an action and a compensation,
// whose progress survives the crash of the process that runs them
// (Garcia-Molina and Salem, "Sagas", SIGMOD 1987; the guarantees of a
// workflow engine such as Temporal, on cairn's own log).
//
// # Shape
//
// A Definition is a named, ordered list of Steps. Executors register
// definitions (the step functions live in their process) and run sagas;
// a Client (no definitions needed) starts sagas by definition name and
// ID with an input payload, reads them, lists them, waits for them, and
// lets an operator retry or resolve a saga whose compensation failed.
// Everything goes through the etcd v3 API (clientv3), so the log lives in
// the strong tier: linearizable, replicated by Raft, and readable with
// etcdctl (the records are JSON). The key layout is in keys.go.
//
// # The log and the run
//
// What a saga does next is a pure function of its log (decide.go,
// nextMove): the first step not done while running; the last step whose
// effect may exist while compensating, in reverse order; then the final
// status. An executor that takes a saga over therefore decides exactly as
// the crashed one would have. Around each call the executor writes:
//
//	step intent  "action_started", attempt n      before the call
//	step result  "action_done" + output            after it
//	             "action_failed" + saga compensating, in one Txn
//	(the same for compensations)
//	final        status + delete active/ + delete owner/, in one Txn
//
// A crash anywhere between two writes leaves the log at the earlier one;
// the next owner re-runs the call of an intent without a result. A call
// is therefore made at least once and possibly more than once, always
// with the same idempotency key (sagaID/step/action or .../compensate,
// the same for every attempt by every executor): step functions must be
// idempotent by that key, and that is what makes each effect happen at
// most once. Memory never runs ahead of the log: the runner updates its
// copy only after the write succeeded.
//
// A Permanent error from an action means "no effect": the saga
// compensates the steps before it. A transient error is retried with
// exponential backoff and jitter (RetryPolicy), each attempt counted in
// the log before it runs, so the bound on attempts holds across crashes
// (an attempt cut short by a crash counts). When retries run out the
// outcome of the last attempt is unknown, so the step is compensated too
// (StepRecord.Uncertain); hence a compensation must succeed as a no-op
// when the action never took effect. A compensation that fails for good
// (permanent error or retries spent) ends the saga in
// compensation_failed: compensation stops there, leaving the earlier
// steps' effects in place and the error in the log, for an operator to
// Retry (after fixing the cause) or Resolve (after undoing by hand).
//
// # Ownership and fencing
//
// Exactly one executor owns a saga at a time. An executor holds one lease
// (LeaseTTL, kept alive by clientv3); it owns a saga while the saga's
// owner key exists on that lease. It takes a saga with a Txn that creates
// the owner key only if none exists and the saga is active; the key's
// create revision is its fence: every log write is a Txn guarded by
// Compare(CreateRevision(owner key) == fence). When the lease ends
// (expired after a crash, a pause or a partition; revoked by Close) the
// strong tier deletes the owner key; a later owner creates a new one with
// a higher create revision, so a stale executor's writes fail (ErrFenced)
// whatever it believes. The deletion is also the signal: executors watch
// owner/ for deletes and active/ for new sagas, and scan both every
// ScanInterval as a backstop, claiming what has no owner.
//
// HAZARD: fencing protects the log, not the outside world. An executor
// that lost its lease without knowing it (paused past LeaseTTL) may still
// call a step function while the new owner calls it too. Both calls carry
// the same idempotency key; a service that deduplicates by it applies one.
// Step calls run under a context that ends when the executor notices its
// lease ended, which shortens but cannot close that window.
//
// HAZARD: a definition's steps are part of its sagas' log. The first
// executor that runs a saga records the step names; an executor whose
// definition of that name differs refuses the saga (ErrCorrupt in the
// logs, the saga left for an executor with the matching definition).
// Change a saga's steps under a new definition name.
//
// # Bounds
//
// Every bound is a field of ExecutorConfig or ClientConfig with its
// default: MaxSteps (64, at most 1000: register refuses more),
// MaxInputBytes (256 KiB, at most 1 MiB: Start refuses more),
// MaxOutputBytes (64 KiB: a larger output fails the step as uncertain),
// MaxErrorBytes (2 KiB: error text is truncated), MaxConcurrent (64
// sagas per executor: past it the executor claims nothing and Submit
// returns ErrBusy), LogWriteAttempts (5 per write: then the executor lets
// the saga go and a later scan takes it), ListPageSize (256 keys per
// range read). IDs and names are at most 128 and 64 bytes of
// [A-Za-z0-9._:-]. Every Txn writes at most one input or output with
// small records around it, under the strong tier's 1.5 MiB request
// bound. Recovery reads every active saga per scan and every owner
// deletion per executor: its cost is O(executors x active sagas).
//
// # Observability
//
// Metrics (ExecutorConfig.Registerer): cairn_saga_sagas_started_total,
// _completed_total, _compensated_total and _failed_total (by definition);
// cairn_saga_step_attempts_total (by kind and result: ok, transient,
// permanent, timeout, panic) and cairn_saga_step_duration_seconds;
// cairn_saga_owned (sagas running here); cairn_saga_claims_total (by how:
// submit, watch, scan, adopt); cairn_saga_fenced_writes_total;
// cairn_saga_log_write_retries_total; cairn_saga_lease_lost_total;
// cairn_saga_runner_errors_total. Logs are slog records with the
// executor, saga, step and attempt.
//
// # Testing crashes
//
// ExecutorConfig.CrashHook is asked at every crash point (Point: each
// step boundary, each gap between a call and its log write, before the
// first and the final write). Returning true stops the executor dead:
// no further write, no release, no revoke; its keepalives stop and its
// lease expires as a dead process's would. The tests crash an executor at
// every point of three kinds of run and check that another executor
// finishes every saga with each effect applied once
// (TestCrashAtEveryPoint), chain random crashes of successive executors
// (TestCrashChain), and show a stale executor's write refused
// (TestStaleExecutorIsFenced). examples/booking runs the guide's booking
// saga against a `cairn dev` cluster with a flag that ends the process
// mid-saga.
package saga
