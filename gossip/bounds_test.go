package gossip

import (
	"fmt"
	"testing"

	"github.com/cairndb/cairn/detector"
)

// Every datagram fits MaxMessageBytes even when each member carries the
// largest metadata.
func TestDatagramsRespectMaxMessageBytes(t *testing.T) {
	c := newTestCluster(t, 20, nil)
	for _, id := range c.ids {
		meta := make([]byte, DefaultConfig().MaxMetaBytes)
		for i := range meta {
			meta[i] = byte(id)
		}
		if err := c.nodes[id].SetMeta(meta); err != nil {
			t.Fatal(err)
		}
	}
	checked := 0
	for _, id := range c.ids {
		c.nodes[id].Join([]Seed{{ID: 1}})
	}
	for i := 0; i < 50; i++ {
		for _, id := range c.ids {
			c.nodes[id].Tick()
			rd := c.nodes[id].Ready()
			for _, o := range rd.Messages {
				if !o.Msg.Kind.Stream() {
					checked++
					if size := EncodedSize(&o.Msg); size > DefaultConfig().MaxMessageBytes {
						t.Fatalf("%v of %d bytes", o.Msg.Kind, size)
					}
				}
				if n, ok := c.nodes[o.Msg.To]; ok {
					if err := n.Step(o.Msg.From, o.Msg); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
	}
	if checked < 100 {
		t.Fatalf("only %d datagrams checked", checked)
	}
}

func TestMaxMembersEvictsDeadThenRefuses(t *testing.T) {
	cfg := testConfig(1, 1)
	cfg.MaxMembers = 4
	n, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	gossip := func(us ...Update) {
		t.Helper()
		if err := n.Step(2, Message{Kind: MsgGossip, From: 2, To: 1, Updates: us}); err != nil {
			t.Fatal(err)
		}
	}
	gossip(alive(2, 1), alive(3, 1), alive(4, 1))
	gossip(Update{Member: 3, Incarnation: 1, State: StateDead, From: 2})
	gossip(alive(5, 1)) // evicts dead 3
	if _, ok := n.Member(3); ok || n.NumMembers() != 4 {
		t.Fatalf("dead member not evicted: %d members", n.NumMembers())
	}
	gossip(alive(6, 1)) // no dead member left: refused
	if _, ok := n.Member(6); ok || n.Stats().MembersRefused != 1 {
		t.Fatalf("member beyond the bound accepted (refused %d)", n.Stats().MembersRefused)
	}
	if err := n.Valid(); err != nil {
		t.Fatal(err)
	}
}

func TestPendingBounds(t *testing.T) {
	cfg := testConfig(1, 1)
	cfg.MaxPendingMessages = 3
	cfg.MaxPendingEvents = 2
	cfg.MaxPendingRelays = 2
	n, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		n.Step(2, Message{Kind: MsgPingReq, From: 2, To: 1, Seq: uint64(i), Target: 3})
	}
	if s := n.Stats(); s.RelaysRefused != 3 {
		t.Fatalf("relays refused %d, want 3", s.RelaysRefused)
	}
	for i := 0; i < 5; i++ {
		n.Step(2, Message{Kind: MsgPing, From: 2, To: 1, Seq: uint64(i)})
	}
	for i := 0; i < 5; i++ {
		n.Step(2, Message{Kind: MsgGossip, From: 2, To: 1, Updates: []Update{alive(NodeID(10+i), 1)}})
	}
	rd := n.Ready()
	if len(rd.Messages) != 3 || n.Stats().MessagesDropped == 0 {
		t.Fatalf("%d messages out, %d dropped; want 3 and some", len(rd.Messages), n.Stats().MessagesDropped)
	}
	if len(rd.Events) != 2 || rd.EventsDropped != 4 {
		t.Fatalf("%d events, %d dropped; want 2 and 4", len(rd.Events), rd.EventsDropped)
	}
	if rd.Events[1].Member.ID != 14 {
		t.Fatal("the newest events were not the ones kept")
	}
}

func TestPushPullRepliesPerTick(t *testing.T) {
	cfg := testConfig(1, 1)
	cfg.MaxPushPullRepliesPerTick = 2
	n, _ := New(cfg)
	n.Ready()
	for i := 0; i < 5; i++ {
		n.Step(NodeID(2+i), Message{Kind: MsgPushPull, From: NodeID(2 + i), To: 1, Updates: []Update{alive(NodeID(2+i), 1)}})
	}
	if got := len(n.Ready().Messages); got != 2 || n.Stats().PushPullsRefused != 3 {
		t.Fatalf("%d replies, %d refused; want 2 and 3", got, n.Stats().PushPullsRefused)
	}
	n.Tick()
	n.Step(9, Message{Kind: MsgPushPull, From: 9, To: 1, Updates: []Update{alive(9, 1)}})
	found := false
	for _, o := range n.Ready().Messages {
		found = found || (o.Msg.Kind == MsgPushPullReply && o.Msg.To == 9)
	}
	if !found {
		t.Fatal("the reply budget did not renew on the next tick")
	}
}

func TestTooManySeeds(t *testing.T) {
	n, _ := New(testConfig(1, 1))
	seeds := make([]Seed, maxSeeds+1)
	if err := n.Join(seeds); err == nil {
		t.Fatal("Join accepted too many seeds")
	}
}

// The phi detector grades a member that goes quiet.
func TestPhiGradesSilence(t *testing.T) {
	pc := detector.DefaultPhiAccrualConfig()
	c := newTestCluster(t, 4, func(cfg *Config) { cfg.Phi = &pc })
	c.joinAll()
	c.tick(200)
	m, _ := c.nodes[1].Member(2)
	quiet := m.Phi
	c.crash(2)
	c.tick(30)
	m, _ = c.nodes[1].Member(2)
	if !(m.Phi > quiet+1) {
		t.Fatalf("phi of a silent member %.2f, was %.2f", m.Phi, quiet)
	}
	t.Logf("phi %.2f while talking, %.2f after 3 s of silence", quiet, m.Phi)
}

// Same seed, same messages: the core draws only from Config.Rand and
// never lets map order reach its output.
func TestCoreIsDeterministic(t *testing.T) {
	run := func() string {
		c := newTestCluster(t, 10, nil)
		c.joinAll()
		c.crash(5)
		var trace string
		for i := 0; i < 300; i++ {
			for _, id := range c.ids {
				if n, ok := c.nodes[id]; ok {
					n.Tick()
					for _, o := range n.Ready().Messages {
						trace += fmt.Sprintf("%v %d>%d %d %v;", o.Msg.Kind, o.Msg.From, o.Msg.To, o.Msg.Seq, o.Msg.Updates)
						if dst, ok := c.nodes[o.Msg.To]; ok {
							dst.Step(o.Msg.From, o.Msg)
						}
					}
				}
			}
		}
		return trace
	}
	if a, b := run(), run(); a != b {
		t.Fatal("two runs with the same seed differ")
	}
}

// A ping-req that names the helper itself is answered at once.
func TestPingReqForSelfIsAcked(t *testing.T) {
	n, _ := New(testConfig(1, 1))
	n.Ready()
	if err := n.Step(2, Message{Kind: MsgPingReq, From: 2, To: 1, Seq: 5, Target: 1}); err != nil {
		t.Fatal(err)
	}
	rd := n.Ready()
	if len(rd.Messages) != 1 || rd.Messages[0].Msg.Kind != MsgAck || rd.Messages[0].Msg.Seq != 5 || rd.Messages[0].Msg.To != 2 {
		t.Fatalf("want an ack of seq 5 to 2, got %+v", rd.Messages)
	}
}
