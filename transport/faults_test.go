package transport

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// The n-th decision on a link depends only on the seed and the link.
func TestFaultsDeterministic(t *testing.T) {
	decisions := func(f *Faults, peer uint64, d Direction, n int) []bool {
		r, ok := f.rule(peer, d)
		if !ok {
			t.Fatalf("no rule for peer %d %v", peer, d)
		}
		out := make([]bool, n)
		for i := range out {
			out[i] = f.drops(peer, d, r)
		}
		return out
	}
	setup := func(seed uint64) *Faults {
		f := NewFaults(seed)
		if err := f.Set(Rule{Peer: AllPeers, Direction: Both, Drop: 0.3}); err != nil {
			t.Fatal(err)
		}
		return f
	}
	f1, f2, f3 := setup(7), setup(7), setup(8)
	// Interleave other links differently in f1 and f2: no effect.
	_ = decisions(f1, 3, Outbound, 100)
	a := decisions(f1, 2, Outbound, 2000)
	_ = decisions(f2, 2, Inbound, 50)
	b := decisions(f2, 2, Outbound, 2000)
	c := decisions(f3, 2, Outbound, 2000)
	same, dropped := true, 0
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("decision %d differs between runs with the same seed", i)
		}
		same = same && a[i] == c[i]
		if a[i] {
			dropped++
		}
	}
	if same {
		t.Error("different seeds gave the same decisions")
	}
	if dropped < 500 || dropped > 700 {
		t.Errorf("dropped %d of 2000 at p=0.3", dropped)
	}
}

func TestFaultRules(t *testing.T) {
	f := NewFaults(1)
	for _, bad := range []Rule{
		{Peer: 2},
		{Peer: 2, Direction: Outbound},
		{Peer: 2, Direction: Outbound, Drop: 1.5},
		{Peer: 2, Direction: Outbound, Delay: time.Hour},
		{Peer: 2, Direction: 9, Partition: true},
	} {
		if err := f.Set(bad); err == nil {
			t.Errorf("Set(%+v) accepted", bad)
		}
	}
	f.Partition(2)
	if err := f.Set(Rule{Peer: AllPeers, Direction: Inbound, Delay: time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	if !f.partitioned(2, Outbound) || !f.partitioned(2, Inbound) || f.partitioned(3, Inbound) {
		t.Error("partition of peer 2 not in force as set")
	}
	if f.delay(3, Inbound) != time.Millisecond || f.delay(3, Outbound) != 0 {
		t.Error("AllPeers rule not applied to peer 3")
	}
	js, err := json.Marshal(f.Rules())
	if err != nil {
		t.Fatal(err)
	}
	const want = `[{"peer":0,"direction":"inbound","delay":"1ms"},{"peer":2,"direction":"outbound","partition":true},{"peer":2,"direction":"inbound","partition":true}]`
	if string(js) != want {
		t.Errorf("Rules as JSON:\n got %s\nwant %s", js, want)
	}
	var back []Rule
	if err := json.Unmarshal(js, &back); err != nil || len(back) != 3 || back[0].Direction != Inbound || back[0].Delay != time.Millisecond {
		t.Errorf("JSON round trip: %v %+v", err, back)
	}
	f.Clear(2)
	if f.partitioned(2, Outbound) {
		t.Error("Clear left the partition")
	}
	f.Heal()
	if len(f.Rules()) != 0 {
		t.Error("Heal left rules")
	}
	var nilFaults *Faults
	if _, ok := nilFaults.rule(2, Outbound); ok {
		t.Error("a nil Faults has a rule")
	}
}

// A partition black-holes frames both ways and fails snapshots; healing
// restores delivery.
func TestFaultPartitionAndHeal(t *testing.T) {
	fa := NewFaults(1)
	a := startNode(t, 1, "127.0.0.1:0", func(c *Config) { c.Faults = fa })
	b := startNode(t, 2, "127.0.0.1:0", nil)
	for _, pair := range [][2]*node{{a, b}, {b, a}} {
		if err := pair[0].tr.AddPeer(pair[1].tr.cfg.LocalID, pair[1].addr); err != nil {
			t.Fatal(err)
		}
	}
	fa.Partition(2)
	for seq := range uint64(50) {
		if !a.tr.Send(2, seqFrame(seq, 16)) {
			t.Fatal("Send refused a frame to a partitioned peer: a partition is silent")
		}
		b.tr.Send(1, seqFrame(seq, 16))
	}
	if err := a.tr.SendSnapshot(context.Background(), 2, nil, strings.NewReader("x")); !errors.Is(err, ErrPartitioned) {
		t.Errorf("snapshot across a partition: %v", err)
	}
	if err := b.tr.SendSnapshot(context.Background(), 1, nil, strings.NewReader("x")); err == nil || !strings.Contains(err.Error(), ErrPartitioned.Error()) {
		t.Errorf("snapshot into a partition: %v", err)
	}
	time.Sleep(100 * time.Millisecond)
	if n := b.rec.count(1) + a.rec.count(2); n != 0 {
		t.Fatalf("%d frames crossed a partition", n)
	}
	if got := counter(a.tr.m.dropped.WithLabelValues(label(2), dropFaultOutbound.String())); got != 50 {
		t.Errorf("fault-outbound drops = %v, want 50", got)
	}
	waitFor(t, 5*time.Second, "inbound drops counted", func() bool {
		return counter(a.tr.m.dropped.WithLabelValues(label(2), dropFaultInbound.String())) == 50
	})

	fa.Heal()
	sendAll(t, a.tr, 2, 100, 110, 16)
	sendAll(t, b.tr, 1, 100, 110, 16)
	waitFor(t, 5*time.Second, "delivery after healing", func() bool { return b.rec.count(1) == 10 && a.rec.count(2) == 10 })
	if err := a.tr.SendSnapshot(context.Background(), 2, nil, strings.NewReader("x")); err != nil {
		t.Errorf("snapshot after healing: %v", err)
	}
}

// A drop rule loses a seeded, reproducible share of frames; the rest
// arrive in order.
func TestFaultDropIsReproducible(t *testing.T) {
	run := func() []uint64 {
		f := NewFaults(42)
		if err := f.Set(Rule{Peer: 2, Direction: Outbound, Drop: 0.3}); err != nil {
			t.Fatal(err)
		}
		a := startNode(t, 1, "127.0.0.1:0", func(c *Config) { c.Faults = f })
		b := startNode(t, 2, "127.0.0.1:0", nil)
		if err := a.tr.AddPeer(2, b.addr); err != nil {
			t.Fatal(err)
		}
		const n = 1000
		sendAll(t, a.tr, 2, 0, n, 16)
		dropped := counter(a.tr.m.dropped.WithLabelValues(label(2), dropFaultOutbound.String()))
		waitFor(t, 5*time.Second, "the frames not dropped", func() bool { return b.rec.count(1) == n-int(dropped) })
		var seqs []uint64
		for _, f := range b.rec.received(1) {
			seqs = append(seqs, frameSeq(f))
		}
		if dropped < 200 || dropped > 400 {
			t.Errorf("dropped %v of %d at p=0.3", dropped, n)
		}
		return seqs
	}
	first, second := run(), run()
	if len(first) != len(second) {
		t.Fatalf("runs delivered %d and %d frames", len(first), len(second))
	}
	for i := range first {
		if first[i] != second[i] || (i > 0 && first[i] <= first[i-1]) {
			t.Fatalf("delivery %d: %d then %d", i, first[i], second[i])
		}
	}
}

// A delay rule holds frames back, in both directions.
func TestFaultDelay(t *testing.T) {
	const delay = 100 * time.Millisecond
	for _, dir := range []Direction{Outbound, Inbound} {
		t.Run(dir.String(), func(t *testing.T) {
			f := NewFaults(1)
			withFaults := func(d Direction) func(*Config) {
				return func(c *Config) {
					if d == dir {
						c.Faults = f
					}
				}
			}
			a := startNode(t, 1, "127.0.0.1:0", withFaults(Outbound))
			b := startNode(t, 2, "127.0.0.1:0", withFaults(Inbound))
			if err := a.tr.AddPeer(2, b.addr); err != nil {
				t.Fatal(err)
			}
			waitFor(t, 5*time.Second, "connection", func() bool { return a.tr.Peers()[0].Connected })
			peer := uint64(2)
			if dir == Inbound {
				peer = 1
			}
			if err := f.Set(Rule{Peer: peer, Direction: dir, Delay: delay}); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			sendAll(t, a.tr, 2, 0, 1, 16)
			waitFor(t, 5*time.Second, "the frame", func() bool { return b.rec.count(1) == 1 })
			if took := time.Since(start); took < delay {
				t.Errorf("delivered in %v despite a %v delay", took, delay)
			}
		})
	}
}
