package merkle

import (
	"bytes"
	"testing"
)

// FuzzDecodeRequest: the decoder never panics, refuses what it cannot
// read, and what it accepts is canonical (re-encodes to the same bytes) and
// within the bounds; a responder answers it without panicking, within
// ReplyBytes.
func FuzzDecodeRequest(f *testing.F) {
	f.Add((&Request{Depth: 3, Nodes: []NodeHash{{Node: 1}}}).Encode())
	f.Add((&Request{Session: 5, ID: 9, Range: Range{Start: 1, End: 1 << 40}, Depth: 8,
		Nodes: []NodeHash{{Node: 2, Hash: Hash{1}}, {Node: 300, Hash: Hash{2}}}}).Encode())
	f.Add([]byte{1, 1})
	f.Add([]byte{})
	tr, _ := New(Config{Depth: 4}, FullRange)
	for k := uint64(0); k < 40; k++ {
		_ = tr.Add(k*0x9e3779b97f4a7c15, digestOf(k, 0))
	}
	f.Add((&Request{Depth: 4, Nodes: []NodeHash{{Node: 1}, {Node: 3}, {Node: 31}}}).Encode())
	cfg := DefaultExchangeConfig()
	f.Fuzz(func(t *testing.T, b []byte) {
		q, err := DecodeRequest(b)
		if err != nil {
			return
		}
		if enc := q.Encode(); !bytes.Equal(enc, b) {
			t.Fatalf("accepted a non-canonical request:\n%x\n%x", b, enc)
		}
		if len(q.Nodes) < 1 || len(q.Nodes) > MaxMessageNodes || q.Depth > MaxDepth {
			t.Fatalf("accepted a request out of bounds: %d nodes, depth %d", len(q.Nodes), q.Depth)
		}
		q.Range = tr.Range() // let shape checks pass sometimes
		rep := Respond(tr, &q, cfg)
		if rep.EncodedLen() > ReplyBytes(len(q.Nodes)) {
			t.Fatalf("reply of %d bytes to %d nodes", rep.EncodedLen(), len(q.Nodes))
		}
		if rep.Status == StatusOK && len(rep.Nodes) != len(q.Nodes) {
			t.Fatalf("%d answers to %d nodes", len(rep.Nodes), len(q.Nodes))
		}
	})
}

// FuzzDecodeReply: the decoder never panics and what it accepts is
// canonical; a session handed the reply (as the answer to its pending
// request) never panics and keeps its bound on ranges.
func FuzzDecodeReply(f *testing.F) {
	f.Add((&Reply{Status: StatusOK, Nodes: []NodeReply{{Kind: NodeSame}}}).Encode())
	f.Add((&Reply{Session: 3, ID: 1, Status: StatusOK, Nodes: []NodeReply{{Kind: NodeChildren, Left: Hash{1}, Right: Hash{2}}, {Kind: NodeDiffers}}}).Encode())
	f.Add((&Reply{Status: StatusMismatch, Range: Range{Start: 4, End: 9}, Depth: 7}).Encode())
	f.Add((&Reply{Status: StatusNoTree}).Encode())
	f.Add((&Reply{Status: StatusRefused}).Encode())
	f.Add([]byte{2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := DecodeReply(b)
		if err != nil {
			return
		}
		if enc := r.Encode(); !bytes.Equal(enc, b) {
			t.Fatalf("accepted a non-canonical reply:\n%x\n%x", b, enc)
		}
		if len(r.Nodes) > MaxMessageNodes {
			t.Fatalf("accepted %d nodes", len(r.Nodes))
		}
		tr, _ := New(Config{Depth: 5}, FullRange)
		_ = tr.Add(1, digestOf(1, 0))
		_ = tr.Add(1<<63, digestOf(2, 0))
		cfg := DefaultExchangeConfig()
		cfg.MaxRanges = 3
		s, _ := NewSession(tr, r.Session, cfg)
		for round := 0; round < 8 && !s.Done(); round++ {
			qs := s.Poll()
			if len(qs) == 0 {
				break
			}
			r.ID = qs[0].ID // answer the pending request with the fuzzed verdicts
			s.Handle(&r)
			if !s.Done() && s.potential() > cfg.MaxRanges {
				t.Fatalf("potential %d over MaxRanges", s.potential())
			}
		}
		if s.Done() && s.Err() == nil && len(s.Ranges()) > cfg.MaxRanges {
			t.Fatalf("%d ranges over MaxRanges", len(s.Ranges()))
		}
	})
}
