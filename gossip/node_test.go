package gossip

import (
	"errors"
	"strings"
	"testing"
)

func TestJoinThroughSeedConverges(t *testing.T) {
	c := newTestCluster(t, 8, nil)
	c.joinAll()
	for _, id := range c.ids {
		for _, other := range c.ids {
			if other != id && !c.hasEvent(id, EventJoin, other) {
				t.Errorf("node %d has no join event for %d", id, other)
			}
		}
		if !c.hasEvent(id, EventJoin, id) {
			t.Errorf("node %d has no join event for itself", id)
		}
	}
}

func TestFirstReadyCarriesIncarnation(t *testing.T) {
	cfg := testConfig(1, 1)
	cfg.LastIncarnation = 41
	n, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rd := n.Ready()
	if rd.Incarnation != 42 || n.Incarnation() != 42 {
		t.Fatalf("first Ready incarnation %d, node %d; want 42 (LastIncarnation+1)", rd.Incarnation, n.Incarnation())
	}
	if n.HasReady() {
		t.Fatal("Ready did not clear the pending effects")
	}
}

// A crashed member is suspected after a failed probe and declared dead by
// everyone, never before the minimum suspicion timeout.
func TestCrashIsDetectedAfterSuspicionTimeout(t *testing.T) {
	c := newTestCluster(t, 8, nil)
	c.joinAll()
	c.crash(3)
	cfg := DefaultConfig()
	lo, hi := suspicionBounds(&cfg, 8)
	for tick := 1; tick <= int(hi)+20*cfg.ProbeIntervalTicks; tick++ {
		c.tick(1)
		for _, id := range c.ids {
			if id == 3 {
				continue
			}
			if c.state(id, 3) == StateDead && tick < int(lo) {
				t.Fatalf("node %d declared 3 dead %d ticks after the crash, minimum suspicion is %d", id, tick, lo)
			}
		}
		done := true
		for _, id := range c.ids {
			if id != 3 && c.state(id, 3) != StateDead {
				done = false
			}
		}
		if done {
			t.Logf("all nodes hold 3 dead %d ticks after the crash (min suspicion %d, max %d)", tick, lo, hi)
			return
		}
	}
	t.Fatal("crash of node 3 not detected by all within the bound")
}

// A member that misses a few probes refutes the suspicion and is never
// declared dead.
func TestSuspectRefutesAndSurvives(t *testing.T) {
	c := newTestCluster(t, 6, nil)
	c.joinAll()
	before := c.nodes[2].Incarnation()
	c.drop = func(m Message) bool { return m.To == 2 } // node 2 hears nothing
	for i := 0; i < 40 && !anySuspects(c, 2); i++ {
		c.tick(1)
	}
	if !anySuspects(c, 2) {
		t.Fatal("node 2 was never suspected")
	}
	c.drop = nil
	c.tick(30 * DefaultConfig().ProbeIntervalTicks)
	for _, id := range c.ids {
		if c.hasEvent(id, EventDead, 2) {
			t.Fatalf("node %d declared 2 dead although it refuted", id)
		}
	}
	if c.nodes[2].Incarnation() <= before {
		t.Fatalf("node 2 did not refute: incarnation %d, was %d", c.nodes[2].Incarnation(), before)
	}
	if c.incs[2] != c.nodes[2].Incarnation() {
		t.Fatalf("refuted incarnation %d was not handed to the driver (persisted %d)", c.nodes[2].Incarnation(), c.incs[2])
	}
	if !c.allSee(StateAlive) {
		t.Fatal("cluster did not return to all alive")
	}
}

func anySuspects(c *testCluster, member NodeID) bool {
	for _, id := range c.ids {
		if id != member && c.state(id, member) == StateSuspect {
			return true
		}
	}
	return false
}

// Being told of one's own suspicion raises the incarnation past the
// accusation and costs a point of local health (Lifeguard).
func TestRefutationOfDirectAccusation(t *testing.T) {
	c := newTestCluster(t, 3, nil)
	c.joinAll()
	n2 := c.nodes[2]
	inc := n2.Incarnation()
	if err := n2.Step(1, Message{Kind: MsgGossip, From: 1, To: 2, Updates: []Update{{Member: 2, Incarnation: inc + 5, State: StateDead, From: 1}}}); err != nil {
		t.Fatal(err)
	}
	if got := n2.Incarnation(); got != inc+6 {
		t.Fatalf("incarnation %d after an accusation at %d, want %d", got, inc+5, inc+6)
	}
	if n2.LocalHealth() != 1 {
		t.Fatalf("local health %d after a refutation, want 1", n2.LocalHealth())
	}
	if st, _ := n2.State(2); st != StateAlive {
		t.Fatalf("node believes itself %v", st)
	}
	// An accusation at an older incarnation changes nothing.
	if err := n2.Step(1, Message{Kind: MsgGossip, From: 1, To: 2, Updates: []Update{{Member: 2, Incarnation: inc, State: StateSuspect, From: 1}}}); err != nil {
		t.Fatal(err)
	}
	if n2.Incarnation() != inc+6 {
		t.Fatal("a stale accusation raised the incarnation")
	}
}

func TestStaleAliveDoesNotReviveDead(t *testing.T) {
	n, err := New(testConfig(1, 1))
	if err != nil {
		t.Fatal(err)
	}
	step := func(u Update) {
		t.Helper()
		if err := n.Step(2, Message{Kind: MsgGossip, From: 2, To: 1, Updates: []Update{u}}); err != nil {
			t.Fatal(err)
		}
	}
	step(Update{Member: 7, Incarnation: 5, State: StateAlive})
	step(Update{Member: 7, Incarnation: 5, State: StateDead, From: 2})
	step(Update{Member: 7, Incarnation: 5, State: StateAlive})
	if st, _ := n.State(7); st != StateDead {
		t.Fatalf("alive at the same incarnation revived a dead member: %v", st)
	}
	step(Update{Member: 7, Incarnation: 9, State: StateSuspect, From: 2})
	if st, _ := n.State(7); st != StateDead {
		t.Fatalf("a suspicion revived a dead member: %v", st)
	}
	step(Update{Member: 7, Incarnation: 6, State: StateAlive, Meta: "v6"})
	if m, _ := n.Member(7); m.State != StateAlive || m.Incarnation != 6 || m.Meta != "v6" {
		t.Fatalf("rejoin at a higher incarnation not taken: %+v", m)
	}
	// A death or leave of a stranger is no news.
	step(Update{Member: 8, Incarnation: 1, State: StateDead, From: 2})
	step(Update{Member: 9, Incarnation: 1, State: StateLeft})
	if _, ok := n.Member(8); ok {
		t.Fatal("a death introduced an unknown member")
	}
	if _, ok := n.Member(9); ok {
		t.Fatal("a leave introduced an unknown member")
	}
	if err := n.Valid(); err != nil {
		t.Fatal(err)
	}
}

// A push-pull table's death is only a suspicion, and a suspect entry
// introduces an unknown member.
func TestPushPullDeathIsOnlySuspicion(t *testing.T) {
	n, err := New(testConfig(1, 1))
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Step(2, Message{Kind: MsgGossip, From: 2, To: 1, Updates: []Update{{Member: 7, Incarnation: 3, State: StateAlive}}}); err != nil {
		t.Fatal(err)
	}
	table := []Update{
		{Member: 2, Incarnation: 1, State: StateAlive},
		{Member: 7, Incarnation: 3, State: StateDead},
		{Member: 8, Incarnation: 2, State: StateSuspect},
	}
	if err := n.Step(2, Message{Kind: MsgPushPullReply, From: 2, To: 1, Updates: table}); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[NodeID]State{2: StateAlive, 7: StateSuspect, 8: StateSuspect} {
		if st, _ := n.State(id); st != want {
			t.Errorf("member %d is %v, want %v", id, st, want)
		}
	}
	if err := n.Valid(); err != nil {
		t.Fatal(err)
	}
}

// A node that thinks the sender of a ping dead says so in its ack, and
// the sender refutes at once.
func TestAccusationOnContact(t *testing.T) {
	c := newTestCluster(t, 3, nil)
	c.joinAll()
	inc := c.nodes[2].Incarnation()
	if err := c.nodes[1].Step(3, Message{Kind: MsgGossip, From: 3, To: 1, Updates: []Update{{Member: 2, Incarnation: inc, State: StateDead, From: 3}}}); err != nil {
		t.Fatal(err)
	}
	c.collect(c.nodes[1])
	c.queue = nil // the death's gossip is lost: only the contact can tell 2
	if err := c.nodes[1].Step(2, Message{Kind: MsgPing, From: 2, To: 1, Seq: 99}); err != nil {
		t.Fatal(err)
	}
	rd := c.nodes[1].Ready()
	if len(rd.Messages) != 1 || rd.Messages[0].Msg.Kind != MsgAck || len(rd.Messages[0].Msg.Updates) == 0 {
		t.Fatalf("want one ack with updates, got %+v", rd.Messages)
	}
	first := rd.Messages[0].Msg.Updates[0]
	if first.Member != 2 || first.State != StateDead {
		t.Fatalf("first update of the ack is %v, want the death of 2", first)
	}
	if err := c.nodes[2].Step(rd.Messages[0].Msg.From, rd.Messages[0].Msg); err != nil {
		t.Fatal(err)
	}
	if c.nodes[2].Incarnation() <= inc {
		t.Fatal("node 2 did not refute its death")
	}
}

// Lifeguard local health: a node that hears nothing (neither acks nor
// nacks) raises its multiplier to the maximum and probes less often; once
// it hears again it recovers. A node whose probes fail because the target
// is dead gets nacks from its helpers and stays healthy.
func TestLocalHealthSlowsAnIsolatedProber(t *testing.T) {
	c := newTestCluster(t, 6, nil)
	c.joinAll()
	cfg := DefaultConfig()
	c.drop = func(m Message) bool { return m.To == 1 }
	before := c.nodes[1].Stats().ProbesSent
	c.tick(60 * cfg.ProbeIntervalTicks)
	if h := c.nodes[1].LocalHealth(); h != cfg.MaxLocalHealth {
		t.Fatalf("isolated node's local health %d, want the maximum %d", h, cfg.MaxLocalHealth)
	}
	probes := c.nodes[1].Stats().ProbesSent - before
	if probes > 60/3 {
		t.Fatalf("isolated node sent %d probes in 60 periods: local health did not slow it", probes)
	}
	c.drop = nil
	c.tick(200 * cfg.ProbeIntervalTicks)
	if h := c.nodes[1].LocalHealth(); h != 0 {
		t.Fatalf("local health %d after recovery, want 0", h)
	}
}

func TestNacksKeepAHealthyProberHealthy(t *testing.T) {
	c := newTestCluster(t, 6, nil)
	c.joinAll()
	c.crash(4)
	cfg := DefaultConfig()
	c.tick(20 * cfg.ProbeIntervalTicks)
	for _, id := range c.ids {
		if id == 4 {
			continue
		}
		if h := c.nodes[id].LocalHealth(); h != 0 {
			t.Errorf("node %d: local health %d after probing a dead member with nacks on", id, h)
		}
		if s := c.nodes[id].Stats(); s.ProbesFailed > 0 && s.NacksReceived == 0 {
			t.Errorf("node %d: %d failed probes and no nack", id, s.ProbesFailed)
		}
	}
}

func TestLeaveIsNotDeath(t *testing.T) {
	c := newTestCluster(t, 6, nil)
	c.joinAll()
	c.nodes[3].Leave()
	c.collect(c.nodes[3])
	probes := c.nodes[3].Stats().ProbesSent
	c.tick(10 * DefaultConfig().ProbeIntervalTicks)
	for _, id := range c.ids {
		if id == 3 {
			continue
		}
		if st := c.state(id, 3); st != StateLeft {
			t.Errorf("node %d holds 3 as %v, want left", id, st)
		}
		if c.hasEvent(id, EventDead, 3) {
			t.Errorf("node %d declared the leaving node dead", id)
		}
		if !c.hasEvent(id, EventLeave, 3) {
			t.Errorf("node %d has no leave event", id)
		}
	}
	if c.nodes[3].Stats().ProbesSent != probes {
		t.Error("a node that left kept probing")
	}
	if err := c.nodes[3].Join([]Seed{{ID: 1}}); !errors.Is(err, ErrLeft) {
		t.Errorf("Join after Leave: %v, want ErrLeft", err)
	}
	if err := c.nodes[3].SetMeta(nil); !errors.Is(err, ErrLeft) {
		t.Errorf("SetMeta after Leave: %v, want ErrLeft", err)
	}
}

func TestSetMetaSpreadsWithIncarnation(t *testing.T) {
	c := newTestCluster(t, 6, nil)
	c.joinAll()
	inc := c.nodes[5].Incarnation()
	if err := c.nodes[5].SetMeta([]byte("zone=b")); err != nil {
		t.Fatal(err)
	}
	c.collect(c.nodes[5])
	c.tick(10 * DefaultConfig().ProbeIntervalTicks)
	for _, id := range c.ids {
		m, _ := c.nodes[id].Member(5)
		if m.Meta != "zone=b" || m.Incarnation != inc+1 {
			t.Errorf("node %d sees 5 as %+v", id, m)
		}
		if id != 5 && !c.hasEvent(id, EventUpdate, 5) {
			t.Errorf("node %d got no update event", id)
		}
	}
	if err := c.nodes[5].SetMeta(make([]byte, DefaultConfig().MaxMetaBytes+1)); !errors.Is(err, ErrMetaTooLarge) {
		t.Fatalf("oversized meta: %v", err)
	}
}

// A node restarted with its persisted incarnation comes back one higher
// and overrides its death everywhere.
func TestRejoinAfterRestart(t *testing.T) {
	c := newTestCluster(t, 6, nil)
	c.joinAll()
	c.crash(4)
	cfg := DefaultConfig()
	for i := 0; i < 100 && !allHold(c, 4, StateDead); i++ {
		c.tick(cfg.ProbeIntervalTicks)
	}
	if !allHold(c, 4, StateDead) {
		t.Fatal("crash not detected")
	}
	old := c.incs[4]
	n := c.start(4)
	if n.Incarnation() != old+1 {
		t.Fatalf("restarted at %d, want %d", n.Incarnation(), old+1)
	}
	if err := n.Join([]Seed{{ID: 1}}); err != nil {
		t.Fatal(err)
	}
	c.collect(n)
	c.tick(10 * cfg.ProbeIntervalTicks)
	if !c.allSee(StateAlive) {
		t.Fatal("restarted node not alive everywhere")
	}
	for _, id := range c.ids {
		if id == 4 {
			continue
		}
		found := false
		for _, e := range c.events[id] {
			if e.Kind == EventJoin && e.Member.ID == 4 && e.PrevState == StateDead {
				found = true
			}
		}
		if !found {
			t.Errorf("node %d: no join event from dead for the restarted node", id)
		}
	}
}

func allHold(c *testCluster, member NodeID, s State) bool {
	for _, id := range c.ids {
		if n, ok := c.nodes[id]; ok && id != member {
			if st, _ := n.State(member); st != s {
				return false
			}
		}
	}
	return true
}

// Two sides that declared each other dead find each other again through
// reconnection once the partition heals.
func TestPartitionHealsByReconnecting(t *testing.T) {
	c := newTestCluster(t, 6, nil)
	c.joinAll()
	side := func(id NodeID) int { return int(id-1) / 3 }
	c.drop = func(m Message) bool { return side(m.From) != side(m.To) }
	cfg := DefaultConfig()
	for i := 0; i < 200; i++ {
		c.tick(cfg.ProbeIntervalTicks)
		if c.state(1, 4) == StateDead && c.state(4, 1) == StateDead {
			break
		}
	}
	if c.state(1, 4) != StateDead || c.state(4, 1) != StateDead {
		t.Fatal("the sides did not declare each other dead")
	}
	c.drop = nil
	for i := 0; i < 3*cfg.ReconnectIntervalTicks/cfg.ProbeIntervalTicks && !c.allSee(StateAlive); i++ {
		c.tick(cfg.ProbeIntervalTicks)
	}
	if !c.allSee(StateAlive) {
		t.Fatal("membership did not heal within three reconnect intervals")
	}
}

func TestMisdirectedPingIsIgnored(t *testing.T) {
	n, _ := New(testConfig(1, 1))
	n.Ready()
	if err := n.Step(2, Message{Kind: MsgPing, From: 2, To: 3, Seq: 1}); err != nil {
		t.Fatal(err)
	}
	if rd := n.Ready(); len(rd.Messages) != 0 || n.Stats().Misdirected != 1 {
		t.Fatalf("misdirected ping answered: %+v", rd.Messages)
	}
}

func TestStepRejectsInvalidMessages(t *testing.T) {
	n, _ := New(testConfig(1, 1))
	big := strings.Repeat("x", DefaultConfig().MaxMetaBytes+1)
	tooMany := make([]Update, DefaultConfig().MaxUpdatesPerMessage+1)
	for i := range tooMany {
		tooMany[i] = Update{Member: NodeID(i + 2), Incarnation: 1, State: StateAlive}
	}
	for name, m := range map[string]Message{
		"no sender":        {Kind: MsgPing, To: 1},
		"unknown kind":     {Kind: 99, From: 2},
		"zero kind":        {From: 2},
		"ping-req no tgt":  {Kind: MsgPingReq, From: 2, To: 1},
		"member 0":         {Kind: MsgGossip, From: 2, Updates: []Update{{Incarnation: 1, State: StateAlive}}},
		"incarnation 0":    {Kind: MsgGossip, From: 2, Updates: []Update{{Member: 3, State: StateAlive}}},
		"bad state":        {Kind: MsgGossip, From: 2, Updates: []Update{{Member: 3, Incarnation: 1, State: 9}}},
		"meta too large":   {Kind: MsgGossip, From: 2, Updates: []Update{{Member: 3, Incarnation: 1, State: StateAlive, Meta: big}}},
		"too many updates": {Kind: MsgGossip, From: 2, Updates: tooMany},
	} {
		if err := n.Step(m.From, m); !errors.Is(err, ErrInvalidMessage) {
			t.Errorf("%s: %v, want ErrInvalidMessage", name, err)
		}
	}
	if err := n.Step(3, Message{Kind: MsgGossip, From: 2, Updates: []Update{alive(5, 1)}}); !errors.Is(err, ErrInvalidMessage) {
		t.Errorf("sender mismatch: %v, want ErrInvalidMessage", err)
	}
	if n.NumMembers() != 1 {
		t.Fatal("an invalid message changed the table")
	}
}

// A table is anti-entropy: a joiner does not re-announce the members it
// learns from it, only the sender's own entry, suspicions and revivals.
func TestTableEntriesAreNotRegossiped(t *testing.T) {
	n, _ := New(testConfig(1, 1))
	table := []Update{{Member: 2, Incarnation: 1, State: StateAlive}}
	for id := NodeID(3); id <= 100; id++ {
		table = append(table, Update{Member: id, Incarnation: 1, State: StateAlive})
	}
	table = append(table, Update{Member: 101, Incarnation: 1, State: StateSuspect})
	if err := n.Step(2, Message{Kind: MsgPushPullReply, From: 2, To: 1, Updates: table}); err != nil {
		t.Fatal(err)
	}
	queued := map[NodeID]State{}
	for id, q := range n.queue.byMember {
		queued[id] = q.u.State
	}
	if len(queued) != 3 || queued[1] != StateAlive || queued[2] != StateAlive || queued[101] != StateSuspect {
		t.Fatalf("queued after a table: %v; want only self, the sender and the suspicion", queued)
	}
	// A revival from a table is passed on.
	if err := n.Step(2, Message{Kind: MsgGossip, From: 2, To: 1, Updates: []Update{{Member: 50, Incarnation: 1, State: StateDead, From: 2}}}); err != nil {
		t.Fatal(err)
	}
	n.queue.remove(50)
	if err := n.Step(3, Message{Kind: MsgPushPull, From: 3, To: 1, Updates: []Update{{Member: 50, Incarnation: 2, State: StateAlive}}}); err != nil {
		t.Fatal(err)
	}
	if q, ok := n.queue.byMember[50]; !ok || q.u.State != StateAlive || q.u.Incarnation != 2 {
		t.Fatal("a revival learned from a table was not passed on")
	}
}

// The optional fan-out spreads a change to every node even when nobody
// probes: with probes stretched far apart, only gossip messages carry it.
func TestGossipFanoutSpreadsWithoutProbes(t *testing.T) {
	c := newTestCluster(t, 8, nil)
	c.joinAll()
	for _, id := range c.ids {
		n := c.nodes[id]
		n.cfg.ProbeIntervalTicks, n.cfg.ProbeTimeoutTicks = 1<<20, 1<<19
		n.nextProbe, n.probe = n.now+1<<20, probeState{}
		n.cfg.GossipFanout, n.cfg.GossipIntervalTicks = 2, 2
	}
	c.tick(50) // drain what the join left in the queues
	if err := c.nodes[3].SetMeta([]byte("v2")); err != nil {
		t.Fatal(err)
	}
	c.collect(c.nodes[3])
	pings := uint64(0)
	for _, id := range c.ids {
		pings += c.nodes[id].Stats().ProbesSent
	}
	c.tick(40)
	for _, id := range c.ids {
		if m, _ := c.nodes[id].Member(3); m.Meta != "v2" {
			t.Fatalf("node %d did not get the update by gossip: %+v", id, m)
		}
		pings -= c.nodes[id].Stats().ProbesSent
	}
	if pings != 0 {
		t.Fatal("probes ran; the test no longer isolates gossip")
	}
}
