package confchange

import (
	"errors"
	"fmt"

	"github.com/cairndb/cairn/raft/quorum"
	"github.com/cairndb/cairn/raft/raftpb"
	"github.com/cairndb/cairn/raft/tracker"
)

// Changer computes configuration transitions from a tracker's state.
type Changer struct {
	// Tracker is the current state; it is never modified.
	Tracker tracker.ProgressTracker
	// LastIndex is the leader's last log index, used as the Next of new members.
	LastIndex uint64
}

// EnterJoint starts joint consensus: the current voters become the outgoing
// half and ccs are applied to the incoming half.
func (c Changer) EnterJoint(autoLeave bool, ccs ...raftpb.ConfChangeSingle) (tracker.Config, tracker.ProgressMap, error) {
	cfg, prs := c.clone()
	if joint(cfg) {
		return c.err(errors.New("confchange: already in a joint configuration"))
	}
	if len(cfg.Voters[0]) == 0 {
		return c.err(errors.New("confchange: cannot enter joint from an empty configuration"))
	}
	cfg.Voters[1] = quorum.MajorityConfig{}
	for id := range cfg.Voters[0] {
		cfg.Voters[1][id] = struct{}{}
	}
	if err := c.apply(&cfg, prs, ccs...); err != nil {
		return c.err(err)
	}
	cfg.AutoLeave = autoLeave
	return checkAndReturn(cfg, prs)
}

// LeaveJoint ends joint consensus: the outgoing half is dropped, LearnersNext
// become learners and nodes in neither half nor learners are removed.
func (c Changer) LeaveJoint() (tracker.Config, tracker.ProgressMap, error) {
	cfg, prs := c.clone()
	if !joint(cfg) {
		return c.err(errors.New("confchange: not in a joint configuration"))
	}
	for id := range cfg.LearnersNext {
		nilAwareAdd(&cfg.Learners, id)
		prs[id].IsLearner = true
	}
	cfg.LearnersNext = nil
	for id := range cfg.Voters[1] {
		_, isVoter := cfg.Voters[0][id]
		_, isLearner := cfg.Learners[id]
		if !isVoter && !isLearner {
			delete(prs, id)
		}
	}
	cfg.Voters[1] = nil
	cfg.AutoLeave = false
	return checkAndReturn(cfg, prs)
}

// Simple applies ccs directly. At most one voter may be added or removed.
func (c Changer) Simple(ccs ...raftpb.ConfChangeSingle) (tracker.Config, tracker.ProgressMap, error) {
	cfg, prs := c.clone()
	if joint(cfg) {
		return c.err(errors.New("confchange: cannot apply a simple change while joint"))
	}
	if err := c.apply(&cfg, prs, ccs...); err != nil {
		return c.err(err)
	}
	if n := symDiff(c.Tracker.Voters[0], cfg.Voters[0]); n > 1 {
		return c.err(fmt.Errorf("confchange: a simple change may alter one voter, this alters %d; use joint consensus", n))
	}
	return checkAndReturn(cfg, prs)
}

// Restore builds the configuration described by cs from scratch.
func Restore(cs raftpb.ConfState, lastIndex uint64, maxInflight int, maxInflightBytes uint64) (tracker.Config, tracker.ProgressMap, error) {
	cfg := tracker.Config{Voters: quorum.JointConfig{quorum.NewMajorityConfig(cs.Voters...), nil}}
	if len(cs.VotersOutgoing) > 0 {
		cfg.Voters[1] = quorum.NewMajorityConfig(cs.VotersOutgoing...)
	}
	for _, id := range cs.Learners {
		nilAwareAdd(&cfg.Learners, id)
	}
	for _, id := range cs.LearnersNext {
		nilAwareAdd(&cfg.LearnersNext, id)
	}
	cfg.AutoLeave = cs.AutoLeave
	prs := tracker.ProgressMap{}
	add := func(id uint64, learner bool) {
		if _, ok := prs[id]; !ok {
			pr := tracker.NewProgress(lastIndex+1, maxInflight, maxInflightBytes, learner)
			pr.RecentActive = true
			prs[id] = pr
		}
	}
	for _, id := range cfg.Voters.IDs() {
		add(id, false)
	}
	for _, id := range cs.Learners {
		add(id, true)
	}
	if len(cfg.Voters[0]) == 0 && (len(cfg.Learners) > 0 || len(cfg.Voters[1]) > 0) {
		return tracker.Config{}, nil, errors.New("confchange: restored configuration has learners but no voters")
	}
	return checkAndReturn(cfg, prs)
}

func (c Changer) err(err error) (tracker.Config, tracker.ProgressMap, error) {
	return tracker.Config{}, nil, err
}

func (c Changer) clone() (tracker.Config, tracker.ProgressMap) {
	return c.Tracker.Config.Clone(), c.Tracker.Progress.Clone()
}

func joint(cfg tracker.Config) bool { return len(cfg.Voters[1]) > 0 }

func (c Changer) apply(cfg *tracker.Config, prs tracker.ProgressMap, ccs ...raftpb.ConfChangeSingle) error {
	for _, cc := range ccs {
		if cc.NodeID == 0 {
			return errors.New("confchange: node ID 0 is not a node")
		}
		switch cc.Type {
		case raftpb.ConfChangeAddNode:
			c.makeVoter(cfg, prs, cc.NodeID)
		case raftpb.ConfChangeAddLearnerNode:
			c.makeLearner(cfg, prs, cc.NodeID)
		case raftpb.ConfChangeRemoveNode:
			remove(cfg, prs, cc.NodeID)
		default:
			return fmt.Errorf("confchange: unknown change type %s", cc.Type)
		}
	}
	if len(cfg.Voters[0]) == 0 {
		return errors.New("confchange: the change removes all voters")
	}
	return nil
}

func (c Changer) initProgress(prs tracker.ProgressMap, id uint64, learner bool) {
	pr := tracker.NewProgress(max(c.LastIndex, 1), c.Tracker.MaxInflight, c.Tracker.MaxInflightBytes, learner)
	// A new member counts as active so that check-quorum does not depose
	// the leader before the member had a chance to answer.
	pr.RecentActive = true
	prs[id] = pr
}

func (c Changer) makeVoter(cfg *tracker.Config, prs tracker.ProgressMap, id uint64) {
	pr := prs[id]
	if pr == nil {
		c.initProgress(prs, id, false)
	} else {
		pr.IsLearner = false
	}
	delete(cfg.Learners, id)
	delete(cfg.LearnersNext, id)
	cfg.Voters[0][id] = struct{}{}
}

func (c Changer) makeLearner(cfg *tracker.Config, prs tracker.ProgressMap, id uint64) {
	pr := prs[id]
	if pr == nil {
		c.initProgress(prs, id, true)
		nilAwareAdd(&cfg.Learners, id)
		return
	}
	if pr.IsLearner {
		return
	}
	// Drop voter status (and any learner bookkeeping) without forgetting
	// the progress, then re-add as learner.
	delete(cfg.Voters[0], id)
	delete(cfg.Learners, id)
	delete(cfg.LearnersNext, id)
	if _, outgoing := cfg.Voters[1][id]; outgoing {
		nilAwareAdd(&cfg.LearnersNext, id)
		return
	}
	pr.IsLearner = true
	nilAwareAdd(&cfg.Learners, id)
}

func remove(cfg *tracker.Config, prs tracker.ProgressMap, id uint64) {
	if _, ok := prs[id]; !ok {
		return
	}
	delete(cfg.Voters[0], id)
	delete(cfg.Learners, id)
	delete(cfg.LearnersNext, id)
	if _, outgoing := cfg.Voters[1][id]; !outgoing {
		delete(prs, id)
	}
}

func nilAwareAdd(m *map[uint64]struct{}, id uint64) {
	if *m == nil {
		*m = map[uint64]struct{}{}
	}
	(*m)[id] = struct{}{}
}

func symDiff(a, b quorum.MajorityConfig) int {
	n := 0
	for id := range a {
		if _, ok := b[id]; !ok {
			n++
		}
	}
	for id := range b {
		if _, ok := a[id]; !ok {
			n++
		}
	}
	return n
}

// checkAndReturn asserts the configuration invariants.
func checkAndReturn(cfg tracker.Config, prs tracker.ProgressMap) (tracker.Config, tracker.ProgressMap, error) {
	if err := checkInvariants(cfg, prs); err != nil {
		return tracker.Config{}, nil, err
	}
	return cfg, prs, nil
}

func checkInvariants(cfg tracker.Config, prs tracker.ProgressMap) error {
	for _, ids := range []map[uint64]struct{}{cfg.Voters[0], cfg.Voters[1], cfg.Learners, cfg.LearnersNext} {
		for id := range ids {
			if _, ok := prs[id]; !ok {
				return fmt.Errorf("confchange: no progress for member %d", id)
			}
		}
	}
	for id := range cfg.LearnersNext {
		if _, ok := cfg.Voters[1][id]; !ok {
			return fmt.Errorf("confchange: %d in LearnersNext but not an outgoing voter", id)
		}
		if prs[id].IsLearner {
			return fmt.Errorf("confchange: %d in LearnersNext already marked learner", id)
		}
	}
	for id := range cfg.Learners {
		if cfg.Voters.Contains(id) {
			return fmt.Errorf("confchange: %d is both voter and learner", id)
		}
		if !prs[id].IsLearner {
			return fmt.Errorf("confchange: learner %d not marked learner", id)
		}
	}
	for id, pr := range prs {
		_, learner := cfg.Learners[id]
		if !cfg.Voters.Contains(id) && !learner {
			return fmt.Errorf("confchange: progress for non-member %d", id)
		}
		if pr.IsLearner != learner {
			return fmt.Errorf("confchange: %d learner flag %v disagrees with config", id, pr.IsLearner)
		}
	}
	if !joint(cfg) {
		if len(cfg.LearnersNext) > 0 {
			return errors.New("confchange: LearnersNext outside joint")
		}
		if cfg.AutoLeave {
			return errors.New("confchange: AutoLeave outside joint")
		}
	}
	return nil
}
