package gossipnet

import (
	"errors"
	"testing"
	"time"

	"github.com/cairndb/cairn/gossip"
)

// TestSubscriptionSeesTheChanges: a subscriber gets the table and then,
// in order, the suspicion and the death of a crashed member; applying the
// events to the snapshot gives the node's current view.
func TestSubscriptionSeesTheChanges(t *testing.T) {
	c := newCluster(t, 4, nil)
	c.waitFor("all alive", c.converged)
	sub, snap, err := c.nodes[0].d.Subscribe()
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	view := map[gossip.NodeID]gossip.Member{}
	for _, m := range snap {
		view[m.ID] = m
	}
	if len(view) != 4 {
		t.Fatalf("snapshot of %d members", len(view))
	}
	victim := c.nodes[3].id
	c.crash(3)
	var kinds []gossip.EventKind
	deadline := time.After(within)
	for view[victim].State != gossip.StateDead {
		select {
		case e := <-sub.C():
			prev := view[e.Member.ID]
			if e.PrevState != prev.State || e.PrevIncarnation != prev.Incarnation {
				t.Fatalf("event %v %d: prev %v@%d, the subscriber held %v@%d", e.Kind, e.Member.ID, e.PrevState, e.PrevIncarnation, prev.State, prev.Incarnation)
			}
			view[e.Member.ID] = e.Member
			if e.Member.ID == victim {
				kinds = append(kinds, e.Kind)
			}
		case <-deadline:
			t.Fatalf("no death of %d within %v; events about it: %v", victim, within, kinds)
		}
	}
	if len(kinds) < 2 || kinds[0] != gossip.EventSuspect || kinds[len(kinds)-1] != gossip.EventDead {
		t.Errorf("events about the victim: %v, want suspect ... dead", kinds)
	}
	if sub.Dropped() != 0 {
		t.Errorf("%d events dropped with room to spare", sub.Dropped())
	}
}

// TestSlowSubscriberLosesEventsNotTheProtocol: a subscriber that never
// reads loses events (counted), the node carries on, and Members is
// current; subscribers beyond MaxSubscribers are refused; Close closes
// the channels.
func TestSlowSubscriberLosesEventsNotTheProtocol(t *testing.T) {
	c := newCluster(t, 4, func(cfg *Config) {
		cfg.SubscriberBuffer = 1
		cfg.MaxSubscribers = 2
	})
	c.waitFor("all alive", c.converged)
	d := c.nodes[0].d
	slow, _, err := d.Subscribe()
	if err != nil {
		t.Fatal(err)
	}
	other, _, err := d.Subscribe()
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := d.Subscribe(); !errors.Is(err, ErrBusy) {
		t.Fatalf("third subscriber: %v, want ErrBusy", err)
	}
	other.Close()
	if _, open := <-other.C(); open {
		t.Fatal("closed subscription's channel is open")
	}
	victim := c.nodes[2].id
	c.crash(2)
	c.waitFor("dead", func() (bool, string) { return c.everyone([]int{0}, victim, gossip.StateDead) })
	if slow.Dropped() == 0 {
		t.Fatal("a subscriber with a 1-event buffer lost nothing over a suspicion and a death")
	}
	if v := c.metric(0, "cairn_gossip_subscriber_events_dropped_total"); v != float64(slow.Dropped()) {
		t.Errorf("metric %v, subscriber says %d", v, slow.Dropped())
	}
	_ = d.Close()
	for range slow.C() {
	}
	if _, _, err := d.Subscribe(); !errors.Is(err, ErrClosed) {
		t.Errorf("Subscribe after Close: %v", err)
	}
}
