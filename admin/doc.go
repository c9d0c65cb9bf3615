// Package admin serves a node's HTTP endpoints on --listen-http: /health
// (etcd's JSON form, so etcd health checkers work), /livez and /readyz (or
// /ready), /metrics for Prometheus, /version, /debug/pprof, and extra
// handlers a node registers (the fault-injection hook, when enabled).
//
// Liveness says the process serves HTTP; readiness says the node can
// answer clients (it has joined, knows a leader, and no alarm forbids
// writes). A node that cannot serve says why in the response body.
package admin
