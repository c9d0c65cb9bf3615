// Package breaker implements a circuit breaker: a guard in front of calls
// to one dependency (a peer node, a disk, a service) that stops calling it
// while it is failing, so that callers fail fast instead of piling up
// behind timeouts, and the dependency gets room to recover.
//
// The pattern is Michael T. Nygard's, from "Release It!" (Pragmatic
// Bookshelf, 2007; 2nd ed. 2018), chapter "Stability Patterns": a breaker
// is closed while calls succeed, opens when they fail too much, and after a
// while lets a few trial calls through (half-open) to decide whether to
// close again or stay open.
//
//	         failures ≥ ConsecutiveFailures,
//	         or failure rate ≥ FailureRate
//	Closed ─────────────────────────────────▶ Open ◀──────┐
//	  ▲                                        │           │ a probe fails
//	  │ ProbeSuccesses successes               │ open      │ or times out
//	  │                                        ▼ duration  │ (open duration
//	  └──────────────────────────────────── HalfOpen ──────┘  × OpenBackoff)
//	                                      (≤ MaxProbes in flight)
//
// Use Do to wrap a call, or Allow and Permit.Done to split it. Every
// transition starts a new generation, so outcomes of calls that began
// before it cannot move the new state. Time is read through the injected
// Config.Now, so tests drive the breaker with a fake clock and never
// sleep.
//
// HAZARD: treating the caller's errors as the dependency's failures. A
// "not found", an invalid argument or a caller's own cancellation says
// nothing about the dependency's health; counting it as a failure lets one
// bad client open the breaker for everyone. DefaultClassify ignores
// context.Canceled; supply a Classify that counts such answers as Success.
//
// HAZARD: thundering herd on close. When a breaker closes, every caller
// that was failing fast calls at once. MaxProbes and ProbeSuccesses make
// closing wait for several successful trials, but the first closed
// moments still see the whole backlog: callers should retry with jittered
// backoff, not in a tight loop on ErrOpen.
//
// HAZARD: synchronized probes. Breakers in many nodes that opened at the
// same moment turn half-open at the same moment. The probe cap bounds the
// load per breaker, not across the cluster; OpenBackoff spreads repeated
// tests, and jitter at the caller spreads the rest.
//
// HAZARD: an unreported permit. A caller that takes a permit and never
// reports it loses nothing in the closed state, but a probe holds a
// half-open slot: ProbeTimeout bounds that, counting the probe as a failure
// (a hung call is the dependency's fault). Set ProbeTimeout above the
// call's own deadline, or slow successes count as failures.
//
// HAZARD: one breaker for many dependencies. A breaker per peer (or per
// peer and operation class) is the unit of isolation: one shared by all
// peers opens for everyone when one peer dies, and one per request type on
// the same peer may hide that the peer is gone.
//
// HAZARD: retries inside the guarded call multiply its load and hide
// failures from the breaker; retry around the breaker, not inside it.
//
// HAZARD: low traffic. The failure rate needs MinCalls outcomes in the
// window; with fewer calls only ConsecutiveFailures can trip the breaker.
// A breaker's closed state proves nothing about a dependency it has not
// called lately.
//
// HAZARD: flapping. Closing resets the backoff, so a dependency that
// passes its tests and fails again at once opens for the base
// OpenDuration each time; OnStateChange metrics (transitions per minute)
// are how to see it.
//
// HAZARD: a stepped clock. Config.Now should be monotonic: a clock that
// jumps back keeps a breaker open longer and can drop outcomes from the
// rate window; one that jumps forward ends open periods early.
package breaker
