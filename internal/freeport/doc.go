// Package freeport picks loopback ports for the servers that tests,
// `cairn verify` and `cairn bench` start.
//
// Ports are drawn at random below the kernel's ephemeral range, not from
// it. A port the kernel hands out for a listen on :0 is one it also hands
// out as the local port of outgoing connections; with many clients running
// at once, one of those took a member's port between the pick and the
// member's bind (CI failed on exactly that). HAZARD: a picked port is still
// released before the server binds it, so another process may take it in
// between; callers that must not fail on a busy machine retry.
package freeport
