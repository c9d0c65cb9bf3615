// Package loglimit keeps a repeating event from flooding the logs: a
// Limiter lets it be logged at most once per interval and counts what it
// held back, so that the next log line can say how many there were. The
// peer transport and the RESP server use it for broken streams, refused
// peers, protocol errors and client floods.
package loglimit
