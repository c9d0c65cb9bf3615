package gossipsim

import (
	"fmt"

	"github.com/cairndb/cairn/gossip"
)

// Checker checks every Ready of every node as it is handed out, in O(1)
// per event, so that it runs at every step even with thousands of nodes:
//
//   - every event moves its member forward in the incarnation-then-state
//     order (gossip.State): an observer's view of a member never goes back
//     to a lower incarnation, nor to an earlier state at the same one;
//   - the event kind matches the transition it reports;
//   - no node ever believes itself suspect or dead;
//   - a node's own incarnation only rises, across restarts too (the
//     driver persisted every incarnation before sending it);
//   - every datagram fits in MaxMessageBytes and MaxUpdatesPerMessage.
type Checker struct {
	maxMsgBytes int
	maxUpdates  int
	ownInc      map[gossip.NodeID]uint64
	err         error
}

// NewChecker returns a checker for nodes configured like cfg.
func NewChecker(cfg gossip.Config) *Checker {
	return &Checker{maxMsgBytes: cfg.MaxMessageBytes, maxUpdates: cfg.MaxUpdatesPerMessage, ownInc: map[gossip.NodeID]uint64{}}
}

// Err returns the first violation seen, or nil.
func (c *Checker) Err() error { return c.err }

func (c *Checker) failf(format string, args ...any) {
	if c.err == nil {
		c.err = fmt.Errorf(format, args...)
	}
}

// Observe checks one Ready of node id.
func (c *Checker) Observe(id gossip.NodeID, rd *gossip.Ready) {
	if rd.Incarnation != 0 {
		if last := c.ownInc[id]; rd.Incarnation <= last {
			c.failf("node %d: incarnation %d after %d: incarnations must only rise", id, rd.Incarnation, last)
		}
		c.ownInc[id] = rd.Incarnation
	}
	for i := range rd.Events {
		c.event(id, &rd.Events[i])
	}
	for i := range rd.Messages {
		m := &rd.Messages[i].Msg
		if m.Kind.Stream() {
			continue
		}
		if size := gossip.EncodedSize(m); size > c.maxMsgBytes || len(m.Updates) > c.maxUpdates {
			c.failf("node %d: %s of %d bytes with %d updates, limits %d bytes and %d updates",
				id, m.Kind, size, len(m.Updates), c.maxMsgBytes, c.maxUpdates)
		}
	}
}

func (c *Checker) event(id gossip.NodeID, e *gossip.Event) {
	m := e.Member
	if m.ID == id && (m.State == gossip.StateSuspect || m.State == gossip.StateDead) {
		c.failf("node %d believes itself %v (event %v)", id, m.State, e.Kind)
	}
	if m.ID == id && m.Incarnation > c.ownInc[id] {
		c.failf("node %d reports incarnation %d before persisting it (persisted %d)", id, m.Incarnation, c.ownInc[id])
	}
	if e.PrevState != 0 && !forward(m.Incarnation, m.State, e.PrevIncarnation, e.PrevState) {
		c.failf("node %d: view of %d went back from %v@%d to %v@%d (%v)", id, m.ID, e.PrevState, e.PrevIncarnation, m.State, m.Incarnation, e.Kind)
	}
	if want := kindOf(e.PrevState, m.State); e.Kind != want && !(e.Kind == gossip.EventUpdate && e.PrevState == m.State) {
		c.failf("node %d: %v event for %v -> %v of %d, want %v", id, e.Kind, e.PrevState, m.State, m.ID, want)
	}
}

// forward is the order of gossip.State: a higher incarnation, or the same
// one with a later state.
func forward(inc uint64, s gossip.State, prevInc uint64, prev gossip.State) bool {
	if inc != prevInc {
		return inc > prevInc
	}
	return s > prev
}

// kindOf is the event a change of state must produce.
func kindOf(prev, cur gossip.State) gossip.EventKind {
	switch {
	case cur == gossip.StateLeft:
		return gossip.EventLeave
	case cur == gossip.StateDead:
		return gossip.EventDead
	case !prev.Live():
		return gossip.EventJoin
	case cur == gossip.StateSuspect:
		return gossip.EventSuspect
	case prev == gossip.StateSuspect:
		return gossip.EventAlive
	}
	return gossip.EventUpdate
}
