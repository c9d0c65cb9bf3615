package sim

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// Host is what a node incarnation may touch: its identity, the simulated
// clock, its own random stream, its disk and the network. A Host belongs to
// one incarnation: after a crash its Send does nothing, so a stale
// reference cannot leak messages from the dead.
type Host[M any] struct {
	w   *World[M]
	id  NodeID
	inc uint64
	rng *rand.Rand
}

// ID returns the node's ID.
func (h *Host[M]) ID() NodeID { return h.id }

// N returns the cluster size; peers are 1..N.
func (h *Host[M]) N() int { return h.w.cfg.Nodes }

// Now returns the simulated time. Protocol cores should count ticks
// instead; this is for adapters that stamp client operations.
func (h *Host[M]) Now() time.Duration { return h.w.now }

// Rand returns the node's random stream for this incarnation: the only
// randomness a node may use (election timeouts, gossip targets).
func (h *Host[M]) Rand() *rand.Rand { return h.rng }

// Disk returns the node's disk. Using it from an incarnation that has
// crashed panics: a dead process cannot write, and letting it would leak
// its volatile state into the next incarnation's disk.
func (h *Host[M]) Disk() *Disk {
	if !h.Alive() {
		panic(fmt.Sprintf("sim: node %d incarnation %d used its disk after it crashed", h.id, h.inc))
	}
	return h.w.slot(h.id).disk
}

// Incarnation returns 1 for the first start of the node and one more for
// each restart.
func (h *Host[M]) Incarnation() uint64 { return h.inc }

// Alive reports whether this incarnation is still the running one.
func (h *Host[M]) Alive() bool {
	s := h.w.slot(h.id)
	return s.up && s.inc == h.inc
}

// Send puts msg on the network towards to. It does nothing if this
// incarnation has crashed.
func (h *Host[M]) Send(to NodeID, msg M) {
	if !h.Alive() {
		return
	}
	h.w.send(h.id, to, msg)
}

// start builds a new incarnation of node id and starts its ticks at a
// random phase, so that nodes do not tick in lockstep.
func (w *World[M]) start(id NodeID) {
	s := w.slot(id)
	s.inc++
	s.gen++
	s.up, s.paused, s.backlog = true, false, nil
	s.host = &Host[M]{w: w, id: id, inc: s.inc, rng: NewRand(w.cfg.Seed, fmt.Sprintf("node/%d/%d", id, s.inc))}
	s.node = w.proto.Start(s.host)
	w.scheduleTick(id, 1+time.Duration(w.net.rng.Int64N(int64(w.cfg.TickInterval))))
}

func (w *World[M]) scheduleTick(id NodeID, after time.Duration) {
	w.push(event[M]{at: w.now + after, kind: EventTick, node: id, gen: w.slot(id).gen})
}

// Crash stops node id now, losing its unsynced writes as Config.DiskLoss
// says. Messages in flight to it are dropped when they arrive. Crashing a
// down node does nothing.
func (w *World[M]) Crash(id NodeID) { w.CrashWith(id, w.cfg.DiskLoss) }

// CrashWith is Crash with an explicit loss mode.
func (w *World[M]) CrashWith(id NodeID, mode LossMode) {
	s := w.slot(id)
	if !s.up {
		return
	}
	s.gen++
	s.up, s.paused, s.node, s.backlog = false, false, nil, nil
	s.disk.Crash(mode, w.net.rng)
	w.Note(fmt.Sprintf("crash n%d %v", id, mode))
}

// Restart starts a crashed node now from its disk. Restarting a running
// node does nothing.
func (w *World[M]) Restart(id NodeID) {
	if w.slot(id).up {
		return
	}
	w.Note(fmt.Sprintf("restart n%d", id))
	w.start(id)
}

// RestartAfter schedules a restart of crashed node id after d. A later
// crash or restart of the node cancels it.
func (w *World[M]) RestartAfter(id NodeID, d time.Duration) {
	s := w.slot(id)
	if s.up {
		return
	}
	w.push(event[M]{at: w.now + d, kind: EventRestart, node: id, gen: s.gen})
}

// Pause stops node id from running, as SIGSTOP would: no ticks, and
// arriving messages wait (up to NetConfig.PausedBacklog) until Resume.
// Pausing a down or paused node does nothing.
func (w *World[M]) Pause(id NodeID) {
	s := w.slot(id)
	if !s.up || s.paused {
		return
	}
	s.gen++
	s.paused = true
	w.Note(fmt.Sprintf("pause n%d", id))
}

// PauseFor pauses node id and schedules its resumption after d. Like
// Pause, it does nothing to a down or already paused node.
func (w *World[M]) PauseFor(id NodeID, d time.Duration) {
	s := w.slot(id)
	if !s.up || s.paused {
		return
	}
	w.Pause(id)
	w.push(event[M]{at: w.now + d, kind: EventResume, node: id, gen: s.gen})
}

// Resume restarts a paused node's ticks and hands it, in arrival order,
// the messages that waited. Resuming a running node does nothing.
func (w *World[M]) Resume(id NodeID) {
	if s := w.slot(id); s.up && s.paused {
		w.Note(fmt.Sprintf("resume n%d", id))
		w.resume(id)
	}
}

func (w *World[M]) resume(id NodeID) {
	s := w.slot(id)
	s.gen++
	s.paused = false
	for _, h := range s.backlog {
		w.push(event[M]{at: w.now, kind: EventDeliver, node: id, from: h.from, msg: h.msg, held: true})
	}
	s.backlog = nil
	w.scheduleTick(id, w.cfg.TickInterval)
}
