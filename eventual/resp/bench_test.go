package resp

import (
	"bufio"
	"io"
	"net"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Benchmarks, each per command:
//
//	go test ./eventual/resp/ -run '^$' -bench . -benchmem

// BenchmarkReader parses SET and GET commands from memory.
func BenchmarkReader(b *testing.B) {
	for _, tc := range []struct{ name, cmd string }{
		{"GET", cmd("GET", "key:000000001234")},
		{"SET", cmd("SET", "key:000000001234", "xxx")},
		{"SET-1KiB", cmd("SET", "key:000000001234", strings.Repeat("x", 1024))},
		{"inline-GET", "GET key:000000001234\r\n"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			block := []byte(strings.Repeat(tc.cmd, 256))
			src := &loopReader{block: block}
			r := NewReader(src, 16<<10, DefaultLimits())
			b.SetBytes(int64(len(tc.cmd)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := r.ReadCommand(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// loopReader returns its block over and over.
type loopReader struct {
	block []byte
	off   int
}

func (l *loopReader) Read(p []byte) (int, error) {
	n := copy(p, l.block[l.off:])
	l.off = (l.off + n) % len(l.block)
	return n, nil
}

// BenchmarkServe runs a connection's whole loop (parse, lookup, arity
// check, the toy handler, reply encoding, metrics, flush) over an
// in-memory connection that delivers depth pipelined commands per read,
// half SET and half GET.
func BenchmarkServe(b *testing.B) {
	for _, depth := range []int{1, 16, 128} {
		b.Run("pipeline="+strconv.Itoa(depth), func(b *testing.B) {
			tab, _ := newToyTable(b)
			cfg := DefaultConfig()
			cfg.Commands = tab
			cfg.Logger = quietLogger()
			s, err := New(cfg)
			if err != nil {
				b.Fatal(err)
			}
			var batch strings.Builder
			for i := range depth {
				if i%2 == 0 {
					batch.WriteString(cmd("SET", "key:"+strconv.Itoa(i), "xxx"))
				} else {
					batch.WriteString(cmd("GET", "key:"+strconv.Itoa(i-1)))
				}
			}
			nc := &memConn{batch: []byte(batch.String()), batches: (b.N + depth - 1) / depth}
			c := s.newConn(nc, time.Now())
			s.mu.Lock()
			s.mu.conns[c.id] = c
			s.wg.Add(1)
			s.mu.Unlock()
			b.ReportAllocs()
			b.ResetTimer()
			s.serveConn(c)
			b.StopTimer()
			if nc.written == 0 {
				b.Fatal("no replies written")
			}
			b.ReportMetric(float64(nc.writes)/float64(nc.batchesRead), "writes/read")
		})
	}
}

// memConn is a net.Conn whose reads return batch, batches times, then
// EOF, and whose writes are counted and dropped.
type memConn struct {
	batch                []byte
	batches, batchesRead int
	writes               int
	written              int64
}

func (m *memConn) Read(p []byte) (int, error) {
	if m.batchesRead >= m.batches {
		return 0, io.EOF
	}
	if len(p) < len(m.batch) {
		panic("read buffer smaller than a batch")
	}
	m.batchesRead++
	return copy(p, m.batch), nil
}

func (m *memConn) Write(p []byte) (int, error) {
	m.writes++
	m.written += int64(len(p))
	return len(p), nil
}

func (m *memConn) Close() error                     { return nil }
func (m *memConn) LocalAddr() net.Addr              { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 6379} }
func (m *memConn) RemoteAddr() net.Addr             { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 50000} }
func (m *memConn) SetDeadline(time.Time) error      { return nil }
func (m *memConn) SetReadDeadline(time.Time) error  { return nil }
func (m *memConn) SetWriteDeadline(time.Time) error { return nil }

// BenchmarkTCP sends pipelined SET/GET over loopback TCP from one client
// connection and waits for each batch's replies: the round trip a real
// client sees, syscalls included.
func BenchmarkTCP(b *testing.B) {
	for _, depth := range []int{1, 16} {
		b.Run("pipeline="+strconv.Itoa(depth), func(b *testing.B) {
			ts := startServer(b, nil)
			nc, err := net.Dial("tcp", ts.addr)
			if err != nil {
				b.Fatal(err)
			}
			defer nc.Close()
			var batch strings.Builder
			for i := range depth {
				if i%2 == 0 {
					batch.WriteString(cmd("SET", "key:"+strconv.Itoa(i), "xxx"))
				} else {
					batch.WriteString(cmd("GET", "key:"+strconv.Itoa(i-1)))
				}
			}
			req := []byte(batch.String())
			br := bufio.NewReaderSize(nc, 64<<10)
			b.ResetTimer()
			for sent := 0; sent < b.N; sent += depth {
				if _, err := nc.Write(req); err != nil {
					b.Fatal(err)
				}
				for range depth {
					if _, err := readReply(br); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// The connection loop allocates nothing per command once running: a
// pipelined stream of GET (a missing key: the toy's lookup does not
// allocate either), PING and ECHO costs no garbage.
func TestServeDoesNotAllocatePerCommand(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	tab, _ := newToyTable(t)
	cfg := DefaultConfig()
	cfg.Commands = tab
	cfg.Logger = quietLogger()
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	batch := strings.Repeat(cmd("GET", "nosuch")+cmd("PING")+cmd("ECHO", "hello")+"GET nosuch\r\n", 4)
	const batches = 10000
	nc := &memConn{batch: []byte(batch), batches: batches}
	c := s.newConn(nc, time.Now())
	s.mu.Lock()
	s.mu.conns[c.id] = c
	s.wg.Add(1)
	s.mu.Unlock()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	s.serveConn(c)
	runtime.ReadMemStats(&after)
	commands := batches * 16
	if allocs := after.Mallocs - before.Mallocs; allocs > uint64(commands/100) {
		t.Fatalf("%d allocations for %d commands", allocs, commands)
	}
	if nc.batchesRead != batches || nc.writes != batches {
		t.Fatalf("%d batches read, %d writes; want %d each", nc.batchesRead, nc.writes, batches)
	}
}
