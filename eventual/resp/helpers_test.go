package resp

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// ---- a RESP reply decoder, independent of the package's encoder ----

// reply is a decoded reply: its type byte and either its text (simple,
// error, integer, bulk, double, boolean, verbatim) or its elements.
type reply struct {
	typ   byte
	text  string
	elems []reply
	null  bool
}

func (r reply) String() string {
	if r.null {
		return string(r.typ) + "null"
	}
	if r.elems != nil || strings.ContainsRune("*%~>", rune(r.typ)) {
		parts := make([]string, len(r.elems))
		for i, e := range r.elems {
			parts[i] = e.String()
		}
		return string(r.typ) + "[" + strings.Join(parts, " ") + "]"
	}
	return string(r.typ) + strconv.Quote(r.text)
}

// readReply decodes one reply, strictly: a malformed one is an error.
func readReply(br *bufio.Reader) (reply, error) {
	line, err := br.ReadString('\n')
	if err != nil {
		return reply{}, err
	}
	if len(line) < 3 || line[len(line)-2] != '\r' {
		return reply{}, fmt.Errorf("malformed line %q", line)
	}
	typ, body := line[0], line[1:len(line)-2]
	switch typ {
	case '+', '-', ':', ',', '#':
		return reply{typ: typ, text: body}, nil
	case '_':
		return reply{typ: typ, null: true}, nil
	case '$', '=':
		n, err := strconv.Atoi(body)
		if err != nil {
			return reply{}, fmt.Errorf("bad length %q", body)
		}
		if n < 0 {
			return reply{typ: typ, null: true}, nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(br, buf); err != nil {
			return reply{}, err
		}
		if string(buf[n:]) != "\r\n" {
			return reply{}, errors.New("bulk not followed by CRLF")
		}
		return reply{typ: typ, text: string(buf[:n])}, nil
	case '*', '%', '~', '>':
		n, err := strconv.Atoi(body)
		if err != nil {
			return reply{}, fmt.Errorf("bad count %q", body)
		}
		if n < 0 {
			return reply{typ: typ, null: true}, nil
		}
		if typ == '%' {
			n *= 2
		}
		out := reply{typ: typ, elems: []reply{}}
		for range n {
			e, err := readReply(br)
			if err != nil {
				return reply{}, err
			}
			out.elems = append(out.elems, e)
		}
		return out, nil
	}
	return reply{}, fmt.Errorf("unknown type %q", typ)
}

// ---- the toy handler: GET, SET, INCR, DEL, MGET over a map ----

type toyStore struct {
	mu sync.Mutex
	m  map[string][]byte
}

func newToyTable(t testing.TB) (*CommandTable, *toyStore) {
	t.Helper()
	st := &toyStore{m: make(map[string][]byte)}
	tab := NewCommandTable()
	tab.MustRegister(
		Command{Name: "get", Arity: 2, Flags: FlagReadOnly | FlagFast, FirstKey: 1, LastKey: 1, KeyStep: 1,
			Group: "string", Summary: "Returns the string value of a key.", Since: "1.0.0", Complexity: "O(1)", Func: st.get},
		Command{Name: "SET", Arity: -3, Flags: FlagWrite | FlagDenyOOM, FirstKey: 1, LastKey: 1, KeyStep: 1,
			Group: "string", Func: st.set},
		Command{Name: "incr", Arity: 2, Flags: FlagWrite | FlagDenyOOM | FlagFast, FirstKey: 1, LastKey: 1, KeyStep: 1,
			Group: "string", Func: st.incr},
		Command{Name: "del", Arity: -2, Flags: FlagWrite, FirstKey: 1, LastKey: -1, KeyStep: 1,
			Group: "keyspace", Func: st.del},
		Command{Name: "mget", Arity: -2, Flags: FlagReadOnly | FlagFast, FirstKey: 1, LastKey: -1, KeyStep: 1,
			Group: "string", Func: st.mget},
	)
	return tab, st
}

func (st *toyStore) get(w *Writer, r *Request) {
	st.mu.Lock()
	v, ok := st.m[string(r.Args[1])]
	st.mu.Unlock()
	if !ok {
		w.Null()
		return
	}
	w.Bulk(v)
}

func (st *toyStore) set(w *Writer, r *Request) {
	if len(r.Args) != 3 {
		w.Error(MsgSyntax)
		return
	}
	v := bytes.Clone(r.Args[2]) // the argument aliases the read buffer
	st.mu.Lock()
	st.m[string(r.Args[1])] = v
	st.mu.Unlock()
	w.SimpleString("OK")
}

func (st *toyStore) incr(w *Writer, r *Request) {
	st.mu.Lock()
	defer st.mu.Unlock()
	k := string(r.Args[1])
	n := int64(0)
	if v, ok := st.m[k]; ok {
		var err error
		if n, err = strconv.ParseInt(string(v), 10, 64); err != nil {
			w.Error(MsgNotInteger)
			return
		}
	}
	n++
	st.m[k] = strconv.AppendInt(nil, n, 10)
	w.Integer(n)
}

func (st *toyStore) del(w *Writer, r *Request) {
	st.mu.Lock()
	defer st.mu.Unlock()
	n := 0
	for _, k := range r.Args[1:] {
		if _, ok := st.m[string(k)]; ok {
			delete(st.m, string(k))
			n++
		}
	}
	w.Integer(int64(n))
}

func (st *toyStore) mget(w *Writer, r *Request) {
	st.mu.Lock()
	defer st.mu.Unlock()
	w.ArrayLen(len(r.Args) - 1)
	for _, k := range r.Args[1:] {
		if v, ok := st.m[string(k)]; ok {
			w.Bulk(v)
		} else {
			w.Null()
		}
	}
}

func (st *toyStore) value(k string) (string, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	v, ok := st.m[k]
	return string(v), ok
}

// ---- servers and raw clients ----

type testServer struct {
	*Server
	addr  string
	store *toyStore
	reg   *prometheus.Registry
	done  chan error
}

// startServer serves the toy table on a loopback port; mutate may change
// the config first. The server is closed at the end of the test.
func startServer(t testing.TB, mutate func(*Config)) *testServer {
	t.Helper()
	tab, st := newToyTable(t)
	reg := prometheus.NewRegistry()
	cfg := DefaultConfig()
	cfg.Commands = tab
	cfg.Registerer = reg
	cfg.Logger = quietLogger()
	if mutate != nil {
		mutate(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{Server: s, addr: ln.Addr().String(), store: st, reg: reg, done: make(chan error, 1)}
	go func() { ts.done <- s.Serve(ln) }()
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		select {
		case err := <-ts.done:
			if !errors.Is(err, ErrServerClosed) {
				t.Errorf("Serve returned %v, want ErrServerClosed", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Serve did not return after Close")
		}
	})
	return ts
}

// rawConn is a client speaking raw bytes, with generous deadlines.
type rawConn struct {
	t  testing.TB
	nc net.Conn
	br *bufio.Reader
}

func dial(t testing.TB, addr string) *rawConn {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &rawConn{t: t, nc: nc, br: bufio.NewReader(nc)}
}

func (c *rawConn) send(s string) {
	c.t.Helper()
	c.nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c.nc, s); err != nil {
		c.t.Fatalf("send: %v", err)
	}
}

func (c *rawConn) read() reply {
	c.t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	r, err := readReply(c.br)
	if err != nil {
		c.t.Fatalf("read reply: %v", err)
	}
	return r
}

// expect reads one reply and checks its String form.
func (c *rawConn) expect(want string) {
	c.t.Helper()
	if got := c.read().String(); got != want {
		c.t.Fatalf("reply %s, want %s", got, want)
	}
}

// expectEOF checks that the server closes the connection with nothing
// more to read.
func (c *rawConn) expectEOF() {
	c.t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	b, err := c.br.ReadByte()
	if err == nil {
		rest, _ := c.br.Peek(c.br.Buffered())
		c.t.Fatalf("read %q, want the connection closed", append([]byte{b}, rest...))
	}
	if !errors.Is(err, io.EOF) && !isReset(err) {
		c.t.Fatalf("read error %v, want EOF", err)
	}
}

func isReset(err error) bool {
	return err != nil && strings.Contains(err.Error(), "connection reset")
}

// cmd encodes args as a multibulk command.
func cmd(args ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	return b.String()
}

// ---- metrics ----

// counterValue returns the value of the counter or gauge name with the
// given labels (pairs), or 0 if it has no such series.
func counterValue(t testing.TB, reg *prometheus.Registry, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metric:
		for _, m := range mf.GetMetric() {
			for i := 0; i+1 < len(labels); i += 2 {
				if labelValue(m, labels[i]) != labels[i+1] {
					continue metric
				}
			}
			switch {
			case m.Counter != nil:
				return m.Counter.GetValue()
			case m.Gauge != nil:
				return m.Gauge.GetValue()
			case m.Histogram != nil:
				return float64(m.Histogram.GetSampleCount())
			}
		}
	}
	return 0
}

func labelValue(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// waitFor polls cond until it holds or a generous deadline passes.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// ---- external binaries ----

// quietLogger discards logs below Error, which tests provoke on purpose.
func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}
