package raft

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"

	pb "github.com/cairndb/cairn/raft/raftpb"
)

// TestInteraction runs the text-driven scenarios in testdata/interaction/*.txt.
// Regenerate the expected output with: go test ./raft -run TestInteraction -rewrite
//
// Commands (node IDs are positional):
//
//	add-nodes <n> [voters=(..)] [learners=(..)] [prevote] [checkquorum] [lease]
//	campaign <id> | propose <id> <data> | read-index <id> <ctx>
//	propose-conf-change <id> [transition=auto|implicit|explicit] <v4 l5 r2 ...>
//	transfer-leadership from=<id> to=<id>
//	tick <id> [n] | tick-election <id> | tick-heartbeat <id>
//	process-ready <id> | deliver-msgs <id> | stabilize
//	isolate <id> | heal | restart <id> | compact <id>
//	status <id> | raft-state | raft-log <id>
func TestInteraction(t *testing.T) {
	datadriven.Walk(t, "testdata/interaction", func(t *testing.T, path string) {
		env := &interactionEnv{}
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			env.t = t
			env.out.Reset()
			env.handle(d)
			return env.out.String()
		})
	})
}

type interactionEnv struct {
	t     *testing.T
	out   strings.Builder
	nodes map[uint64]*testNode
	ids   []uint64
	queue []pb.Message
	cut   map[uint64]bool
}

func (e *interactionEnv) printf(format string, args ...any) { fmt.Fprintf(&e.out, format, args...) }

func (e *interactionEnv) id(d *datadriven.TestData, i int) uint64 {
	if i >= len(d.CmdArgs) {
		e.t.Fatalf("%s: missing node ID", d.Pos)
	}
	id, err := strconv.ParseUint(d.CmdArgs[i].Key, 10, 64)
	if err != nil {
		e.t.Fatalf("%s: bad node ID %q", d.Pos, d.CmdArgs[i].Key)
	}
	if _, ok := e.nodes[id]; !ok && d.Cmd != "add-nodes" {
		e.t.Fatalf("%s: no node %d", d.Pos, id)
	}
	return id
}

func (e *interactionEnv) handle(d *datadriven.TestData) {
	switch d.Cmd {
	case "add-nodes":
		e.addNodes(d)
	case "campaign":
		e.report(e.nodes[e.id(d, 0)].rn.Campaign())
	case "propose":
		e.report(e.nodes[e.id(d, 0)].rn.Propose([]byte(d.CmdArgs[1].Key)))
	case "read-index":
		e.report(e.nodes[e.id(d, 0)].rn.ReadIndex([]byte(d.CmdArgs[1].Key)))
	case "propose-conf-change":
		e.proposeConfChange(d)
	case "transfer-leadership":
		var from, to uint64
		d.ScanArgs(e.t, "from", &from)
		d.ScanArgs(e.t, "to", &to)
		e.report(e.nodes[from].rn.TransferLeader(to))
	case "tick":
		n := 1
		if len(d.CmdArgs) > 1 {
			n, _ = strconv.Atoi(d.CmdArgs[1].Key)
		}
		for range n {
			e.nodes[e.id(d, 0)].rn.Tick()
		}
	case "tick-election":
		nd := e.nodes[e.id(d, 0)]
		for range nd.raft().randomizedElectionTimeout {
			nd.rn.Tick()
		}
	case "tick-heartbeat":
		nd := e.nodes[e.id(d, 0)]
		for range nd.cfg.HeartbeatTick {
			nd.rn.Tick()
		}
	case "process-ready":
		e.processReady(e.id(d, 0))
	case "deliver-msgs":
		e.deliver(e.id(d, 0))
	case "stabilize":
		e.stabilize()
	case "isolate":
		e.cut[e.id(d, 0)] = true
	case "heal":
		clear(e.cut)
	case "restart":
		id := e.id(d, 0)
		cfg := e.nodes[id].cfg
		cfg.Applied = 0
		e.nodes[id] = newTestNode(e.t, cfg)
		// Messages in flight to the old incarnation are lost.
		e.queue = slices.DeleteFunc(e.queue, func(m pb.Message) bool { return m.To == id })
	case "compact":
		nd := e.nodes[e.id(d, 0)]
		if _, err := nd.storage.CreateSnapshot(nd.appliedIndex, &nd.cs, []byte("snap")); err != nil {
			e.printf("%v\n", err)
			return
		}
		e.report(nd.storage.Compact(nd.appliedIndex))
		first, _ := nd.storage.FirstIndex()
		e.printf("%d: compacted, first index %d\n", nd.id, first)
	case "status":
		e.status(e.id(d, 0))
	case "raft-state":
		for _, id := range e.ids {
			r := e.nodes[id].raft()
			e.printf("%d: %s term=%d lead=%d commit=%d applied=%d%s\n", id, r.state, r.Term, r.lead,
				r.raftLog.committed, r.raftLog.applied, map[bool]string{true: " (isolated)"}[e.cut[id]])
		}
	case "raft-log":
		nd := e.nodes[e.id(d, 0)]
		ents := nd.raft().raftLog.allEntries()
		if len(ents) == 0 {
			e.printf("log is empty: first index=%d, last index=%d\n", nd.raft().raftLog.firstIndex(), nd.raft().raftLog.lastIndex())
		}
		e.printf("%s", pb.DescribeEntries(ents, nil))
	default:
		e.t.Fatalf("%s: unknown command %s", d.Pos, d.Cmd)
	}
}

func (e *interactionEnv) report(err error) {
	if err != nil {
		e.printf("error: %v\n", err)
	}
}

func scanIDs(vals []string) []uint64 {
	var out []uint64
	for _, v := range vals {
		id, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			panic(err)
		}
		out = append(out, id)
	}
	return out
}

func (e *interactionEnv) addNodes(d *datadriven.TestData) {
	if e.nodes == nil {
		e.nodes, e.cut = map[uint64]*testNode{}, map[uint64]bool{}
	}
	n, _ := strconv.Atoi(d.CmdArgs[0].Key)
	first := uint64(len(e.ids) + 1)
	var voters, learners []uint64
	for i := range n {
		voters = append(voters, first+uint64(i))
	}
	for _, a := range d.CmdArgs[1:] {
		switch a.Key {
		case "voters":
			voters = scanIDs(a.Vals)
		case "learners":
			learners = scanIDs(a.Vals)
		}
	}
	for i := range n {
		id := first + uint64(i)
		s := NewMemoryStorage()
		if len(e.ids) == 0 || d.HasArg("voters") {
			_ = s.Bootstrap(pb.ConfState{Voters: voters, Learners: learners})
		} else {
			// Joining an existing cluster: learn the configuration from it.
			_ = s.Bootstrap(e.nodes[e.ids[0]].cs)
		}
		cfg := testConfig(id, s, 1)
		cfg.PreVote = d.HasArg("prevote")
		cfg.CheckQuorum = d.HasArg("checkquorum") || d.HasArg("lease")
		if d.HasArg("lease") {
			cfg.ReadOnlyOption = ReadOnlyLeaseBased
		}
		nd := newTestNode(e.t, cfg)
		e.nodes[id] = nd
		e.ids = append(e.ids, id)
		e.printf("INFO %d started: %s\n", id, nd.cs)
	}
}

func (e *interactionEnv) proposeConfChange(d *datadriven.TestData) {
	id := e.id(d, 0)
	cc := pb.ConfChange{Transition: pb.TransitionAuto}
	for _, a := range d.CmdArgs[1:] {
		if a.Key == "transition" {
			switch a.Vals[0] {
			case "implicit":
				cc.Transition = pb.TransitionJointImplicit
			case "explicit":
				cc.Transition = pb.TransitionJointExplicit
			}
		}
	}
	for _, f := range strings.Fields(d.Input) {
		id, err := strconv.ParseUint(f[1:], 10, 64)
		if err != nil {
			e.t.Fatalf("%s: bad change %q", d.Pos, f)
		}
		typ := map[byte]pb.ConfChangeType{'v': pb.ConfChangeAddNode, 'l': pb.ConfChangeAddLearnerNode, 'r': pb.ConfChangeRemoveNode}[f[0]]
		cc.Changes = append(cc.Changes, pb.ConfChangeSingle{Type: typ, NodeID: id})
	}
	e.report(e.nodes[id].rn.ProposeConfChange(cc))
}

// processReady handles every Ready of node id and logs it.
func (e *interactionEnv) processReady(id uint64) bool {
	nd := e.nodes[id]
	did := false
	for nd.rn.HasReady() {
		did = true
		rd := nd.rn.Ready()
		e.printf("> %d handling Ready\n", id)
		if rd.SoftState != nil {
			e.printf("  Lead:%d State:%s\n", rd.SoftState.Lead, rd.SoftState.RaftState)
		}
		if !rd.HardState.IsEmpty() {
			e.printf("  HardState %s\n", rd.HardState)
		}
		for _, ent := range rd.Entries {
			e.printf("  Entry %s\n", pb.DescribeEntry(ent, nil))
		}
		if !rd.Snapshot.IsEmpty() {
			e.printf("  Snapshot Index:%d Term:%d ConfState:%s\n", rd.Snapshot.Metadata.Index, rd.Snapshot.Metadata.Term, rd.Snapshot.Metadata.ConfState)
		}
		for _, ent := range rd.CommittedEntries {
			e.printf("  Apply %s\n", pb.DescribeEntry(ent, nil))
		}
		for _, rs := range rd.ReadStates {
			e.printf("  ReadState Index:%d Ctx:%q\n", rs.Index, rs.RequestCtx)
		}
		for _, m := range rd.Messages {
			e.printf("  Send %s\n", pb.DescribeMessage(m, nil))
		}
		nd.persist(e.t, rd)
		nd.rn.AckPersisted(rd)
		prevCS := nd.cs.String()
		nd.apply(e.t, rd)
		nd.rn.AckApplied(rd)
		if cs := nd.cs.String(); cs != prevCS {
			e.printf("  INFO %d config now %s\n", id, cs)
		}
		e.queue = append(e.queue, rd.Messages...)
	}
	return did
}

// deliver steps the queued messages addressed to id.
func (e *interactionEnv) deliver(id uint64) bool {
	var mine []pb.Message
	e.queue = slices.DeleteFunc(e.queue, func(m pb.Message) bool {
		if m.To == id {
			mine = append(mine, m)
			return true
		}
		return false
	})
	if len(mine) == 0 {
		return false
	}
	e.printf("> %d receiving messages\n", id)
	for _, m := range mine {
		if e.cut[m.From] || e.cut[m.To] {
			e.printf("  DROPPED %s\n", pb.DescribeMessage(m, nil))
			continue
		}
		e.printf("  %s\n", pb.DescribeMessage(m, nil))
		if err := e.nodes[id].rn.Step(m); err != nil {
			e.printf("  error: %v\n", err)
		}
	}
	return true
}

func (e *interactionEnv) stabilize() {
	for i := 0; ; i++ {
		if i > 1000 {
			e.t.Fatal("does not stabilize")
		}
		did := false
		for _, id := range e.ids {
			did = e.processReady(id) || did
		}
		for _, id := range e.ids {
			did = e.deliver(id) || did
		}
		// Messages to unknown nodes are dropped.
		e.queue = slices.DeleteFunc(e.queue, func(m pb.Message) bool { return e.nodes[m.To] == nil })
		if !did {
			return
		}
	}
}

func (e *interactionEnv) status(id uint64) {
	st := e.nodes[id].rn.Status()
	e.printf("%d: %s term=%d lead=%d commit=%d applied=%d last=%d config=%s\n", id, st.RaftState, st.Term, st.Lead, st.Commit, st.Applied, st.LastIndex, st.Config)
	for _, pid := range st.Config.Voters {
		_ = pid
	}
	var ids []uint64
	for pid := range st.Progress {
		ids = append(ids, pid)
	}
	slices.Sort(ids)
	for _, pid := range ids {
		pr := st.Progress[pid]
		e.printf("  %d: %s\n", pid, &pr)
	}
}
