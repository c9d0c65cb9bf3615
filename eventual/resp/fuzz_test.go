package resp

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
)

// fuzzLimits are small, so that fuzzed inputs reach every bound.
var fuzzLimits = Limits{MaxArgs: 16, MaxBulkBytes: 256, MaxInlineBytes: 128, MaxCommandBytes: 1024}

const fuzzBufBytes = 64

// readAllBounded parses src like readAll, checking after every call that
// the Reader holds no more memory than its bounds allow.
func readAllBounded(t *testing.T, src io.Reader, lim Limits, unauth bool) parsed {
	r := NewReader(src, fuzzBufBytes, lim)
	r.unauth = unauth
	bufMax := max(fuzzBufBytes, 2*(lim.MaxCommandBytes+lim.MaxInlineBytes+2))
	argsMax := 2 * max(lim.MaxArgs, lim.MaxInlineBytes)
	var p parsed
	for {
		args, err := r.ReadCommand()
		if len(r.buf) > bufMax {
			t.Fatalf("read buffer of %d bytes, bound %d", len(r.buf), bufMax)
		}
		if cap(r.spans) > argsMax || cap(r.args) > argsMax {
			t.Fatalf("argument tables of %d/%d, bound %d", cap(r.spans), cap(r.args), argsMax)
		}
		if !(0 <= r.start && r.start <= r.pos && r.pos <= r.end && r.end <= len(r.buf)) {
			t.Fatalf("indexes out of order: start %d pos %d end %d len %d", r.start, r.pos, r.end, len(r.buf))
		}
		if err != nil {
			p.err = err
			return p
		}
		if len(args) == 0 {
			t.Fatal("an empty command was returned")
		}
		cmd := make([]string, len(args))
		for i, a := range args {
			if cap(a) != len(a) {
				t.Fatalf("argument %d has capacity %d beyond its length %d", i, cap(a), len(a))
			}
			cmd[i] = string(a)
		}
		p.cmds = append(p.cmds, cmd)
	}
}

// chunkReader returns its input n bytes at a time.
type chunkReader struct {
	rest []byte
	n    int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.rest) == 0 {
		return 0, io.EOF
	}
	n := min(len(p), len(c.rest), c.n)
	copy(p, c.rest[:n])
	c.rest = c.rest[n:]
	return n, nil
}

func addReaderSeeds(f *testing.F) {
	for _, s := range []string{
		cmd("SET", "k", "v") + cmd("GET", "k"),
		"PING\r\nSET \"a b\" 'c\\'d'\r\nECHO \"\\x41\\n\"\n",
		"*0\r\n*-1\r\n" + cmd("PING"),
		"*1\r\n$4\r\nPINGxx",
		"*2\r\n$3\r\nGET\r\nx\r\n",
		"*17\r\n",
		"*1\r\n$257\r\n",
		"*abc\r\n", "*1\r\n$-1\r\n", "PING \"a\r\n", "*1\r\n\n",
		strings.Repeat("a", 200), "*1\r\n$" + strings.Repeat("1", 200),
		cmd("SET", strings.Repeat("k", 200), strings.Repeat("v", 250)),
	} {
		f.Add([]byte(s), uint8(1))
		f.Add([]byte(s), uint8(7))
	}
	for _, sc := range oracleScripts() {
		if len(sc.in) < 4096 {
			f.Add([]byte(sc.in), uint8(3))
		}
	}
}

// FuzzReader: whatever the input, the Reader does not panic, stays within
// its bounds, parses the same however the input is split into reads, and
// every command it returns survives a round trip through the Writer.
func FuzzReader(f *testing.F) {
	addReaderSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte, chunk uint8) {
		whole := readAllBounded(t, bytes.NewReader(data), fuzzLimits, false)
		chunked := readAllBounded(t, &chunkReader{rest: data, n: int(chunk%32) + 1}, fuzzLimits, false)
		if !whole.equal(chunked) {
			t.Fatalf("read whole: %v\nin chunks of %d: %v", whole, chunk%32+1, chunked)
		}
		readAllBounded(t, bytes.NewReader(data), fuzzLimits, true)

		for _, c := range whole.cmds {
			var buf bytes.Buffer
			w := NewWriter(&buf, 64)
			w.ArrayLen(len(c))
			for _, a := range c {
				w.BulkString(a)
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			back := readAll(&buf, 64, DefaultLimits(), false)
			if back.err != io.EOF || len(back.cmds) != 1 || !slices.Equal(back.cmds[0], c) {
				t.Fatalf("%q encoded as %q parsed back as %v", c, buf.String(), back)
			}
		}
	})
}

// FuzzRoundTrip: any arguments, written by the Writer as a multibulk
// command, or as an inline command with every byte quoted, parse back to
// themselves.
func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte("SET k v"), byte(' '))
	f.Add([]byte("a\r\nb\x00c\"d'e"), byte('\n'))
	f.Add([]byte(""), byte(0))
	f.Fuzz(func(t *testing.T, data []byte, sep byte) {
		if len(data) > 4096 {
			data = data[:4096] // quoted inline, 4 bytes a byte: within MaxInlineBytes
		}
		args := bytes.Split(data, []byte{sep})
		if len(args) > 64 {
			args = args[:64]
		}
		var buf bytes.Buffer
		w := NewWriter(&buf, 64)
		w.ArrayLen(len(args))
		for _, a := range args {
			w.Bulk(a)
		}
		var line strings.Builder
		for _, a := range args {
			line.WriteString(` "`)
			for _, c := range a {
				fmt.Fprintf(&line, `\x%02x`, c)
			}
			line.WriteString(`"`)
		}
		line.WriteString("\r\n")
		w.Flush()
		want := make([]string, len(args))
		for i, a := range args {
			want[i] = string(a)
		}
		for _, in := range []string{buf.String(), line.String()} {
			back := readAll(strings.NewReader(in), 64, DefaultLimits(), false)
			if back.err != io.EOF || len(back.cmds) != 1 || !slices.Equal(back.cmds[0], want) {
				t.Fatalf("%q sent as %q parsed back as %v", want, in, back)
			}
		}
	})
}

// FuzzWriter: a reply tree built from the input, written by the Writer in
// RESP2 and RESP3, decodes to the same tree, and counts as one reply.
func FuzzWriter(f *testing.F) {
	f.Add([]byte{5, 2, 0, 1, 3, 4, 2})
	f.Add([]byte{6, 1, 8, 9, 10, 11, 7, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, proto := range []int{2, 3} {
			var buf bytes.Buffer
			w := NewWriter(&buf, 64)
			w.SetProtocol(proto)
			rest := data
			want := writeTree(w, &rest, 0)
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			if w.replies != 1 || !w.complete() {
				t.Fatalf("RESP%d: %d replies counted, complete %v", proto, w.replies, w.complete())
			}
			got, err := readReply(bufio.NewReader(&buf))
			if err != nil {
				t.Fatalf("RESP%d: decode: %v", proto, err)
			}
			if got.String() != want(proto) {
				t.Fatalf("RESP%d: decoded %s, want %s", proto, got, want(proto))
			}
		}
	})
}

// writeTree writes one value chosen by the next byte of *data and returns
// what it should decode to in a given protocol.
func writeTree(w *Writer, data *[]byte, depth int) func(proto int) string {
	next := func() byte {
		if len(*data) == 0 {
			return 0
		}
		b := (*data)[0]
		*data = (*data)[1:]
		return b
	}
	op := next()
	if depth >= 4 {
		op %= 5 // no deeper aggregates
	}
	switch op % 12 {
	case 0:
		w.SimpleString("s")
		return func(int) string { return `+"s"` }
	case 1:
		w.Error("bad thing")
		return func(int) string { return `-"ERR bad thing"` }
	case 2:
		n := int64(next()) - 128
		w.Integer(n)
		return func(int) string { return fmt.Sprintf(":%q", fmt.Sprint(n)) }
	case 3:
		s := strings.Repeat("b", int(next()))
		w.BulkString(s)
		return func(int) string { return fmt.Sprintf("$%q", s) }
	case 4:
		w.Null()
		return func(proto int) string { return map[int]string{2: "$null", 3: "_null"}[proto] }
	case 5, 6, 7:
		n := int(next() % 4)
		typ := map[byte]string{5: "*", 6: "%", 7: "~"}[op%12]
		switch typ {
		case "*":
			w.ArrayLen(n)
		case "%":
			w.MapLen(n)
		case "~":
			w.SetLen(n)
		}
		elems := n
		if typ == "%" {
			elems = 2 * n
		}
		var subs []func(int) string
		for range elems {
			subs = append(subs, writeTree(w, data, depth+1))
		}
		return func(proto int) string {
			t := typ
			if proto == 2 {
				t = "*"
			}
			parts := make([]string, len(subs))
			for i, s := range subs {
				parts[i] = s(proto)
			}
			return t + "[" + strings.Join(parts, " ") + "]"
		}
	case 8:
		f := float64(next()) / 4
		w.Double(f)
		s := string(appendDouble(nil, f))
		return func(proto int) string {
			if proto == 3 {
				return fmt.Sprintf(",%q", s)
			}
			return fmt.Sprintf("$%q", s)
		}
	case 9:
		b := next()%2 == 0
		w.Bool(b)
		return func(proto int) string {
			if proto == 3 {
				return map[bool]string{true: `#"t"`, false: `#"f"`}[b]
			}
			return map[bool]string{true: `:"1"`, false: `:"0"`}[b]
		}
	case 10:
		w.Verbatim("txt", []byte("v"))
		return func(proto int) string { return map[int]string{2: `$"v"`, 3: `="txt:v"`}[proto] }
	default:
		w.NullArray()
		return func(proto int) string { return map[int]string{2: "*null", 3: "_null"}[proto] }
	}
}
