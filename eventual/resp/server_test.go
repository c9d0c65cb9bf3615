package resp

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairndb/cairn/internal/loglimit"
)

// A pipeline of a thousand mixed commands, multibulk and inline, sent in
// one write, gets its replies in order.
func TestServerPipelineInOrder(t *testing.T) {
	ts := startServer(t, nil)
	c := dial(t, ts.addr)
	var in strings.Builder
	var want []string
	for i := range 1000 {
		j := i / 4
		k, v := "k"+strconv.Itoa(j%7), strconv.Itoa(j)
		switch i % 4 {
		case 0:
			in.WriteString(cmd("SET", k, v))
			want = append(want, `+"OK"`)
		case 1:
			in.WriteString("GET " + k + "\r\n")
			want = append(want, fmt.Sprintf("$%q", v))
		case 2:
			in.WriteString(cmd("INCR", "n"))
			want = append(want, fmt.Sprintf(":%q", strconv.Itoa(j+1)))
		case 3:
			in.WriteString(cmd("ECHO", strconv.Itoa(i)))
			want = append(want, fmt.Sprintf("$%q", strconv.Itoa(i)))
		}
	}
	c.send(in.String())
	for i, w := range want {
		if got := c.read().String(); got != w {
			t.Fatalf("reply %d: %s, want %s", i, got, w)
		}
	}
}

// A protocol error is answered after the replies of the commands before
// it, in Redis's words, and the connection is closed.
func TestServerProtocolErrorClosesAfterReplies(t *testing.T) {
	var logs bytes.Buffer
	ts := startServer(t, func(c *Config) {
		c.Logger = slog.New(slog.NewTextHandler(&lockedWriter{w: &logs}, nil))
	})
	c := dial(t, ts.addr)
	c.send("PING\r\n" + cmd("SET", "a", "1") + "*1\r\nx\r\n" + cmd("PING"))
	c.expect(`+"PONG"`)
	c.expect(`+"OK"`)
	c.expect(`-"ERR Protocol error: expected '$', got 'x'"`)
	c.expectEOF()
	waitFor(t, "the protocol error metric", func() bool {
		return counterValue(t, ts.reg, "cairn_resp_protocol_errors_total") == 1
	})
	waitFor(t, "the log", func() bool {
		return strings.Contains(logs.String(), "protocol error") // the lockedWriter makes this read safe
	})
}

type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestServerQuit(t *testing.T) {
	ts := startServer(t, nil)
	c := dial(t, ts.addr)
	c.send("PING\r\nQUIT\r\nPING\r\n")
	c.expect(`+"PONG"`)
	c.expect(`+"OK"`)
	c.expectEOF()
}

func TestServerMaxClients(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.MaxClients = 2 })
	a, b := dial(t, ts.addr), dial(t, ts.addr)
	for _, c := range []*rawConn{a, b} {
		c.send("PING\r\n")
		c.expect(`+"PONG"`)
	}
	over := dial(t, ts.addr)
	over.expect(`-"ERR max number of clients reached"`)
	over.expectEOF()
	if n := counterValue(t, ts.reg, "cairn_resp_connections_rejected_total"); n != 1 {
		t.Fatalf("%v rejections counted, want 1", n)
	}
	a.nc.Close()
	waitFor(t, "the closed connection to be forgotten", func() bool { return ts.Clients() == 1 })
	again := dial(t, ts.addr)
	again.send("PING\r\n")
	again.expect(`+"PONG"`)
	if g := counterValue(t, ts.reg, "cairn_resp_connected_clients"); g != 2 {
		t.Fatalf("connected clients gauge %v, want 2", g)
	}
}

func TestServerIdleTimeout(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.IdleTimeout = 50 * time.Millisecond })
	c := dial(t, ts.addr)
	c.send("PING\r\n")
	c.expect(`+"PONG"`)
	c.expectEOF() // within expectEOF's 10 s
}

// Close lets a command in progress finish and send its reply, wakes idle
// connections, cancels Conn.Context, and returns once all are done.
func TestServerClose(t *testing.T) {
	started := make(chan struct{})
	var ctxDone atomic.Bool
	h := HandlerFunc(func(w *Writer, r *Request) {
		if string(r.Args[0]) == "WAIT" {
			close(started)
			<-r.Conn.Context().Done()
			ctxDone.Store(true)
			w.SimpleString("cancelled")
			return
		}
		w.SimpleString("OK")
	})
	ts := startServer(t, func(c *Config) { c.Handler = h; c.IdleTimeout = time.Hour })
	idle := dial(t, ts.addr)
	idle.send("PING\r\n")
	idle.expect(`+"PONG"`)
	busy := dial(t, ts.addr)
	busy.send("WAIT\r\nPING\r\n")
	<-started
	closed := make(chan error)
	go func() { closed <- ts.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Close did not return")
	}
	if !ctxDone.Load() {
		t.Fatal("the handler's context was not cancelled")
	}
	busy.expect(`+"cancelled"`) // the reply of the command in progress
	busy.expectEOF()            // the pipelined PING was dropped
	idle.expectEOF()
	if ts.Clients() != 0 {
		t.Fatalf("%d clients after Close", ts.Clients())
	}
	if err := ts.Serve(mustListen(t)); err != ErrServerClosed {
		t.Fatalf("Serve after Close: %v", err)
	}
}

func mustListen(t *testing.T) net.Listener {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

func TestServerStart(t *testing.T) {
	tab, _ := newToyTable(t)
	cfg := DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.Commands = tab
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	c := dial(t, s.Addr().String())
	c.send(cmd("SET", "k", "v") + "GET k\r\n")
	c.expect(`+"OK"`)
	c.expect(`$"v"`)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != ErrServerClosed {
		t.Fatalf("Start after Close: %v", err)
	}
}

func TestServerHelloAndRESP3(t *testing.T) {
	h := HandlerFunc(func(w *Writer, r *Request) {
		if r.Cmd != nil {
			r.Cmd.Func(w, r) // the toy table's GET
			return
		}
		w.MapLen(1)
		w.BulkString("k")
		w.Double(1.5)
	})
	ts := startServer(t, func(c *Config) { c.Handler = h; c.Version = "7.2.4" })
	c := dial(t, ts.addr)
	c.send("MAPPY\r\nGET nosuch\r\nHELLO\r\n")
	c.expect(`*[$"k" $"1.5"]`)
	c.expect(`$null`)
	c.expect(`*[$"server" $"redis" $"version" $"7.2.4" $"proto" :"2" $"id" :"1" $"mode" $"standalone" $"role" $"master" $"modules" *[]]`)
	c.send("HELLO 3 SETNAME app\r\nMAPPY\r\nGET nosuch\r\nCLIENT GETNAME\r\nPING\r\n")
	c.expect(`%[$"server" $"redis" $"version" $"7.2.4" $"proto" :"3" $"id" :"1" $"mode" $"standalone" $"role" $"master" $"modules" *[]]`)
	c.expect(`%[$"k" ,"1.5"]`)
	c.expect(`_null`)
	c.expect(`$"app"`)
	c.expect(`+"PONG"`)
	c.send("HELLO 2\r\nGET nosuch\r\n")
	if r := c.read(); r.typ != '*' {
		t.Fatalf("HELLO 2 replied %s", r)
	}
	c.expect(`$null`)
}

// With a password, only AUTH, HELLO, QUIT and RESET run before it is
// given; the checks come in Redis's order (unknown command, arity, auth).
func TestServerAuth(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.Password = "secret" })
	c := dial(t, ts.addr)
	c.send("GET a\r\nfoo\r\nGET\r\nPING\r\nAUTH wrong\r\nAUTH bob secret\r\nAUTH secret\r\nGET a\r\n")
	c.expect(`-"NOAUTH Authentication required."`)
	c.expect(`-"ERR unknown command 'foo', with args beginning with: "`)
	c.expect(`-"ERR wrong number of arguments for 'get' command"`)
	c.expect(`-"NOAUTH Authentication required."`)
	c.expect(`-"WRONGPASS invalid username-password pair or user is disabled."`)
	c.expect(`-"WRONGPASS invalid username-password pair or user is disabled."`)
	c.expect(`+"OK"`)
	c.expect(`$null`)
	c.send("RESET\r\nPING\r\nHELLO 3 AUTH default secret\r\nPING\r\n")
	c.expect(`+"RESET"`)
	c.expect(`-"NOAUTH Authentication required."`)
	if r := c.read(); r.typ != '%' {
		t.Fatalf("HELLO 3 AUTH replied %s", r)
	}
	c.expect(`+"PONG"`)

	// Before authentication, Redis's tighter request bounds apply.
	u := dial(t, ts.addr)
	u.send("*11\r\n")
	u.expect(`-"ERR Protocol error: unauthenticated multibulk length"`)
	u.expectEOF()
	u = dial(t, ts.addr)
	u.send("*2\r\n$4\r\nAUTH\r\n$16385\r\n")
	u.expect(`-"ERR Protocol error: unauthenticated bulk length"`)
	u.expectEOF()
}

func TestServerAuthWithoutPassword(t *testing.T) {
	ts := startServer(t, nil)
	c := dial(t, ts.addr)
	c.send("AUTH x\r\nAUTH default anything\r\nAUTH bob x\r\nAUTH a b c\r\nHELLO 3 AUTH default x\r\n")
	c.expect(`-"ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"`)
	c.expect(`+"OK"`)
	c.expect(`-"WRONGPASS invalid username-password pair or user is disabled."`)
	c.expect(`-"ERR syntax error"`)
	if r := c.read(); r.typ != '%' {
		t.Fatalf("HELLO 3 AUTH replied %s", r)
	}
}

func TestServerClientCommands(t *testing.T) {
	ts := startServer(t, nil)
	a, b := dial(t, ts.addr), dial(t, ts.addr)
	a.send("CLIENT ID\r\nCLIENT SETNAME alpha\r\nCLIENT SETINFO LIB-NAME mylib\r\nCLIENT SETINFO lib-ver 1.2\r\nCLIENT GETNAME\r\n")
	a.expect(`:"1"`)
	a.expect(`+"OK"`)
	a.expect(`+"OK"`)
	a.expect(`+"OK"`)
	a.expect(`$"alpha"`)
	b.send("CLIENT ID\r\nCLIENT SETINFO LIB-NAME \"a b\"\r\nCLIENT SETINFO FOO x\r\nCLIENT SETNAME \"a b\"\r\nCLIENT GETNAME\r\n")
	b.expect(`:"2"`)
	b.expect(`-"ERR LIB-NAME cannot contain spaces, newlines or special characters."`)
	b.expect(`-"ERR Unrecognized option 'FOO'"`)
	b.expect(`-"ERR Client names cannot contain spaces, newlines or special characters."`)
	b.expect(`$null`)

	b.send("CLIENT LIST\r\n")
	list := b.read()
	lines := strings.Split(strings.TrimSuffix(list.text, "\n"), "\n")
	if list.typ != '$' || len(lines) != 2 {
		t.Fatalf("CLIENT LIST: %s", list)
	}
	for i, want := range []string{
		"id=1 addr=" + a.nc.LocalAddr().String() + " laddr=" + ts.addr + " fd=",
		"id=2 addr=" + b.nc.LocalAddr().String() + " laddr=" + ts.addr + " fd=",
	} {
		if !strings.HasPrefix(lines[i], want) {
			t.Errorf("CLIENT LIST line %d: %q, want prefix %q", i, lines[i], want)
		}
	}
	for _, want := range []string{" name=alpha ", " cmd=client|getname ", " resp=2 ", " lib-name=mylib lib-ver=1.2"} {
		if !strings.Contains(lines[0], want) {
			t.Errorf("CLIENT LIST line of a: %q lacks %q", lines[0], want)
		}
	}
	if !strings.Contains(lines[1], " cmd=client|list ") {
		t.Errorf("CLIENT LIST line of b: %q", lines[1])
	}
	b.send("CLIENT LIST ID 1 99\r\nCLIENT LIST TYPE pubsub\r\nCLIENT LIST TYPE foo\r\nCLIENT LIST ID x\r\nCLIENT LIST x\r\n")
	if r := b.read(); !strings.HasPrefix(r.text, "id=1 ") || strings.Count(r.text, "\n") != 1 {
		t.Errorf("CLIENT LIST ID 1 99: %s", r)
	}
	b.expect(`$""`)
	b.expect(`-"ERR Unknown client type 'foo'"`)
	b.expect(`-"ERR Invalid client ID"`)
	b.expect(`-"ERR syntax error"`)

	b.send("HELLO 3\r\nCLIENT INFO\r\n")
	b.read()
	info := b.read()
	if info.typ != '=' || !strings.HasPrefix(info.text, "txt:id=2 ") || !strings.HasSuffix(info.text, "\n") ||
		!strings.Contains(info.text, " resp=3 ") || !strings.Contains(info.text, " cmd=client|info ") {
		t.Errorf("CLIENT INFO in RESP3: %s", info)
	}
	b.send("CLIENT\r\nCLIENT foo\r\nCLIENT SETNAME\r\nCLIENT HELP\r\n")
	b.expect(`-"ERR wrong number of arguments for 'client' command"`)
	b.expect(`-"ERR unknown subcommand 'foo'. Try CLIENT HELP."`)
	b.expect(`-"ERR wrong number of arguments for 'client|setname' command"`)
	if r := b.read(); r.typ != '*' || len(r.elems) != len(clientHelp) {
		t.Errorf("CLIENT HELP: %s", r)
	}
}

func TestServerCommandCommand(t *testing.T) {
	ts := startServer(t, nil)
	c := dial(t, ts.addr)
	nVisible := 9 + 5 // connection commands (POST and HOST: hidden) + the toy's
	c.send("COMMAND COUNT\r\nCOMMAND INFO get nosuch\r\nCOMMAND DOCS get nosuch\r\nCOMMAND LIST FILTERBY PATTERN *get\r\nCOMMAND LIST FILTERBY ACLCAT connection\r\nCOMMAND\r\nCOMMAND LIST FILTERBY MODULE x\r\nCOMMAND LIST FILTERBY\r\n")
	c.expect(fmt.Sprintf(":%q", strconv.Itoa(nVisible)))
	c.expect(`*[*[$"get" :"2" *[+"readonly" +"fast"] :"1" :"1" :"1" *[+"@read" +"@string" +"@fast"] *[] ` +
		`*[*[$"flags" *[+"RO" +"access"] $"begin_search" *[$"type" $"index" $"spec" *[$"index" :"1"]] ` +
		`$"find_keys" *[$"type" $"range" $"spec" *[$"lastkey" :"0" $"keystep" :"1" $"limit" :"0"]]]] *[]] $null]`)
	c.expect(`*[$"get" *[$"summary" $"Returns the string value of a key." $"since" $"1.0.0" $"group" $"string" $"complexity" $"O(1)"]]`)
	c.expect(`*[$"get" $"mget"]`)
	c.expect(`*[$"auth" $"client" $"command" $"echo" $"hello" $"ping" $"quit" $"reset" $"select"]`)
	all := c.read()
	if len(all.elems) != nVisible {
		t.Fatalf("COMMAND listed %d commands, want %d", len(all.elems), nVisible)
	}
	for _, e := range all.elems {
		if len(e.elems) != 10 {
			t.Fatalf("COMMAND entry %s has %d elements, want 10", e, len(e.elems))
		}
	}
	c.expect(`*[]`)
	c.expect(`-"ERR syntax error"`)
	c.send("COMMAND INFO del client\r\nCOMMAND FOO\r\nCOMMAND COUNT x\r\n")
	r := c.read()
	if got := r.elems[0].String(); !strings.Contains(got, `$"lastkey" :"-1"`) {
		t.Errorf("DEL's key spec: %s", got)
	}
	if subs := r.elems[1].elems[9]; len(subs.elems) != 9 || subs.elems[0].elems[0].text != "client|getname" {
		t.Errorf("CLIENT's subcommands: %s", subs)
	}
	c.expect(`-"ERR unknown subcommand 'FOO'. Try COMMAND HELP."`)
	c.expect(`-"ERR wrong number of arguments for 'command|count' command"`)
}

// A handler that writes no reply, or two, would shift every later reply
// onto the wrong command: the server closes the connection instead.
func TestServerHandlerFault(t *testing.T) {
	h := HandlerFunc(func(w *Writer, r *Request) {
		switch string(r.Args[0]) {
		case "NONE":
		case "TWO":
			w.SimpleString("a")
			w.SimpleString("b")
		case "HALF":
			w.ArrayLen(2)
			w.SimpleString("a")
		default:
			w.SimpleString("OK")
		}
	})
	ts := startServer(t, func(c *Config) { c.Handler = h })
	for i, tc := range []struct {
		cmd  string
		want []string
	}{
		{"NONE", nil},
		{"TWO", []string{`+"a"`, `+"b"`}},
	} {
		c := dial(t, ts.addr)
		c.send("FINE\r\n" + tc.cmd + "\r\nFINE\r\n")
		c.expect(`+"OK"`)
		for _, w := range tc.want {
			c.expect(w)
		}
		c.expectEOF()
		waitFor(t, "the fault metric", func() bool {
			return counterValue(t, ts.reg, "cairn_resp_handler_faults_total") == float64(i+1)
		})
	}
	c := dial(t, ts.addr)
	c.send("HALF\r\n")
	c.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	if b, _ := io.ReadAll(c.br); string(b) != "*2\r\n+a\r\n" {
		t.Fatalf("HALF: %q", b)
	}
}

// Commands not in the table reach the handler, with Cmd nil.
func TestServerUnknownCommandsReachHandler(t *testing.T) {
	var got []string
	var mu sync.Mutex
	tab, _ := newToyTable(t)
	h := HandlerFunc(func(w *Writer, r *Request) {
		mu.Lock()
		got = append(got, fmt.Sprintf("%s:%v", r.Args[0], r.Cmd != nil))
		mu.Unlock()
		if r.Cmd == nil {
			w.Error(MsgUnknownCommand(r.Args))
			return
		}
		tab.ServeRESP(w, r)
	})
	ts := startServer(t, func(c *Config) { c.Handler = h; c.Commands = tab })
	c := dial(t, ts.addr)
	c.send("foo a b\r\nSET k v\r\nget\r\nPING\r\n")
	c.expect(`-"ERR unknown command 'foo', with args beginning with: 'a' 'b' "`)
	c.expect(`+"OK"`)
	c.expect(`-"ERR wrong number of arguments for 'get' command"`) // never reached the handler
	c.expect(`+"PONG"`)                                            // nor did this
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(got, " ") != "foo:false SET:true" {
		t.Fatalf("the handler saw %v", got)
	}
}

func TestServerSecurityWarning(t *testing.T) {
	ts := startServer(t, nil)
	for _, req := range []string{"POST / HTTP/1.1\r\nHost: x\r\n\r\n", "Host: example.com\r\n"} {
		c := dial(t, ts.addr)
		c.send(req)
		c.expectEOF()
	}
}

func TestServerMetrics(t *testing.T) {
	ts := startServer(t, nil)
	c := dial(t, ts.addr)
	c.send("SET a 1\r\nGET a\r\nINCR a\r\nINCR a\r\nSET a x\r\nINCR a\r\nfoo\r\nbar\r\nPING\r\nGET\r\n")
	for range 10 {
		c.read()
	}
	for _, tc := range []struct {
		command, result string
		want            float64
	}{
		{"set", "ok", 2}, {"get", "ok", 1}, {"incr", "ok", 2}, {"incr", "error", 1},
		{"other", "error", 2}, {"ping", "ok", 1}, {"get", "error", 1},
	} {
		if got := counterValue(t, ts.reg, "cairn_resp_commands_total", "command", tc.command, "result", tc.result); got != tc.want {
			t.Errorf("commands_total{%s,%s} = %v, want %v", tc.command, tc.result, got, tc.want)
		}
	}
	if got := counterValue(t, ts.reg, "cairn_resp_command_duration_seconds", "command", "incr"); got != 3 {
		t.Errorf("incr latency samples %v, want 3", got)
	}
	if got := counterValue(t, ts.reg, "cairn_resp_connected_clients"); got != 1 {
		t.Errorf("connected clients %v, want 1", got)
	}
	c.nc.Close()
	waitFor(t, "the byte counters", func() bool {
		return counterValue(t, ts.reg, "cairn_resp_read_bytes_total") == float64(len("SET a 1\r\nGET a\r\nINCR a\r\nINCR a\r\nSET a x\r\nINCR a\r\nfoo\r\nbar\r\nPING\r\nGET\r\n")) &&
			counterValue(t, ts.reg, "cairn_resp_written_bytes_total") > 0 &&
			counterValue(t, ts.reg, "cairn_resp_connected_clients") == 0
	})
	mfs, _ := ts.reg.Gather()
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			if v := labelValue(m, "command"); v == "foo" || v == "bar" {
				t.Errorf("an unknown command got a label of its own: %s", v)
			}
		}
	}
}

// A value larger than every buffer goes through intact both ways.
func TestServerLargeValue(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.ReadBufferBytes = 1024; c.WriteBufferBytes = 1024 })
	c := dial(t, ts.addr)
	big := strings.Repeat("0123456789abcdef", 1<<20) // 16 MiB
	go c.send(cmd("SET", "big", big))
	c.expect(`+"OK"`)
	c.send("GET big\r\n")
	if r := c.read(); r.text != big {
		t.Fatalf("GET returned %d bytes, want %d", len(r.text), len(big))
	}
}

type observer struct {
	HandlerFunc
	mu     sync.Mutex
	events []string
}

func (o *observer) ConnOpened(c *Conn) { o.log("open", c) }
func (o *observer) ConnReset(c *Conn)  { o.log("reset", c); c.Value = nil }
func (o *observer) ConnClosed(c *Conn) { o.log("close", c) }

func (o *observer) log(ev string, c *Conn) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.events = append(o.events, fmt.Sprintf("%s:%d:%v", ev, c.ID(), c.Value))
}

func (o *observer) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return strings.Join(o.events, " ")
}

func TestServerConnObserver(t *testing.T) {
	o := &observer{}
	o.HandlerFunc = func(w *Writer, r *Request) {
		r.Conn.Value = string(r.Args[1])
		w.SimpleString("OK")
	}
	ts := startServer(t, func(c *Config) { c.Handler = o })
	c := dial(t, ts.addr)
	c.send("KEEP x\r\nRESET\r\nKEEP y\r\nQUIT\r\n")
	c.expect(`+"OK"`)
	c.expect(`+"RESET"`)
	c.expect(`+"OK"`)
	c.expect(`+"OK"`)
	c.expectEOF()
	waitFor(t, "the close event", func() bool { return strings.Contains(o.String(), "close") })
	if got := o.String(); got != "open:1:<nil> reset:1:x close:1:y" {
		t.Fatalf("events %q", got)
	}
}

func TestServerSelectPingEcho(t *testing.T) {
	ts := startServer(t, nil)
	c := dial(t, ts.addr)
	c.send("SELECT 0\r\nSELECT 1\r\nSELECT x\r\nPING\r\nPING hi\r\npInG\r\nECHO \"a b\"\r\nPING a b\r\n")
	for _, want := range []string{`+"OK"`, `-"ERR DB index is out of range"`, `-"ERR value is not an integer or out of range"`,
		`+"PONG"`, `$"hi"`, `+"PONG"`, `$"a b"`, `-"ERR wrong number of arguments for 'ping' command"`} {
		c.expect(want)
	}
}

// MaxPipeline forces a flush while the pipeline is still being executed:
// the first replies arrive while a later command is still blocked.
func TestServerMaxPipelineFlushes(t *testing.T) {
	release := make(chan struct{})
	h := HandlerFunc(func(w *Writer, r *Request) {
		if string(r.Args[0]) == "BLOCK" {
			<-release
		}
		w.SimpleString("OK")
	})
	ts := startServer(t, func(c *Config) { c.Handler = h; c.MaxPipeline = 2 })
	c := dial(t, ts.addr)
	c.send("A\r\nB\r\nBLOCK\r\n")
	c.expect(`+"OK"`) // flushed after two replies, though BLOCK is pending
	c.expect(`+"OK"`)
	close(release)
	c.expect(`+"OK"`)
}

func TestConfigValidate(t *testing.T) {
	tab, _ := newToyTable(t)
	good := DefaultConfig()
	good.Commands = tab
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, mutate := range map[string]func(c *Config){
		"no handler":        func(c *Config) { c.Commands = nil },
		"max clients 0":     func(c *Config) { c.MaxClients = 0 },
		"idle 1ns":          func(c *Config) { c.IdleTimeout = 1 },
		"write timeout 0":   func(c *Config) { c.WriteTimeout = 0 },
		"tiny read buffer":  func(c *Config) { c.ReadBufferBytes = 1 },
		"tiny write buffer": func(c *Config) { c.WriteBufferBytes = 1 },
		"pipeline 0":        func(c *Config) { c.MaxPipeline = 0 },
		"log interval 0":    func(c *Config) { c.LogInterval = 0 },
		"server name space": func(c *Config) { c.ServerName = "a b" },
		"empty version":     func(c *Config) { c.Version = "" },
		"max args 0":        func(c *Config) { c.Limits.MaxArgs = 0 },
		"bulk over command": func(c *Config) { c.Limits.MaxCommandBytes = c.Limits.MaxBulkBytes - 1 },
		"inline tiny":       func(c *Config) { c.Limits.MaxInlineBytes = 10 },
		"func missing": func(c *Config) {
			t := NewCommandTable()
			t.MustRegister(Command{Name: "x", Arity: 1})
			c.Commands = t
		},
	} {
		c := good
		mutate(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%s: Validate accepted it", name)
		}
		if _, err := New(c); err == nil {
			t.Errorf("%s: New accepted it", name)
		}
	}
}

// The context of a connection ends when the client goes away... once the
// server notices, at its next read.
func TestConnContextEndsWithConnection(t *testing.T) {
	ctxs := make(chan context.Context, 1)
	h := HandlerFunc(func(w *Writer, r *Request) {
		ctxs <- r.Conn.Context()
		w.SimpleString("OK")
	})
	ts := startServer(t, func(c *Config) { c.Handler = h })
	c := dial(t, ts.addr)
	c.send("X\r\n")
	c.expect(`+"OK"`)
	ctx := <-ctxs
	c.nc.Close()
	select {
	case <-ctx.Done():
	case <-time.After(20 * time.Second):
		t.Fatal("the connection's context was not cancelled")
	}
}

func TestLogLimiter(t *testing.T) {
	l := loglimit.New(time.Second)
	t0 := time.Unix(1000, 0)
	if ok, n := l.Allow(t0); !ok || n != 0 {
		t.Fatalf("first event: %v, %d", ok, n)
	}
	for i := range 3 {
		if ok, _ := l.Allow(t0.Add(time.Duration(i) * 100 * time.Millisecond)); ok {
			t.Fatal("an event within the interval was allowed")
		}
	}
	if ok, n := l.Allow(t0.Add(time.Second)); !ok || n != 3 {
		t.Fatalf("after the interval: %v, %d suppressed; want true, 3", ok, n)
	}
}
