// Package resp serves the Redis protocol (RESP2, and RESP3 after HELLO 3)
// for cairn's eventual tier, so that redis-cli, redis-benchmark and Redis
// client libraries (go-redis, redis-py, ...) work against cairn unchanged.
// It knows nothing of keys and values: it parses commands, answers the
// connection commands itself, and hands every other command to a Handler.
//
// # Shape
//
//	accept ──▶ MaxClients? ── over: "-ERR max number of clients reached", close
//	   │
//	   ▼ one goroutine per connection (Go's netpoller multiplexes them)
//	Reader.ReadCommand ──▶ dispatch ──▶ connection command (PING, HELLO, CLIENT, ...)
//	   ▲  (flush before        │    └──▶ Handler.ServeRESP(w, req)  (data commands)
//	   │   blocking)           ▼
//	   └──────────────── Writer (buffered; flushed when the input is drained)
//
// Pipelining falls out of the loop: the Reader returns the commands already
// in its buffer without reading, their replies pile up in the Writer, and
// the replies are flushed only when the Reader is about to block for more
// input (or after MaxPipeline replies, or when the write buffer fills). A
// pipeline of 16 commands costs one read and one write, which is what makes
// redis-benchmark -P 16 fast. Commands of one connection execute one at a
// time, in order; connections run in parallel.
//
// # Reader
//
// The Reader parses multibulk commands ("*<n>\r\n$<len>\r\n<bytes>\r\n...")
// and inline commands ("SET k v\r\n", with redis-cli's quoting rules: see
// splitInline). Arguments are slices of the read buffer: no copy and no
// allocation per command, valid until the next command is read. A command
// that arrives over several reads is parsed incrementally (argument
// offsets are kept relative to the command's start, so the buffer can be
// compacted or grown underneath), never rescanned from its start.
//
// # Bounds
//
// Limits are checked against declared sizes before anything is allocated
// for them, and memory follows the bytes that actually arrive:
//
//	Limits.MaxArgs (1Mi)           "*<n>" over it: invalid multibulk length
//	Limits.MaxBulkBytes (64 MiB)   "$<n>" over it: invalid bulk length
//	Limits.MaxInlineBytes (64 KiB) a line over it: too big inline request
//	Limits.MaxCommandBytes (128 MiB) one command over it: too big command
//	(unauthenticated, as Redis)    over 10 args or 16 KiB bulks
//	MaxClients (10000)             over it: refused with Redis's error
//	IdleTimeout (0 = never)        silent client closed
//	WriteTimeout (60 s)            client that reads nothing closed
//	MaxPipeline (1024)             replies flushed after this many
//
// The read buffer (ReadBufferBytes, 16 KiB) grows by doubling only when a
// single partial command fills it, never beyond what that command is known
// to need, so a client declaring a 60 MiB bulk and sending 10 bytes costs
// 16 KiB; it is bounded by about twice MaxCommandBytes + MaxInlineBytes,
// and shrinks back after the large command. Argument tables grow as
// arguments arrive, never to the declared count. Write buffers come from a
// pool and go back to it while a connection waits for input, so idle
// connections hold a read buffer only.
//
// A malformed request gets Redis's reply, word for word ("-ERR Protocol
// error: invalid bulk length", "... expected '$', got 'x'", "... unbalanced
// quotes in request", ...) after the replies to the commands before it,
// and the connection is closed, as Redis does: the rest of the stream
// cannot be framed. The server half-closes and drains the socket briefly
// first, so that the reply is not destroyed by a reset.
//
// # Writer
//
// Writer encodes every RESP3 type and downgrades each on a RESP2
// connection as Redis does (a map becomes a flat array, a double a bulk
// string, a boolean 1 or 0, a null "$-1" or "*-1", a verbatim string a bulk
// string). Errors follow Redis's code convention: the message starts with
// an upper-case code (ERR, WRONGTYPE, NOSCRIPT, ...), and ERR is supplied
// if it does not. The Msg* constants and functions give Redis's own texts
// (MsgWrongArgs, MsgUnknownCommand, MsgWrongType, ...). The Writer counts
// the replies written: a handler that writes none, or two, would shift
// every later reply onto the wrong command, so the server closes that
// connection and logs the bug (cairn_resp_handler_faults_total).
//
// # Commands
//
// The server answers the connection commands: PING, ECHO, QUIT, SELECT (db
// 0 only), AUTH, HELLO (the Redis 7 map: server, version, proto, id, mode,
// role, modules), RESET, CLIENT ID|GETNAME|SETNAME|INFO|LIST|SETINFO|NO-EVICT|NO-TOUCH|HELP,
// and COMMAND [COUNT|INFO|DOCS|LIST|HELP]; and closes on "POST" and
// "Host:", an HTTP request sent to the port, as Redis does. A CommandTable
// describes the data commands (name, Redis arity, flags, key positions,
// docs, and optionally a Func): the server checks arity before the handler
// is called, labels metrics with registered names only ("other" for the
// rest, so label cardinality stays bounded), and answers COMMAND from it.
// Names match in any case without allocating. Unknown commands reach the
// Handler with Request.Cmd nil: the handler decides (CommandTable answers
// MsgUnknownCommand, Redis's exact text). The checks run in Redis's order:
// unknown command, arity, authentication.
//
// # Metrics and logs
//
// cairn_resp_connected_clients, _connections_accepted_total,
// _connections_rejected_total (MaxClients), _protocol_errors_total,
// _handler_faults_total, _read_bytes_total, _written_bytes_total,
// _commands_total{command,result} and _command_duration_seconds{command}.
// A command's duration runs from the end of the previous command (or of
// the read or flush after it) to its reply being buffered: one clock read
// per command, which on a slow clock costs as much as a small command.
// Protocol errors, refused connections and handler faults are logged at
// most once per LogInterval each, with the number held back.
//
// # Deviations from Redis
//
//   - A bulk not followed by CRLF is a protocol error ("expected CRLF after
//     bulk data"); Redis skips two bytes unchecked.
//   - A command over MaxCommandBytes gets "-ERR Protocol error: too big
//     command"; Redis closes silently at its query buffer limit.
//   - The inline and header line bound holds whatever the read split;
//     Redis accepts a longer line if it arrived in one read.
//   - A header line ("*3", "$5") ends at LF and must end in CRLF; Redis
//     looks for the CR and waits for more input after a bare LF.
//   - NUL is an ordinary byte in an inline command; in Redis it ends the
//     line (which then waits for more input).
//   - Only the default user exists; Config.Password is its password.
//   - CLIENT INFO and LIST list only the fields cairn keeps.
//
// HAZARD: Request.Args alias the read buffer. A handler that stores a key
// or value, or hands it to another goroutine, must copy it first; the
// bytes are overwritten by later commands. The slices' capacity equals
// their length, so an append copies rather than overwrites the next
// argument.
//
// HAZARD: a handler call blocks its connection. Commands of a connection
// execute in order, so a handler that waits (for a quorum of replicas)
// holds up the commands pipelined behind it, though not other
// connections. It must return when Conn.Context is done, or Close waits
// for it.
//
// HAZARD: a handler panic is not recovered: it is a bug, and crashes the
// process rather than leave shared state half-changed.
package resp
