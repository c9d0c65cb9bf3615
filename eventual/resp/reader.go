package resp

import (
	"bytes"
	"errors"
	"io"
)

// ProtocolError is a request that breaks the protocol or a Limit. Its
// text is Redis's: the server replies "-ERR " followed by Error(), then
// closes the connection, because the rest of the stream cannot be framed.
type ProtocolError struct {
	msg string
}

// Error returns Redis's text: "Protocol error: " and what is wrong.
func (e *ProtocolError) Error() string { return "Protocol error: " + e.msg }

func protocolError(msg string) *ProtocolError { return &ProtocolError{msg: msg} }

// Protocol errors, in Redis's words (networking.c) where Redis has one.
var (
	errInlineTooBig     = protocolError("too big inline request")
	errUnbalancedQuotes = protocolError("unbalanced quotes in request")
	errMbulkCountTooBig = protocolError("too big mbulk count string")
	errInvalidMbulkLen  = protocolError("invalid multibulk length")
	errUnauthMbulkLen   = protocolError("unauthenticated multibulk length")
	errBulkCountTooBig  = protocolError("too big bulk count string")
	errInvalidBulkLen   = protocolError("invalid bulk length")
	errUnauthBulkLen    = protocolError("unauthenticated bulk length")
	errCommandTooBig    = protocolError("too big command")               // cairn's: Redis closes silently at its query buffer limit
	errMissingCRLFAfter = protocolError("expected CRLF after bulk data") // cairn's: Redis skips two bytes unchecked
	errNoProgress       = errors.New("resp: reader made no progress (repeated empty reads)")
)

// Bounds Redis applies before a client has authenticated (networking.c),
// so that an unauthenticated client cannot make the server allocate.
const (
	unauthMaxArgs      = 10
	unauthMaxBulkBytes = 16384
)

// maxEmptyReads is how many reads returning no bytes and no error the
// Reader tolerates in a row (as bufio does) before it gives up.
const maxEmptyReads = 100

// argTableShrink is the argument-table capacity above which the tables
// are dropped after the command that grew them, so that one huge command
// does not pin its table for the connection's lifetime.
const argTableShrink = 4096

// span is an argument's place in the current command, relative to the
// command's first byte, so that it survives the buffer being compacted or
// grown while the command is still arriving.
type span struct{ lo, hi int }

// Reader parses commands from a byte stream: RESP multibulk commands
// ("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", what client libraries send) and
// inline commands ("GET k\r\n", what telnet and redis-cli's stdin mode
// send). Parsing is zero-copy and resumable: the arguments are slices of
// the Reader's buffer, and a command that arrives in pieces is parsed once,
// not again from its start after each read. Not safe for concurrent use.
type Reader struct {
	src  io.Reader
	lim  Limits
	size int // initial buffer size, and what the buffer shrinks back to

	// buf[start:end] has been read and not yet consumed; start is the
	// first byte of the command being parsed, pos the next byte to parse.
	// Invariant: 0 <= start <= pos <= end <= len(buf).
	buf             []byte
	start, pos, end int
	// scanned is how many bytes from pos are known to hold no '\n', so
	// that a header line arriving a byte at a time is scanned once.
	scanned int

	// The multibulk command being parsed, if nargs > 0: its declared
	// argument count, the arguments parsed so far, and the length of the
	// bulk whose data is awaited (-1 while its header is awaited).
	nargs int
	bulk  int
	spans []span
	args  [][]byte

	// unauth applies Redis's bounds for unauthenticated clients.
	unauth bool
	// beforeFill runs before every read from src (the server flushes
	// replies there, so that nothing waits while it blocks); an error
	// stops the Reader as a read error would.
	beforeFill func() error

	err       error // sticky error from src
	perr      *ProtocolError
	bytesRead int64
}

// NewReader returns a Reader over src with a read buffer of bufBytes that
// grows only as a large command needs it, within lim.
func NewReader(src io.Reader, bufBytes int, lim Limits) *Reader {
	bufBytes = max(bufBytes, minBufferBytes)
	return &Reader{src: src, lim: lim, size: bufBytes, buf: make([]byte, bufBytes), bulk: -1}
}

// ReadCommand returns the next command's arguments, the command name
// first; never an empty command (Redis skips "*0\r\n" and blank inline
// lines, and so does the Reader). The slices alias the Reader's buffer:
// they are valid until the next call, and a caller that keeps one must
// copy it. Their capacity is their length, so an append copies.
//
// The error is a *ProtocolError for a malformed request (every later call
// returns it again); io.EOF when the stream ends between commands;
// io.ErrUnexpectedEOF when it ends inside one; or the source's error.
func (r *Reader) ReadCommand() ([][]byte, error) {
	if r.perr != nil {
		return nil, r.perr
	}
	for {
		args, perr := r.parse()
		if perr != nil {
			r.perr = perr
			return nil, perr
		}
		if args != nil {
			return args, nil
		}
		if r.err != nil {
			if r.err == io.EOF && r.start < r.end {
				return nil, io.ErrUnexpectedEOF
			}
			return nil, r.err
		}
		r.fill()
	}
}

// Buffered returns the bytes read and not yet returned as commands.
func (r *Reader) Buffered() int { return r.end - r.start }

// BytesRead returns the bytes read from the source so far.
func (r *Reader) BytesRead() int64 { return r.bytesRead }

// parse returns the next complete command in the buffer, or nil if the
// buffer holds none yet.
func (r *Reader) parse() ([][]byte, *ProtocolError) {
	for {
		if r.nargs == 0 {
			if cap(r.args) > argTableShrink {
				r.args, r.spans = nil, nil
			}
			if r.pos == r.end {
				return nil, nil
			}
			if r.buf[r.pos] != '*' {
				args, more, err := r.parseInline()
				if err != nil || more {
					return nil, err
				}
				if len(args) == 0 {
					continue
				}
				return args, nil
			}
			n, more, err := r.header('*', errMbulkCountTooBig, errInvalidMbulkLen)
			if err != nil || more {
				return nil, err
			}
			switch {
			case n > int64(r.lim.MaxArgs):
				return nil, errInvalidMbulkLen
			case r.unauth && n > unauthMaxArgs:
				return nil, errUnauthMbulkLen
			case n <= 0:
				r.start = r.pos // an empty command: Redis ignores it
				continue
			}
			// Tables grow as arguments arrive, never to the declared count.
			r.nargs, r.bulk, r.spans = int(n), -1, r.spans[:0]
		}
		for len(r.spans) < r.nargs {
			if r.bulk < 0 {
				n, more, err := r.header('$', errBulkCountTooBig, errInvalidBulkLen)
				if err != nil || more {
					return nil, err
				}
				switch {
				case n < 0 || n > int64(r.lim.MaxBulkBytes):
					return nil, errInvalidBulkLen
				case r.unauth && n > unauthMaxBulkBytes:
					return nil, errUnauthBulkLen
				case int64(r.pos-r.start)+n+2 > int64(r.lim.MaxCommandBytes):
					return nil, errCommandTooBig
				}
				r.bulk = int(n)
			}
			if r.end-r.pos < r.bulk+2 {
				return nil, nil
			}
			if r.buf[r.pos+r.bulk] != '\r' || r.buf[r.pos+r.bulk+1] != '\n' {
				return nil, errMissingCRLFAfter
			}
			lo := r.pos - r.start
			r.spans = append(r.spans, span{lo, lo + r.bulk})
			r.pos += r.bulk + 2
			r.bulk = -1
		}
		args := r.argsFromSpans()
		r.start, r.nargs = r.pos, 0
		return args, nil
	}
}

// header parses a "*<n>\r\n" or "$<n>\r\n" line at pos (typ is '*' or
// '$'), advancing pos past it. more reports that the line is not complete
// yet. As Redis, it looks at the type byte only once the line is whole.
func (r *Reader) header(typ byte, tooBig, invalid *ProtocolError) (n int64, more bool, err *ProtocolError) {
	line, next, more, err := r.line(tooBig)
	if err != nil || more {
		return 0, more, err
	}
	if c := r.buf[r.pos]; c != typ {
		return 0, false, protocolError("expected '" + string(typ) + "', got '" + string([]byte{sanitizeByte(c)}) + "'")
	}
	if len(line) < 2 || line[len(line)-1] != '\r' {
		return 0, false, invalid
	}
	n, ok := parseInt(line[1 : len(line)-1])
	if !ok {
		return 0, false, invalid
	}
	r.pos, r.scanned = next, 0
	return n, false, nil
}

// line finds the line at pos: the bytes before the next '\n' (a '\r'
// included), and the index after the '\n'. A line longer than
// MaxInlineBytes is tooBig, whether or not its end has arrived, so that
// the outcome does not depend on how the stream was split into reads.
func (r *Reader) line(tooBig *ProtocolError) (line []byte, next int, more bool, err *ProtocolError) {
	from := r.pos + r.scanned
	i := bytes.IndexByte(r.buf[from:r.end], '\n')
	if i < 0 {
		r.scanned = r.end - r.pos
		if r.scanned > r.lim.MaxInlineBytes {
			return nil, 0, false, tooBig
		}
		return nil, 0, true, nil
	}
	n := r.scanned + i
	if n > r.lim.MaxInlineBytes {
		return nil, 0, false, tooBig
	}
	return r.buf[r.pos : r.pos+n], r.pos + n + 1, false, nil
}

// parseInline parses an inline command at pos, unescaping its quoted
// arguments in place. It may return an empty command (a blank line).
func (r *Reader) parseInline() (args [][]byte, more bool, err *ProtocolError) {
	line, next, more, err := r.line(errInlineTooBig)
	if err != nil || more {
		return nil, more, err
	}
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	spans, ok := splitInline(line, r.spans[:0])
	r.spans = spans
	if !ok {
		return nil, false, errUnbalancedQuotes
	}
	args = r.argsFromSpans()
	r.pos, r.scanned = next, 0
	r.start = r.pos
	return args, false, nil
}

// argsFromSpans turns the spans of the command at start into slices of
// the buffer, each capped at its length.
func (r *Reader) argsFromSpans() [][]byte {
	args := r.args[:0]
	base := r.buf[r.start:]
	for _, s := range r.spans {
		args = append(args, base[s.lo:s.hi:s.hi])
	}
	r.args = args
	return args
}

// fill reads more bytes, first making room: it moves the unconsumed bytes
// to the front, shrinks a buffer grown by an earlier large command, and
// grows a full one geometrically (doubling, but never beyond what the
// current command is known to need), so that a declared length costs
// memory only as its bytes arrive.
func (r *Reader) fill() {
	if r.beforeFill != nil {
		if err := r.beforeFill(); err != nil {
			r.err = err
			return
		}
	}
	if r.start > 0 {
		n := copy(r.buf, r.buf[r.start:r.end])
		r.pos -= r.start
		r.start, r.end = 0, n
	}
	need := 0 // bytes the current command is known to need, 0 if unknown
	if r.nargs > 0 && r.bulk >= 0 {
		need = r.pos + r.bulk + 2
	}
	if len(r.buf) > r.size && r.end < r.size && need <= r.size {
		r.resize(r.size)
	}
	if r.end == len(r.buf) {
		grown := 2 * len(r.buf)
		if need > r.end && need < grown {
			grown = need
		}
		r.resize(grown)
	}
	for range maxEmptyReads {
		n, err := r.src.Read(r.buf[r.end:])
		r.end += n
		r.bytesRead += int64(n)
		if err != nil {
			r.err = err
			return
		}
		if n > 0 {
			return
		}
	}
	r.err = errNoProgress
}

func (r *Reader) resize(n int) {
	b := make([]byte, n)
	copy(b, r.buf[:r.end])
	r.buf = b
}

// parseInt parses a decimal integer as Redis's string2ll does: an optional
// '-', no '+', no leading zeros, no spaces, within int64.
func parseInt(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	if len(b) == 1 && b[0] == '0' {
		return 0, true
	}
	neg := b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || b[0] < '1' || b[0] > '9' {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if v > (1<<64-1-d)/10 {
			return 0, false
		}
		v = v*10 + d
	}
	if neg {
		if v > 1<<63 {
			return 0, false
		}
		return -int64(v), true // -(1<<63) wraps to itself, as intended
	}
	if v > 1<<63-1 {
		return 0, false
	}
	return int64(v), true
}

// sanitizeByte maps the bytes that would break an error line to a space,
// as Redis does to its error replies.
func sanitizeByte(c byte) byte {
	if c == '\r' || c == '\n' {
		return ' '
	}
	return c
}
