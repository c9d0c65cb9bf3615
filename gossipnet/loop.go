package gossipnet

import (
	"time"

	"github.com/cairndb/cairn/gossip"
)

// run is the loop: the only goroutine that touches the node. Every input
// is followed by a flush, so that a push-pull's reply is in the Ready of
// the Step that produced it.
func (d *Driver) run(seeds []gossip.Seed) {
	defer close(d.done)
	tick := time.NewTicker(d.cfg.Core.TickDuration)
	defer tick.Stop()
	refresh := time.NewTicker(d.cfg.MetricsInterval)
	defer refresh.Stop()
	if len(seeds) > 0 {
		if err := d.node.Join(seeds); err != nil {
			d.log.Error("gossip: join", "err", err)
		}
		d.flush(nil)
	}
	for {
		// A time.Ticker drops the ticks a stalled loop (or a stopped
		// process) missed: the node's clock stalls with it, which is the
		// reading of a pause the core expects (gossip's HAZARD).
		select {
		case <-d.stop:
			d.refreshMetrics()
			d.snap.Lock()
			d.snap.final = d.node.Members()
			d.snap.Unlock()
			return
		case r := <-d.ctl:
			r.fn(d.node)
			d.flush(nil)
			close(r.done)
		case <-tick.C:
			d.node.Tick()
			d.flush(nil)
		case in := <-d.inbox:
			d.step(in)
		case in := <-d.replies:
			d.step(in)
		case req := <-d.serving:
			d.serve(req)
		case <-refresh.C:
			d.refreshMetrics()
		}
	}
}

// step hands a received message to the node.
func (d *Driver) step(in inbound) {
	if in.msg.Kind == gossip.MsgAck {
		d.observeAck(&in)
	}
	// The sender is the one the message names: over UDP nothing tells
	// otherwise (gossip's HAZARD), and a push-pull reply was checked
	// against the member it was sent to.
	if err := d.node.Step(in.msg.From, in.msg); err != nil {
		d.m.dropped.WithLabelValues(reasonInvalid).Inc()
		d.errLog.log(d.log, "step", "gossip: message refused by the protocol", "from", hexID(in.msg.From), "kind", in.msg.Kind.String(), "err", err)
	}
	d.flush(nil)
}

// serve answers an inbound push-pull: the node merges the table, and its
// reply, taken out of the Ready, goes back on the gRPC call.
func (d *Driver) serve(req *ppRequest) {
	if err := d.node.Step(req.msg.From, req.msg); err != nil {
		d.m.dropped.WithLabelValues(reasonInvalid).Inc()
		req.reply <- nil
		return
	}
	var reply *gossip.Message
	sent := d.flush(func(ob *gossip.Outbound) bool {
		if reply == nil && ob.Msg.Kind == gossip.MsgPushPullReply && ob.Msg.To == req.msg.From {
			reply = &ob.Msg
			return true
		}
		return false
	})
	if !sent {
		reply = nil // the incarnation it may carry is not persisted
	}
	req.reply <- reply // buffered: the loop never waits for the handler
}

// flush takes the node's Ready: it persists a new incarnation, then hands
// out events, then sends the messages, except those intercept claims (a
// push-pull reply that goes back on its call). It returns false when
// nothing could be sent because the incarnation is not persisted.
func (d *Driver) flush(intercept func(*gossip.Outbound) bool) bool {
	if !d.node.HasReady() && d.unpersisted == 0 {
		return true
	}
	rd := d.node.Ready()
	if rd.Incarnation != 0 {
		d.unpersisted = rd.Incarnation
	}
	if d.unpersisted != 0 {
		if err := d.cfg.Persist(d.unpersisted); err != nil {
			// gossip's HAZARD: a message may carry the new incarnation,
			// and a restart below it would be ignored by the cluster.
			// Stay silent until the store works again; the node's
			// periodic work retries at every tick.
			d.m.persistFailures.Inc()
			d.m.dropped.WithLabelValues(reasonUnpersisted).Add(float64(len(rd.Messages)))
			d.errLog.log(d.log, "persist", "gossip: cannot persist the incarnation; sending nothing", "incarnation", d.unpersisted, "err", err)
			d.handleEvents(rd.Events, rd.EventsDropped)
			return false
		}
		d.m.incarnation.Set(float64(d.unpersisted))
		d.unpersisted = 0
	}
	d.handleEvents(rd.Events, rd.EventsDropped)
	for i := range rd.Messages {
		ob := &rd.Messages[i]
		switch {
		case intercept != nil && intercept(ob):
		case ob.Msg.Kind.Stream():
			d.startPushPull(*ob)
		default:
			d.sendDatagram(ob)
		}
	}
	return true
}

// handleEvents counts, logs and publishes the node's events.
func (d *Driver) handleEvents(events []gossip.Event, dropped int) {
	for i := range events {
		e := &events[i]
		d.m.events.WithLabelValues(e.Kind.String()).Inc()
		d.logEvent(e)
	}
	if dropped > 0 {
		d.log.Warn("gossip: the core dropped events at MaxPendingEvents; subscribers must resynchronize from Members", "dropped", dropped)
	}
	d.publish(events, dropped)
}

// logEvent logs a membership change: state changes at info, metadata and
// incarnation updates at debug.
func (d *Driver) logEvent(e *gossip.Event) {
	m := &e.Member
	attrs := []any{
		"member", hexID(m.ID), "addr", m.Addr, "state", m.State.String(),
		"incarnation", m.Incarnation, "prev_state", stateName(e.PrevState),
		"prev_incarnation", e.PrevIncarnation,
	}
	if e.By != 0 {
		attrs = append(attrs, "by", hexID(e.By))
	}
	if m.ID == d.id {
		attrs = append(attrs, "self", true)
	}
	if e.Kind == gossip.EventUpdate {
		d.log.Debug("gossip: member updated", attrs...)
		return
	}
	d.log.Info("gossip: member "+e.Kind.String(), attrs...)
}

func stateName(s gossip.State) string {
	if s == 0 {
		return "unknown"
	}
	return s.String()
}

// refreshMetrics sets the gauges from the node's table and snapshots its
// counters; it also forgets pings that will never be acked.
func (d *Driver) refreshMetrics() {
	members := d.node.Members()
	var byState [gossip.StateLeft + 1]int
	for _, m := range members {
		byState[m.State]++
	}
	for s := gossip.StateAlive; s <= gossip.StateLeft; s++ {
		d.m.members.WithLabelValues(s.String()).Set(float64(byState[s]))
	}
	d.m.localHealth.Set(float64(d.node.LocalHealth()))
	if d.unpersisted == 0 {
		d.m.incarnation.Set(float64(d.node.Incarnation()))
	}
	d.refreshPhi(members)
	d.snap.Lock()
	d.snap.stats = d.node.Stats()
	d.snap.Unlock()
	d.expirePings()
}

// refreshPhi sets a phi gauge for each of the MaxPhiSeries lowest member
// ids (members are sorted by id) and removes the gauges of members gone.
func (d *Driver) refreshPhi(members []gossip.Member) {
	seen := make(map[gossip.NodeID]bool, min(len(members), d.cfg.MaxPhiSeries))
	for _, m := range members {
		if len(seen) >= d.cfg.MaxPhiSeries {
			break
		}
		if m.ID == d.id {
			continue
		}
		seen[m.ID] = true
		label, ok := d.phiLabels[m.ID]
		if !ok {
			label = hexID(m.ID)
			d.phiLabels[m.ID] = label
		}
		d.m.phi.WithLabelValues(label).Set(m.Phi)
	}
	for id, label := range d.phiLabels {
		if !seen[id] {
			d.m.phi.DeleteLabelValues(label)
			delete(d.phiLabels, id)
		}
	}
}
