package cluster

import (
	"strings"
	"testing"
	"time"

	"github.com/cairndb/cairn/transport"
)

func TestRulesForCutLinksBothEnds(t *testing.T) {
	ids := []uint64{11, 22, 33}
	want := Faults{Cut: []Link{{From: 0, To: 1}, {From: 2, To: 1}}, Loss: map[int]float64{1: 0.2}, Delay: map[int]time.Duration{1: 20 * time.Second}}
	r0, err := rulesFor(0, want, ids)
	if err != nil || len(r0) != 1 || r0[0] != (transport.Rule{Peer: 22, Direction: transport.Outbound, Partition: true}) {
		t.Fatalf("member 0 (sender of a cut link): %v %v", r0, err)
	}
	r1, err := rulesFor(1, want, ids)
	if err != nil {
		t.Fatal(err)
	}
	got := map[transport.Rule]bool{}
	for _, r := range r1 {
		got[r] = true
	}
	for _, r := range []transport.Rule{
		{Peer: 11, Direction: transport.Inbound, Partition: true},
		{Peer: 33, Direction: transport.Inbound, Partition: true},
		// Delay is capped at the hook's maximum.
		{Peer: transport.AllPeers, Direction: transport.Both, Drop: 0.2, Delay: transport.MaxFaultDelay},
	} {
		if !got[r] {
			t.Errorf("member 1 lacks %+v: %v", r, r1)
		}
	}
	if len(r1) != 3 {
		t.Errorf("member 1 has %d rules, want 3: %v", len(r1), r1)
	}
	if r2, _ := rulesFor(2, Faults{}, ids); len(r2) != 0 {
		t.Errorf("a healthy network gave rules %v", r2)
	}
	if _, err := rulesFor(0, want, []uint64{11, 0, 33}); err == nil {
		t.Error("a cut to a member of unknown ID was accepted")
	}
}

func TestFaultsString(t *testing.T) {
	if s := (Faults{}).String(); s != "healthy" {
		t.Fatal(s)
	}
	s := Faults{Cut: []Link{{From: 0, To: 2}}, Loss: map[int]float64{1: 0.1}}.String()
	if !strings.Contains(s, "0->2 cut") || !strings.Contains(s, "1 loses 10%") {
		t.Fatal(s)
	}
}
