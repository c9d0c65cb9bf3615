package raft

import "testing"

func TestThreeNodeElectAndReplicate(t *testing.T) {
	nw := newNetwork(t, 3)
	nw.campaign(1)
	if nw.leader() != 1 {
		t.Fatalf("leader %d\n%s", nw.leader(), nw)
	}
	for _, d := range []string{"a", "b", "c"} {
		if err := nw.propose(1, d); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range nw.ids {
		if got := len(nw.node(id).applied); got != 3 {
			t.Fatalf("node %d applied %d entries\n%s", id, got, nw)
		}
	}
	nw.checkLogsAgree()
	// A follower forwards proposals to the leader.
	if err := nw.propose(3, "d"); err != nil {
		t.Fatal(err)
	}
	if got := len(nw.node(2).applied); got != 4 {
		t.Fatalf("forwarded proposal not applied: %d\n%s", got, nw)
	}
}

func TestSingleNode(t *testing.T) {
	nw := newNetwork(t, 1)
	nw.campaign(1)
	if nw.leader() != 1 {
		t.Fatalf("single node did not become leader\n%s", nw)
	}
	if err := nw.propose(1, "x"); err != nil {
		t.Fatal(err)
	}
	if len(nw.node(1).applied) != 1 {
		t.Fatalf("not applied\n%s", nw)
	}
}
