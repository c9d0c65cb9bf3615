package resp

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// slowStore is a handler of Concurrent commands that take a while: SLOWSET
// key value waits, then appends value to key's log; SLOWGET key is not
// Concurrent and replies with the log.
type slowStore struct {
	mu      sync.Mutex
	logs    map[string][]string
	running atomic.Int32
	peak    atomic.Int32
}

func (st *slowStore) slowset(w *Writer, r *Request) {
	n := st.running.Add(1)
	for {
		p := st.peak.Load()
		if n <= p || st.peak.CompareAndSwap(p, n) {
			break
		}
	}
	time.Sleep(30 * time.Millisecond)
	st.running.Add(-1)
	st.mu.Lock()
	st.logs[string(r.Args[1])] = append(st.logs[string(r.Args[1])], string(r.Args[2]))
	st.mu.Unlock()
	w.SimpleString("OK " + string(r.Args[2]))
}

func (st *slowStore) slowget(w *Writer, r *Request) {
	st.mu.Lock()
	defer st.mu.Unlock()
	w.BulkString(strings.Join(st.logs[string(r.Args[1])], ","))
}

// TestConcurrentCommandsOverlapButKeepOrder: a pipeline of Concurrent
// commands on distinct keys runs at once, commands on the same key run in
// order, a non-Concurrent command waits for the ones before it, and the
// replies come back in command order.
func TestConcurrentCommandsOverlapButKeepOrder(t *testing.T) {
	st := &slowStore{logs: map[string][]string{}}
	ts := startServer(t, func(cfg *Config) {
		tab := NewCommandTable()
		tab.MustRegister(
			Command{Name: "slowset", Arity: 3, Flags: FlagWrite, FirstKey: 1, LastKey: 1, KeyStep: 1, Concurrent: true, Func: st.slowset},
			Command{Name: "slowget", Arity: 2, Flags: FlagReadOnly, FirstKey: 1, LastKey: 1, KeyStep: 1, Func: st.slowget},
		)
		cfg.Commands = tab
	})
	c := dial(t, ts.addr)
	var pipeline strings.Builder
	for i := range 16 {
		pipeline.WriteString(cmd("SLOWSET", fmt.Sprint("k", i%8), fmt.Sprint(i)))
	}
	pipeline.WriteString(cmd("SLOWGET", "k3"))
	start := time.Now()
	c.send(pipeline.String())
	for i := range 16 {
		c.expect(fmt.Sprintf(`+"OK %d"`, i))
	}
	c.expect(`$"3,11"`) // same key: in order, and after both
	took := time.Since(start)
	if p := st.peak.Load(); p < 2 || p > 8 {
		t.Fatalf("peak concurrency %d, want 2..8 (8 distinct keys)", p)
	}
	t.Logf("16 commands of 30ms on 8 keys took %v, peak concurrency %d", took, st.peak.Load())
	for k, log := range st.logs {
		if len(log) != 2 {
			t.Fatalf("%s has %v", k, log)
		}
		var a, b int
		fmt.Sscan(log[0], &a)
		fmt.Sscan(log[1], &b)
		if a > b {
			t.Fatalf("%s applied out of order: %v", k, log)
		}
	}
}
