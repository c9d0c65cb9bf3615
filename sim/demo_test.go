package sim_test

// This file is the end-to-end demonstration the package documentation
// points at: a toy primary-backup key-value register run through the whole
// framework (network faults, partitions, crashes with disk loss, pauses,
// clients with timeouts, invariants after every step, a liveness bound
// after the heal, and Porcupine on the client history), plus a buggy
// variant that the simulator must catch.
//
// The protocol: node 1 is the fixed primary. A write request is appended
// to the primary's log file and answered at the primary's next tick, after
// one Sync covers every write since the last tick (group commit); a read is
// answered at once from the state of synced writes. On each tick the
// primary also sends every backup the entries it has not acknowledged;
// a backup appends them in order, syncs, and acknowledges its log length.

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cairndb/cairn/sim"
	"github.com/cairndb/cairn/sim/porcupinekv"
)

const (
	pbPrimary  sim.NodeID = 1
	pbLog                 = "log"
	pbMaxBatch            = 16
)

type pbKind int

const (
	pbAppend pbKind = iota + 1
	pbAck
)

type pbMsg struct {
	Kind    pbKind
	Start   int      // pbAppend: log index (from 1) of Entries[0]
	Entries []string // pbAppend
	Len     int      // pbAck: the backup's log length
}

func describePB(m pbMsg) string {
	if m.Kind == pbAppend {
		return fmt.Sprintf("append start=%d %v", m.Start, m.Entries)
	}
	return fmt.Sprintf("ack len=%d", m.Len)
}

// pbBugs are deliberate defects for the checker to find.
type pbBugs struct {
	// ackBeforeSync answers writes at once and never syncs the primary's
	// log: a crash loses acknowledged writes.
	ackBeforeSync bool
}

type pbNode struct {
	h       *sim.Host[pbMsg]
	bugs    pbBugs
	log     []string          // every entry, synced or not
	synced  int               // entries covered by a Sync (primary)
	state   map[string]string // the result of log[:synced]
	tail    map[string]string // the result of all of log (primary: CAS is judged on it)
	match   map[sim.NodeID]int
	waiting []pbReply
}

// pbReply is an answer held until the write it depends on is synced.
type pbReply struct {
	index int // log length the answer depends on
	out   porcupinekv.Output
	reply func(porcupinekv.Output)
}

func startPB(bugs pbBugs) func(h *sim.Host[pbMsg]) sim.Node[pbMsg] {
	return func(h *sim.Host[pbMsg]) sim.Node[pbMsg] {
		n := &pbNode{h: h, bugs: bugs, state: map[string]string{}, tail: map[string]string{}, match: map[sim.NodeID]int{}}
		for _, rec := range h.Disk().Records(pbLog) {
			n.log = append(n.log, string(rec))
			applyEntry(n.state, string(rec))
			applyEntry(n.tail, string(rec))
		}
		n.synced = len(n.log)
		return n
	}
}

// An entry is "key=value": the only state change is setting a key (a
// successful CAS is logged as the value it set).
func applyEntry(m map[string]string, e string) {
	k, v, _ := strings.Cut(e, "=")
	m[k] = v
}

// Submit is the client interface of the primary.
func (n *pbNode) Submit(in porcupinekv.Input, reply func(porcupinekv.Output)) {
	var out porcupinekv.Output
	switch in.Kind {
	case porcupinekv.OpGet:
		v, ok := n.state[in.Key]
		reply(porcupinekv.Output{Value: v, Found: ok})
		return
	case porcupinekv.OpPut:
		n.append(in.Key + "=" + in.Value)
	case porcupinekv.OpCAS:
		if v, ok := n.tail[in.Key]; ok && v == in.Expected {
			n.append(in.Key + "=" + in.Value)
			out.OK = true
		}
	}
	if n.bugs.ackBeforeSync {
		n.synced = len(n.log)
		n.state = clone(n.tail)
		reply(out)
		return
	}
	n.waiting = append(n.waiting, pbReply{index: len(n.log), out: out, reply: reply})
}

func clone(m map[string]string) map[string]string {
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

func (n *pbNode) append(e string) {
	n.h.Disk().Append(pbLog, []byte(e))
	n.log = append(n.log, e)
	applyEntry(n.tail, e)
}

func (n *pbNode) Tick() {
	if n.h.ID() != pbPrimary {
		return
	}
	if !n.bugs.ackBeforeSync && n.synced < len(n.log) {
		n.h.Disk().Sync(pbLog)
		for _, e := range n.log[n.synced:] {
			applyEntry(n.state, e)
		}
		n.synced = len(n.log)
	}
	for _, r := range n.waiting {
		r.reply(r.out)
	}
	n.waiting = n.waiting[:0]
	for b := sim.NodeID(1); int(b) <= n.h.N(); b++ {
		if b == pbPrimary || n.match[b] >= n.synced {
			continue
		}
		start := n.match[b] + 1
		end := min(n.synced, start-1+pbMaxBatch)
		n.h.Send(b, pbMsg{Kind: pbAppend, Start: start, Entries: n.log[start-1 : end]})
	}
}

func (n *pbNode) Deliver(from sim.NodeID, m pbMsg) {
	switch m.Kind {
	case pbAppend:
		if m.Start > len(n.log)+1 {
			n.h.Send(from, pbMsg{Kind: pbAck, Len: len(n.log)}) // a gap: ask again from here
			return
		}
		grew := false
		for i, e := range m.Entries {
			if m.Start+i == len(n.log)+1 {
				n.h.Disk().Append(pbLog, []byte(e))
				n.log = append(n.log, e)
				grew = true
			}
		}
		if grew {
			n.h.Disk().Sync(pbLog)
		}
		n.h.Send(from, pbMsg{Kind: pbAck, Len: len(n.log)})
	case pbAck:
		// A backup that lost nothing never goes back, but one that restarts
		// from a torn disk could: trust its latest answer.
		n.match[from] = min(m.Len, len(n.log))
	}
}

// pbCluster is one seeded run of the demo.
type pbCluster struct {
	w        *sim.World[pbMsg]
	verified map[sim.NodeID]pbVerified
	nem      *sim.Nemesis
	hist     sim.History
	stopped  bool
}

type pbOptions struct {
	nodes      int
	steps      int
	bugs       pbBugs
	invariants bool
	porcupine  bool
}

func newPBCluster(seed uint64, o pbOptions) (*pbCluster, error) {
	cfg := sim.DefaultConfig(seed)
	cfg.Nodes = o.nodes
	w, err := sim.New(cfg, sim.Protocol[pbMsg]{Start: startPB(o.bugs), Describe: describePB})
	if err != nil {
		return nil, err
	}
	ncfg := sim.DefaultNemesisConfig(o.nodes)
	ncfg.Chaos = time.Hour // the run ends the chaos after o.steps events
	ncfg.MaxDown = o.nodes // the primary may go down too: safety must hold
	ncfg.Leader = func() (sim.NodeID, bool) { return pbPrimary, true }
	nem, err := sim.NewNemesis(w, ncfg)
	if err != nil {
		return nil, err
	}
	c := &pbCluster{w: w, nem: nem, verified: map[sim.NodeID]pbVerified{}}
	if o.invariants {
		w.AddInvariant("backup log is a prefix of the primary log", c.prefixInvariant)
	}
	return c, nil
}

func (c *pbCluster) node(id sim.NodeID) (*pbNode, bool) {
	n, ok := c.w.Node(id)
	if !ok {
		return nil, false
	}
	return n.(*pbNode), true
}

// pbVerified remembers how much of a backup's log was already checked
// against the primary's: both logs only grow within an incarnation, so the
// check after each step only looks at new entries.
type pbVerified struct {
	primaryInc, backupInc uint64
	n                     int
}

func (c *pbCluster) prefixInvariant() error {
	p, ok := c.node(pbPrimary)
	if !ok {
		return nil
	}
	for id := pbPrimary + 1; int(id) <= c.w.N(); id++ {
		b, ok := c.node(id)
		if !ok {
			continue
		}
		if len(b.log) > len(p.log) {
			return fmt.Errorf("backup %d has %d entries, primary only %d", id, len(b.log), len(p.log))
		}
		v := c.verified[id]
		if v.primaryInc != p.h.Incarnation() || v.backupInc != b.h.Incarnation() {
			v = pbVerified{primaryInc: p.h.Incarnation(), backupInc: b.h.Incarnation()}
		}
		for i := v.n; i < len(b.log); i++ {
			if p.log[i] != b.log[i] {
				return fmt.Errorf("entry %d: backup %d has %q, primary %q", i+1, id, b.log[i], p.log[i])
			}
		}
		v.n = len(b.log)
		c.verified[id] = v
	}
	return nil
}

// startClients runs three clients that each issue one request at a time
// to the primary, with a timeout after which the outcome is unknown.
func (c *pbCluster) startClients() {
	rng := c.w.Stream("clients")
	const timeout = 300 * time.Millisecond
	seq := 0
	for client := range 3 {
		var next func()
		next = func() {
			if c.stopped {
				return
			}
			seq++
			key := string(rune('a' + rng.IntN(3)))
			var in porcupinekv.Input
			switch r := rng.IntN(10); {
			case r < 4:
				in = porcupinekv.Input{Kind: porcupinekv.OpGet, Key: key}
			case r < 8:
				in = porcupinekv.Input{Kind: porcupinekv.OpPut, Key: key, Value: fmt.Sprint(seq)}
			default:
				in = porcupinekv.Input{Kind: porcupinekv.OpCAS, Key: key, Expected: fmt.Sprint(seq - 1 - rng.IntN(3)), Value: fmt.Sprint(seq)}
			}
			id := c.hist.Invoke(client, c.w.Now(), in)
			think := time.Duration(rng.IntN(20)) * time.Millisecond
			p, ok := c.node(pbPrimary)
			if !ok { // connection refused: certainly no effect
				c.hist.Discard(id)
				c.w.After(think+10*time.Millisecond, "client", next)
				return
			}
			if c.w.Paused(pbPrimary) { // the request sits unread; the client gives up
				c.w.After(timeout, "client timeout", next)
				return
			}
			done := false
			p.Submit(in, func(out porcupinekv.Output) {
				if done {
					return
				}
				done = true
				c.hist.Complete(id, c.w.Now(), out)
				c.w.Note(fmt.Sprintf("client %d: %s", client, porcupinekv.Model.DescribeOperation(in, out)))
				c.w.After(think, "client", next)
			})
			if !done {
				c.w.After(timeout, "client timeout", func() {
					if !done {
						done = true // the reply, if it ever comes, is ignored: outcome unknown
						next()
					}
				})
			}
		}
		c.w.After(time.Duration(client+1)*time.Millisecond, "client", next)
	}
}

// caughtUp is the liveness condition: every node is up and every backup
// holds the primary's whole synced log.
func (c *pbCluster) caughtUp() error {
	p, ok := c.node(pbPrimary)
	if !ok {
		return errors.New("primary down")
	}
	if p.synced != len(p.log) {
		return errors.New("primary has unsynced entries")
	}
	for id := pbPrimary + 1; int(id) <= c.w.N(); id++ {
		b, ok := c.node(id)
		if !ok {
			return fmt.Errorf("backup %d down", id)
		}
		if len(b.log) != len(p.log) {
			return fmt.Errorf("backup %d has %d of %d entries", id, len(b.log), len(p.log))
		}
	}
	return nil
}

// run plays one seed: chaos for o.steps events, heal, a second of calm
// traffic, the liveness bound, then the linearizability check.
func (c *pbCluster) run(o pbOptions) error {
	c.nem.Start()
	c.startClients()
	if err := c.w.RunSteps(o.steps); err != nil {
		return errors.New(c.w.Report(err))
	}
	c.nem.HealAll()
	if err := c.w.RunFor(time.Second); err != nil {
		return errors.New(c.w.Report(err))
	}
	c.stopped = true
	if err := c.w.Await(5*time.Second, c.caughtUp); err != nil {
		return errors.New(c.w.Report(err))
	}
	if o.porcupine {
		if ok, details := porcupinekv.CheckLinearizable(c.hist.Operations(porcupinekv.Unknown()), 10*time.Second, ""); !ok {
			return fmt.Errorf("seed %d: %s", c.w.Seed(), details)
		}
	}
	return nil
}

func runPB(seed uint64, o pbOptions) (uint64, error) {
	c, err := newPBCluster(seed, o)
	if err != nil {
		return 0, err
	}
	err = c.run(o)
	return c.w.TraceHash(), err
}
