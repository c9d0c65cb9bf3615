package merkle

import (
	"bytes"
	"errors"
	"testing"

	"pgregory.net/rapid"
)

func drawHash(t *rapid.T, label string) Hash {
	var h Hash
	copy(h[:], rapid.SliceOfN(rapid.Byte(), 16, 16).Draw(t, label))
	return h
}

func drawRequest(t *rapid.T) Request {
	q := Request{
		Session: rapid.Uint64().Draw(t, "session"),
		ID:      rapid.Uint32().Draw(t, "id"),
		Range:   Range{Start: rapid.Uint64().Draw(t, "start"), End: rapid.Uint64().Draw(t, "end")},
		Depth:   rapid.IntRange(0, MaxDepth).Draw(t, "depth"),
	}
	n := rapid.IntRange(1, 50).Draw(t, "n")
	for range n {
		q.Nodes = append(q.Nodes, NodeHash{
			Node: rapid.Uint32Range(1, uint32(2)<<q.Depth-1).Draw(t, "node"),
			Hash: drawHash(t, "hash"),
		})
	}
	return q
}

func drawReply(t *rapid.T) Reply {
	r := Reply{
		Session: rapid.Uint64().Draw(t, "session"),
		ID:      rapid.Uint32().Draw(t, "id"),
		Status:  Status(rapid.IntRange(int(StatusOK), int(StatusRefused)).Draw(t, "status")),
	}
	switch r.Status {
	case StatusOK:
		n := rapid.IntRange(0, 50).Draw(t, "n")
		r.Nodes = make([]NodeReply, n)
		for i := range r.Nodes {
			r.Nodes[i].Kind = NodeKind(rapid.IntRange(int(NodeSame), int(NodeChildren)).Draw(t, "kind"))
			if r.Nodes[i].Kind == NodeChildren {
				r.Nodes[i].Left, r.Nodes[i].Right = drawHash(t, "left"), drawHash(t, "right")
			}
		}
	case StatusMismatch:
		r.Range = Range{Start: rapid.Uint64().Draw(t, "start"), End: rapid.Uint64().Draw(t, "end")}
		r.Depth = rapid.IntRange(0, MaxDepth).Draw(t, "depth")
	}
	return r
}

// TestCodecRoundTrip: every valid message decodes to itself, at the length
// EncodedLen gives, within RequestBytes and ReplyBytes, and every cut of
// it (or added byte) is refused.
func TestCodecRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		q := drawRequest(t)
		b := q.Encode()
		if len(b) != q.EncodedLen() || len(b) != RequestBytes(len(q.Nodes)) {
			t.Fatalf("request: %d bytes, EncodedLen %d", len(b), q.EncodedLen())
		}
		if k, err := MessageKind(b); err != nil || k != KindRequest {
			t.Fatalf("MessageKind = %v, %v", k, err)
		}
		got, err := DecodeRequest(b)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Encode(), b) || got.Session != q.Session || got.Range != q.Range || len(got.Nodes) != len(q.Nodes) {
			t.Fatalf("request round trip: %+v != %+v", got, q)
		}
		cut := rapid.IntRange(0, len(b)-1).Draw(t, "cut")
		if _, err := DecodeRequest(b[:cut]); !errors.Is(err, ErrMalformed) {
			t.Fatalf("request cut at %d: %v", cut, err)
		}
		if _, err := DecodeRequest(append(b, 0)); !errors.Is(err, ErrMalformed) {
			t.Fatalf("request with a trailing byte: %v", err)
		}

		r := drawReply(t)
		b = r.Encode()
		if len(b) != r.EncodedLen() || (r.Status == StatusOK && len(b) > ReplyBytes(len(r.Nodes))) {
			t.Fatalf("reply: %d bytes, EncodedLen %d", len(b), r.EncodedLen())
		}
		gr, err := DecodeReply(b)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(gr.Encode(), b) || gr.Status != r.Status || len(gr.Nodes) != len(r.Nodes) {
			t.Fatalf("reply round trip: %+v != %+v", gr, r)
		}
		for i := range r.Nodes {
			if gr.Nodes[i] != r.Nodes[i] {
				t.Fatalf("reply node %d: %+v != %+v", i, gr.Nodes[i], r.Nodes[i])
			}
		}
		cut = rapid.IntRange(0, len(b)-1).Draw(t, "replyCut")
		if _, err := DecodeReply(b[:cut]); !errors.Is(err, ErrMalformed) {
			t.Fatalf("reply cut at %d: %v", cut, err)
		}
		if _, err := DecodeReply(append(b, 0)); !errors.Is(err, ErrMalformed) {
			t.Fatalf("reply with a trailing byte: %v", err)
		}
	})
}

func TestDecodeRejects(t *testing.T) {
	good := (&Request{Depth: 3, Nodes: []NodeHash{{Node: 1}}}).Encode()
	for name, mut := range map[string]func(b []byte){
		"version":     func(b []byte) { b[1] = 2 },
		"kind":        func(b []byte) { b[0] = 9 },
		"depth":       func(b []byte) { b[30] = MaxDepth + 1 },
		"node zero":   func(b []byte) { b[requestHeaderLen+3] = 0 },
		"node range":  func(b []byte) { b[requestHeaderLen+3] = 16 },
		"count zero":  func(b []byte) { b[34] = 0 },
		"count large": func(b []byte) { b[31] = 0xff },
	} {
		b := append([]byte(nil), good...)
		mut(b)
		if _, err := DecodeRequest(b); !errors.Is(err, ErrMalformed) {
			t.Errorf("request with bad %s: %v", name, err)
		}
	}
	if _, err := DecodeReply(good); !errors.Is(err, ErrMalformed) {
		t.Errorf("a request decoded as a reply: %v", err)
	}
	rep := (&Reply{Status: StatusOK, Nodes: []NodeReply{{Kind: NodeSame}}}).Encode()
	for name, mut := range map[string]func(b []byte){
		"status":      func(b []byte) { b[14] = 0 },
		"node kind":   func(b []byte) { b[replyHeaderLen+4] = 4 },
		"count large": func(b []byte) { b[replyHeaderLen] = 0xff }, // claims 4G nodes in 1 byte: refused before allocating
	} {
		b := append([]byte(nil), rep...)
		mut(b)
		if _, err := DecodeReply(b); !errors.Is(err, ErrMalformed) {
			t.Errorf("reply with bad %s: %v", name, err)
		}
	}
	mm := (&Reply{Status: StatusMismatch, Depth: 3}).Encode()
	mm[len(mm)-1] = MaxDepth + 1
	if _, err := DecodeReply(mm); !errors.Is(err, ErrMalformed) {
		t.Errorf("mismatch reply with a bad depth: %v", err)
	}
	if _, err := MessageKind(nil); !errors.Is(err, ErrMalformed) {
		t.Errorf("empty message: %v", err)
	}
}

// TestMessageSizes pins the sizes the config's documentation quotes.
func TestMessageSizes(t *testing.T) {
	if got := RequestBytes(DefaultMaxNodesPerRequest); got != 10275 {
		t.Errorf("RequestBytes(default) = %d", got)
	}
	if got := ReplyBytes(DefaultMaxNodesPerRequest); got != 16915 {
		t.Errorf("ReplyBytes(default) = %d", got)
	}
	if got := ReplyBytes(MaxMessageNodes); got > 3<<20 {
		t.Errorf("ReplyBytes(MaxMessageNodes) = %d, over the transport's 3 MiB frame", got)
	}
}
