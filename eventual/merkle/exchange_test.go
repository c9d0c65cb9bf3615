package merkle

import (
	"errors"
	"testing"

	"pgregory.net/rapid"
)

// drawExchangeConfig draws small bounds, so that levels take several
// requests and requests wait for room in flight.
func drawExchangeConfig(t *rapid.T) ExchangeConfig {
	return ExchangeConfig{
		MaxNodesPerRequest: rapid.IntRange(1, 40).Draw(t, "maxNodes"),
		MaxInFlight:        rapid.IntRange(1, 5).Draw(t, "maxInFlight"),
		MaxRanges:          1 << 20,
		RetryTicks:         rapid.IntRange(1, 4).Draw(t, "retryTicks"),
		MaxRetries:         60,
	}
}

// TestExchangeFindsWhatDiffFinds: over a network that loses, duplicates,
// delays and reorders messages, a Session against Respond ends with
// exactly the ranges of Diff, and every message stays within its bounds.
func TestExchangeFindsWhatDiffFinds(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		r := drawRange(t)
		cfg := Config{Depth: rapid.IntRange(0, 9).Draw(t, "depth")}
		a, b := drawReplicas(t, r, 400)
		ta, tb := a.build(t, cfg, r), b.build(t, cfg, r)
		ec := drawExchangeConfig(t)
		nc := netConfig{seed: rapid.Uint64().Draw(t, "seed")}
		if rapid.Bool().Draw(t, "faulty") {
			nc.drop = rapid.Float64Range(0, 0.3).Draw(t, "drop")
			nc.dup = rapid.Float64Range(0, 0.3).Draw(t, "dup")
			nc.delay = rapid.IntRange(0, 3).Draw(t, "delay")
		}
		res := runExchange(t, ta, tb, ec, ec, nc, 100000)
		if res.err != nil {
			t.Fatalf("exchange failed: %v (%+v)", res.err, res.stats)
		}
		want, _ := Diff(ta, tb)
		if !equalRanges(res.ranges, want) {
			t.Fatalf("exchange found %v\nDiff found %v", res.ranges, want)
		}
		if res.maxReqNodes > ec.MaxNodesPerRequest || res.maxReqBytes > RequestBytes(ec.MaxNodesPerRequest) ||
			res.maxReplyBytes > ReplyBytes(ec.MaxNodesPerRequest) || res.maxInFlight > ec.MaxInFlight {
			t.Fatalf("bounds broken: %+v with %+v", res, ec)
		}
		st := res.stats
		if st.Ranges != len(want) || st.Truncated {
			t.Fatalf("stats %+v for %d ranges", st, len(want))
		}
		if nc.drop == 0 && nc.dup == 0 && nc.delay == 0 && (st.Resends != 0 || st.Ignored != 0) {
			t.Fatalf("a perfect network needed resends or ignored replies: %+v", st)
		}
	})
}

// TestExchangeBoundedRanges: with MaxRanges below the number of
// differences, the session reports at most MaxRanges disjoint ranges that
// still cover every differing key and every range Diff finds, and says it
// truncated.
func TestExchangeBoundedRanges(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		r := drawRange(t)
		cfg := Config{Depth: rapid.IntRange(1, 9).Draw(t, "depth")}
		a, b := drawReplicas(t, r, 300)
		ta, tb := a.build(t, cfg, r), b.build(t, cfg, r)
		ec := drawExchangeConfig(t)
		ec.MaxRanges = rapid.IntRange(1, 8).Draw(t, "maxRanges")
		res := runExchange(t, ta, tb, ec, ec, netConfig{seed: 1}, 100000)
		if res.err != nil {
			t.Fatal(res.err)
		}
		if len(res.ranges) > ec.MaxRanges {
			t.Fatalf("%d ranges over MaxRanges %d", len(res.ranges), ec.MaxRanges)
		}
		checkSortedDisjoint(t, r, res.ranges)
		for _, h := range differing(a, b) {
			if !covered(res.ranges, h) {
				t.Fatalf("differing key hash %x not covered by %v", h, res.ranges)
			}
		}
		want, _ := Diff(ta, tb)
		for _, w := range want {
			if !covered(res.ranges, w.Start+1) || !covered(res.ranges, w.End) {
				t.Fatalf("Diff's range %v not covered by %v", w, res.ranges)
			}
		}
		if len(want) > ec.MaxRanges && !res.stats.Truncated {
			t.Fatalf("%d differences in %d ranges without Truncated", len(want), len(res.ranges))
		}
		if !res.stats.Truncated && !equalRanges(res.ranges, want) {
			t.Fatalf("untruncated exchange found %v, Diff %v", res.ranges, want)
		}
	})
}

// TestExchangeEqualTreesTakeOneRoundTrip: equal trees cost one request of
// one node and one reply, and report nothing.
func TestExchangeEqualTreesTakeOneRoundTrip(t *testing.T) {
	r := FullRange
	m := model{}
	for k := uint64(0); k < 1000; k++ {
		m[k] = entry{h: k * 0x9e3779b97f4a7c15, d: digestOf(k, 0)}
	}
	cfg := Config{Depth: 12}
	ec := DefaultExchangeConfig()
	res := runExchange(t, m.build(t, cfg, r), m.build(t, cfg, r), ec, ec, netConfig{}, 10)
	if res.err != nil || len(res.ranges) != 0 || res.rounds != 1 || res.stats.Requests != 1 || res.stats.Replies != 1 {
		t.Fatalf("equal trees: %+v", res)
	}
	if res.wire != RequestBytes(1)+ReplyBytes(0)+1 {
		t.Fatalf("equal trees exchanged %d bytes, want %d", res.wire, RequestBytes(1)+ReplyBytes(0)+1)
	}
}

// TestExchangeRoundsFollowDepth: one differing key takes one round trip per
// level, Depth of them, and one request per level.
func TestExchangeRoundsFollowDepth(t *testing.T) {
	cfg := Config{Depth: 12}
	a := model{}
	for k := uint64(0); k < 5000; k++ {
		a[k] = entry{h: k * 0x9e3779b97f4a7c15, d: digestOf(k, 0)}
	}
	b := model{}
	for k, e := range a {
		b[k] = e
	}
	b[3] = entry{h: a[3].h, d: digestOf(3, 1)}
	ta, tb := a.build(t, cfg, FullRange), b.build(t, cfg, FullRange)
	ec := DefaultExchangeConfig()
	res := runExchange(t, ta, tb, ec, ec, netConfig{}, 100)
	if res.err != nil || len(res.ranges) != 1 || !res.ranges[0].Contains(a[3].h) {
		t.Fatalf("one changed key: %+v", res)
	}
	if res.rounds != cfg.Depth || res.stats.Requests != cfg.Depth || res.stats.Levels != cfg.Depth || res.stats.DifferingLeaves != 1 {
		t.Fatalf("one difference at depth %d took %d rounds, %d requests, levels %d: %+v", cfg.Depth, res.rounds, res.stats.Requests, res.stats.Levels, res.stats)
	}
}

func TestExchangeShapeMismatch(t *testing.T) {
	r := Range{Start: 0, End: 1 << 32}
	a, _ := New(Config{Depth: 6}, r)
	_ = a.Add(5, digestOf(1, 0))
	ec := DefaultExchangeConfig()
	for _, tc := range []struct {
		name  string
		other Range
		depth int
		is    error
	}{
		{"depth", r, 7, ErrDepthMismatch},
		{"range", Range{Start: 0, End: 1 << 33}, 6, ErrRangeMismatch},
	} {
		b, _ := New(Config{Depth: tc.depth}, tc.other)
		res := runExchange(t, a, b, ec, ec, netConfig{}, 10)
		var me *MismatchError
		if !errors.Is(res.err, tc.is) || !errors.As(res.err, &me) || me.RemoteRange != tc.other || me.RemoteDepth != tc.depth {
			t.Errorf("%s mismatch: %v", tc.name, res.err)
		}
		if res.ranges != nil {
			t.Errorf("%s mismatch reported ranges %v", tc.name, res.ranges)
		}
	}
}

func TestExchangeNoTreeAndRefused(t *testing.T) {
	a, _ := New(Config{Depth: 6}, FullRange)
	_ = a.Add(5, digestOf(1, 0))
	ec := DefaultExchangeConfig()
	if res := runExchange(t, a, nil, ec, ec, netConfig{}, 10); !errors.Is(res.err, ErrNoTree) {
		t.Fatalf("no tree: %v", res.err)
	}
	// The initiator asks for more nodes a request than the responder
	// takes: every key differs, so level 2 has 4 differing nodes.
	m, n := model{}, model{}
	for k := uint64(0); k < 200; k++ {
		m[k] = entry{h: k * 0x9e3779b97f4a7c15, d: digestOf(k, 0)}
		n[k] = entry{h: k * 0x9e3779b97f4a7c15, d: digestOf(k, 1)}
	}
	small := ec
	small.MaxNodesPerRequest = 2
	res := runExchange(t, m.build(t, Config{Depth: 6}, FullRange), n.build(t, Config{Depth: 6}, FullRange), ec, small, netConfig{}, 100)
	if !errors.Is(res.err, ErrRefused) {
		t.Fatalf("oversized request: %v", res.err)
	}
}

// TestExchangeTimesOut: when the peer never answers, the session sends each
// request 1+MaxRetries times, RetryTicks apart, then ends with ErrTimeout.
func TestExchangeTimesOut(t *testing.T) {
	a, _ := New(Config{Depth: 4}, FullRange)
	ec := DefaultExchangeConfig()
	ec.RetryTicks, ec.MaxRetries = 3, 2
	s, _ := NewSession(a, 1, ec)
	sent, ticks := 0, 0
	for !s.Done() {
		sent += len(s.Poll())
		s.Tick()
		ticks++
		if ticks > 100 {
			t.Fatal("no timeout")
		}
	}
	if !errors.Is(s.Err(), ErrTimeout) || sent != 1+ec.MaxRetries || ticks != (1+ec.MaxRetries)*ec.RetryTicks {
		t.Fatalf("err %v after %d sends and %d ticks", s.Err(), sent, ticks)
	}
	if s.Ranges() != nil || s.Poll() != nil {
		t.Fatal("a failed session still reports or sends")
	}
}

// TestSessionRejectsBadReplies: replies that do not fit their request end
// the session with ErrProtocol; replies of other sessions or to unknown
// requests are ignored.
func TestSessionRejectsBadReplies(t *testing.T) {
	mk := func() (*Session, Request) {
		a, _ := New(Config{Depth: 3}, FullRange)
		_ = a.Add(5, digestOf(1, 0))
		s, _ := NewSession(a, 9, DefaultExchangeConfig())
		q := s.Poll()
		if len(q) != 1 || len(q[0].Nodes) != 1 || q[0].Nodes[0].Node != 1 {
			t.Fatalf("first poll: %+v", q)
		}
		return s, q[0]
	}
	s, q := mk()
	s.Handle(&Reply{Session: 8, ID: q.ID, Status: StatusOK, Nodes: []NodeReply{{Kind: NodeSame}}})
	s.Handle(&Reply{Session: 9, ID: q.ID + 1, Status: StatusOK, Nodes: []NodeReply{{Kind: NodeSame}}})
	if s.Done() || s.Stats().Ignored != 2 {
		t.Fatalf("foreign replies not ignored: %+v", s.Stats())
	}
	s.Handle(&Reply{Session: 9, ID: q.ID, Status: StatusOK, Nodes: []NodeReply{{Kind: NodeSame}, {Kind: NodeSame}}})
	if !errors.Is(s.Err(), ErrProtocol) {
		t.Fatalf("two answers to one node: %v", s.Err())
	}
	// Children for a leaf: at depth 0 the root is the only node, a leaf.
	leafy, _ := New(Config{Depth: 0}, FullRange)
	s, _ = NewSession(leafy, 9, DefaultExchangeConfig())
	q = s.Poll()[0]
	s.Handle(&Reply{Session: 9, ID: q.ID, Status: StatusOK, Nodes: []NodeReply{{Kind: NodeChildren}}})
	if !errors.Is(s.Err(), ErrProtocol) {
		t.Fatalf("children for a leaf: %v", s.Err())
	}
	// An unknown status, and an unknown node kind.
	for _, rep := range []Reply{{Status: 0}, {Status: StatusOK, Nodes: []NodeReply{{Kind: 0}}}} {
		s, q = mk()
		rep.Session, rep.ID = 9, q.ID
		s.Handle(&rep)
		if !errors.Is(s.Err(), ErrProtocol) {
			t.Fatalf("reply %+v: %v", rep, s.Err())
		}
	}
}
