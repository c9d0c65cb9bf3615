package gossipnet

import (
	"sync"
	"sync/atomic"

	"github.com/cairndb/cairn/gossip"
)

// Subscription receives the node's membership events in order, through a
// queue of Config.SubscriberBuffer events. A subscriber that falls behind
// loses events: they are counted in Dropped (and in
// cairn_gossip_subscriber_events_dropped_total), never waited for, so a
// slow subscriber cannot stall the protocol. A subscriber that sees
// Dropped rise must resynchronize from Driver.Members, which is always
// current, then apply the events that follow (an event older than its
// snapshot is recognized by its lower incarnation, or equal incarnation
// and lower state, in the core's order).
type Subscription struct {
	d       *Driver
	c       chan gossip.Event
	dropped atomic.Uint64
	once    sync.Once
}

// C returns the channel of events. It is closed by Close and when the
// driver closes.
func (s *Subscription) C() <-chan gossip.Event { return s.c }

// Dropped returns the number of events this subscriber has lost so far.
func (s *Subscription) Dropped() uint64 { return s.dropped.Load() }

// Close ends the subscription and closes its channel.
func (s *Subscription) Close() {
	s.d.subs.Lock()
	defer s.d.subs.Unlock()
	for i, o := range s.d.subs.list {
		if o == s {
			s.d.subs.list = append(s.d.subs.list[:i], s.d.subs.list[i+1:]...)
			break
		}
	}
	s.closeLocked()
}

func (s *Subscription) closeLocked() { s.once.Do(func() { close(s.c) }) }

// Subscribe starts a subscription and returns, atomically with it, the
// current table: every event after the snapshot is on the channel (until
// the buffer overflows), none before it. At most MaxSubscribers at once
// (ErrBusy beyond).
func (d *Driver) Subscribe() (*Subscription, []gossip.Member, error) {
	var sub *Subscription
	var members []gossip.Member
	var full bool
	err := d.do(func(n *gossip.Node) {
		d.subs.Lock()
		defer d.subs.Unlock()
		if d.subs.closed || len(d.subs.list) >= d.cfg.MaxSubscribers {
			full = !d.subs.closed
			return
		}
		sub = &Subscription{d: d, c: make(chan gossip.Event, d.cfg.SubscriberBuffer)}
		d.subs.list = append(d.subs.list, sub)
		members = n.Members()
	})
	switch {
	case err != nil:
		return nil, nil, err
	case full:
		return nil, nil, ErrBusy
	case sub == nil:
		return nil, nil, ErrClosed
	}
	return sub, members, nil
}

// publish hands events to every subscriber without waiting. coreDropped
// events were already lost by the core (MaxPendingEvents): every
// subscriber missed them.
func (d *Driver) publish(events []gossip.Event, coreDropped int) {
	if len(events) == 0 && coreDropped == 0 {
		return
	}
	d.subs.Lock()
	defer d.subs.Unlock()
	for _, s := range d.subs.list {
		lost := uint64(coreDropped)
		for _, e := range events {
			select {
			case s.c <- e:
			default:
				lost++
			}
		}
		if lost > 0 {
			s.dropped.Add(lost)
			d.m.subscriberDropped.Add(float64(lost))
		}
	}
}

func (d *Driver) closeSubscriptions() {
	d.subs.Lock()
	defer d.subs.Unlock()
	d.subs.closed = true
	for _, s := range d.subs.list {
		s.closeLocked()
	}
	d.subs.list = nil
}
