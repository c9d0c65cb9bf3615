package gossipnet

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/cairndb/cairn/gossip"
)

// TestJoinThroughASeed: five drivers on real UDP sockets join through the
// first one (a push-pull over gRPC), and each ends up holding every other
// alive with its metadata; the gauges say so too.
func TestJoinThroughASeed(t *testing.T) {
	c := newCluster(t, 5, nil)
	took := c.waitFor("all alive", c.converged)
	t.Logf("5 nodes converged %v after start", took.Round(time.Millisecond))
	for i := range c.nodes {
		for _, n := range c.nodes {
			m, _ := c.view(i, n.id)
			if want := fmt.Sprintf("node-%d", n.id); m.Meta != want || m.Addr != n.addr {
				t.Errorf("node %d sees %d with meta %q addr %q, want %q %q", c.nodes[i].id, n.id, m.Meta, m.Addr, want, n.addr)
			}
		}
	}
	c.waitFor("gauges", func() (bool, string) {
		v := c.metric(2, "cairn_gossip_members", "state=alive")
		return v == 5, fmt.Sprintf("cairn_gossip_members{state=alive} = %v", v)
	})
	if v := c.metric(0, "cairn_gossip_push_pulls_total", "direction=inbound", "result=ok"); v < 1 {
		t.Errorf("the seed answered %v push-pulls", v)
	}
	c.waitFor("probes timed", func() (bool, string) {
		v := c.metric(1, "cairn_gossip_probe_rtt_seconds", "path=direct")
		return v > 0, "no direct probe round trip observed"
	})
	if v := c.metric(1, "cairn_gossip_messages_received_total", "type=ack"); v == 0 {
		t.Error("no ack received")
	}
}

// TestFailureDetection: a node that stops without leaving is suspected,
// then declared dead by every other node.
func TestFailureDetection(t *testing.T) {
	c := newCluster(t, 5, nil)
	c.waitFor("all alive", c.converged)
	victim := c.nodes[3].id
	c.crash(3)
	took := c.waitFor("victim dead everywhere", func() (bool, string) {
		return c.everyone(c.upNodes(), victim, gossip.StateDead)
	})
	t.Logf("crash seen dead by all 4 others after %v (probe period %v)", took.Round(time.Millisecond), testPeriod)
	var suspected float64
	for _, i := range c.upNodes() {
		suspected += c.metric(i, "cairn_gossip_events_total", "kind=suspect")
	}
	if suspected == 0 {
		t.Error("nobody recorded a suspect event before the death")
	}
}

// TestLeave: a node that leaves is held left, not dead, by the others.
func TestLeave(t *testing.T) {
	c := newCluster(t, 4, nil)
	c.waitFor("all alive", c.converged)
	leaver := c.nodes[2]
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	if err := leaver.d.Leave(ctx); err != nil {
		t.Fatal(err)
	}
	c.crash(2)
	c.waitFor("left everywhere", func() (bool, string) {
		return c.everyone(c.upNodes(), leaver.id, gossip.StateLeft)
	})
	if err := leaver.d.Join(nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Join after Close = %v, want ErrClosed", err)
	}
	ms, err := leaver.d.Members()
	if err != nil || len(ms) != 4 {
		t.Errorf("Members after Close = %d members, %v; want the final table of 4", len(ms), err)
	}
}

// TestPartitionAndHeal: fault rules (the transport's, keyed by node id)
// cut gossip between {1,2} and {3,4,5}: each side declares the other dead;
// after the heal, reconnection push-pulls bring all five back alive.
func TestPartitionAndHeal(t *testing.T) {
	c := newCluster(t, 5, nil)
	c.waitFor("all alive", c.converged)
	left, right := []int{0, 1}, []int{2, 3, 4}
	cut := func(side []int, others []int) {
		for _, i := range side {
			for _, j := range others {
				c.nodes[i].faults.Partition(uint64(c.nodes[j].id))
			}
		}
	}
	cut(left, right)
	cut(right, left)
	took := c.waitFor("each side holds the other dead", func() (bool, string) {
		for _, j := range right {
			if ok, why := c.everyone(left, c.nodes[j].id, gossip.StateDead); !ok {
				return false, why
			}
		}
		for _, j := range left {
			if ok, why := c.everyone(right, c.nodes[j].id, gossip.StateDead); !ok {
				return false, why
			}
		}
		return true, ""
	})
	t.Logf("partition 2|3: each side held the other dead after %v", took.Round(time.Millisecond))
	if v := c.metric(0, "cairn_gossip_messages_dropped_total", "reason=fault"); v == 0 {
		t.Error("no datagram dropped by the fault rules")
	}
	// Within a side, everyone is still alive.
	if ok, why := c.everyone(right, c.nodes[2].id, gossip.StateAlive); !ok {
		t.Fatal(why)
	}
	for _, n := range c.nodes {
		n.faults.Heal()
	}
	took = c.waitFor("converged after heal", c.converged)
	t.Logf("healed: all alive again after %v", took.Round(time.Millisecond))
}

// TestRestartRejoinsAboveItsDeath: a crashed node restarted with its
// persisted incarnation comes back alive at a higher one everywhere.
func TestRestartRejoinsAboveItsDeath(t *testing.T) {
	c := newCluster(t, 3, nil)
	c.waitFor("all alive", c.converged)
	victim := c.nodes[2]
	before := victim.store.last()
	c.crash(2)
	c.waitFor("dead", func() (bool, string) { return c.everyone(c.upNodes(), victim.id, gossip.StateDead) })
	c.start(2)
	c.waitFor("back alive", c.converged)
	m, _ := c.view(0, victim.id)
	if m.Incarnation <= before {
		t.Fatalf("restarted node at incarnation %d, was %d before the crash", m.Incarnation, before)
	}
	if got := victim.store.last(); got != m.Incarnation {
		t.Fatalf("store holds %d, the cluster sees %d", got, m.Incarnation)
	}
}

// TestNothingSentWhileUnpersisted: when the incarnation store fails, a
// new incarnation (SetMeta) is never announced; once the store works
// again it is, and it is stored first.
func TestNothingSentWhileUnpersisted(t *testing.T) {
	c := newCluster(t, 3, nil)
	c.waitFor("all alive", c.converged)
	n := c.nodes[1]
	before := n.store.last()
	n.store.setFail(errors.New("disk on fire"))
	if err := n.d.SetMeta([]byte("new-meta")); err != nil {
		t.Fatal(err)
	}
	c.waitFor("drops counted", func() (bool, string) {
		v := c.metric(1, "cairn_gossip_messages_dropped_total", "reason=unpersisted")
		return v > 0, "no unpersisted drop"
	})
	// Several probe periods in which the others would have heard it.
	time.Sleep(5 * testPeriod)
	for _, i := range []int{0, 2} {
		if m, _ := c.view(i, n.id); m.Meta == "new-meta" || m.Incarnation > before {
			t.Fatalf("node %d heard incarnation %d (%q) that was never persisted (store at %d)", c.nodes[i].id, m.Incarnation, m.Meta, before)
		}
	}
	if v := c.metric(1, "cairn_gossip_persist_failures_total"); v == 0 {
		t.Error("persist failures not counted")
	}
	n.store.setFail(nil)
	c.waitFor("new meta everywhere", func() (bool, string) {
		for _, i := range []int{0, 2} {
			if m, _ := c.view(i, n.id); m.Meta != "new-meta" {
				return false, fmt.Sprintf("node %d sees %q", c.nodes[i].id, m.Meta)
			}
		}
		return true, ""
	})
	m, _ := c.view(0, n.id)
	if n.store.last() < m.Incarnation {
		t.Fatalf("cluster sees incarnation %d, store holds %d", m.Incarnation, n.store.last())
	}
}

// TestNewFailsWithoutPersistence: a node that cannot store its first
// incarnation does not start.
func TestNewFailsWithoutPersistence(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Core.ID = 1
	cfg.ListenAddr = "127.0.0.1:0"
	cfg.Persist = func(uint64) error { return errors.New("read-only") }
	if _, err := New(cfg); err == nil {
		t.Fatal("New succeeded without persisting its incarnation")
	}
	cfg.Persist = nil
	if _, err := New(cfg); !errors.Is(err, ErrConfigInvalid) {
		t.Fatalf("New without Persist = %v, want ErrConfigInvalid", err)
	}
}
