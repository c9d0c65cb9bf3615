package merkle_test

import (
	"fmt"

	"github.com/cairndb/cairn/eventual/merkle"
	"github.com/cairndb/cairn/ring"
)

// Two replicas of one ring arc keep a tree each, in step with their writes;
// an exchange finds the range to repair. The network is a function call
// here; a driver sends the encoded messages over the transport.
func Example() {
	arc := merkle.FullRange // in a cluster, one of ring.RangesFor's arcs
	cfg := merkle.Config{Depth: 8}
	a, _ := merkle.New(cfg, arc)
	b, _ := merkle.New(cfg, arc)

	put := func(t *merkle.Tree, key, value string) {
		h := uint64(ring.HashKey([]byte(key)))
		if arc.Contains(h) {
			_ = t.Add(h, merkle.EntryDigest([]byte(key), []byte(value)))
		}
	}
	for i := range 1000 {
		k := fmt.Sprintf("key-%d", i)
		put(a, k, "v1")
		put(b, k, "v1")
	}
	put(a, "key-only-on-a", "v1") // a write that b missed

	ec := merkle.DefaultExchangeConfig()
	s, _ := merkle.NewSession(a, 1, ec)
	for !s.Done() {
		for _, q := range s.Poll() {
			wire := q.Encode()                          // a → b
			req, _ := merkle.DecodeRequest(wire)        // at b
			rep := merkle.Respond(b, &req, ec)          // b answers
			back, _ := merkle.DecodeReply(rep.Encode()) // b → a
			s.Handle(&back)
		}
		s.Tick() // a real driver ticks on a timer
	}
	h := uint64(ring.HashKey([]byte("key-only-on-a")))
	rs := s.Ranges()
	fmt.Println(s.Err(), len(rs), rs[0].Contains(h), s.Stats().Levels)
	// Output: <nil> 1 true 8
}
