package tracker

import (
	"fmt"
	"slices"
	"strings"

	"github.com/cairndb/cairn/raft/quorum"
	"github.com/cairndb/cairn/raft/raftpb"
)

// Config is the active membership: voters (possibly joint) and learners.
//
// Invariants: Learners and Voters are disjoint; LearnersNext is empty unless
// joint, and holds outgoing voters that become learners on leaving joint.
type Config struct {
	// Voters is the joint (or simple, when Voters[1] is empty) voter set.
	Voters quorum.JointConfig
	// AutoLeave is set when the leader must propose leaving joint by itself.
	AutoLeave bool
	// Learners are non-voting members.
	Learners map[uint64]struct{}
	// LearnersNext become learners when the joint configuration is left.
	LearnersNext map[uint64]struct{}
}

// String formats the configuration.
func (c Config) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "voters=%s", c.Voters)
	if len(c.Learners) > 0 {
		fmt.Fprintf(&b, " learners=%s", quorum.MajorityConfig(c.Learners))
	}
	if len(c.LearnersNext) > 0 {
		fmt.Fprintf(&b, " learners_next=%s", quorum.MajorityConfig(c.LearnersNext))
	}
	if c.AutoLeave {
		b.WriteString(" autoleave")
	}
	return b.String()
}

// Clone returns a deep copy.
func (c Config) Clone() Config {
	cp := func(m map[uint64]struct{}) map[uint64]struct{} {
		if m == nil {
			return nil
		}
		out := make(map[uint64]struct{}, len(m))
		for k := range m {
			out[k] = struct{}{}
		}
		return out
	}
	return Config{
		Voters:       quorum.JointConfig{cp(c.Voters[0]), cp(c.Voters[1])},
		AutoLeave:    c.AutoLeave,
		Learners:     cp(c.Learners),
		LearnersNext: cp(c.LearnersNext),
	}
}

// ProgressMap maps node IDs to their progress.
type ProgressMap map[uint64]*Progress

// AckedIndex implements quorum.AckedIndexer with Match.
func (m ProgressMap) AckedIndex(id uint64) (uint64, bool) {
	pr, ok := m[id]
	if !ok {
		return 0, false
	}
	return pr.Match, true
}

// Clone deep-copies the map.
func (m ProgressMap) Clone() ProgressMap {
	out := make(ProgressMap, len(m))
	for id, pr := range m {
		out[id] = pr.Clone()
	}
	return out
}

// ProgressTracker tracks the configuration, the progress of every member and
// the votes of the current election.
type ProgressTracker struct {
	Config
	Progress ProgressMap
	Votes    map[uint64]bool

	// MaxInflight and MaxInflightBytes size the Inflights of new members.
	MaxInflight      int
	MaxInflightBytes uint64

	ids []uint64 // sorted IDs of Progress, rebuilt by SetProgress
}

// NewProgressTracker returns an empty tracker.
func NewProgressTracker(maxInflight int, maxInflightBytes uint64) ProgressTracker {
	return ProgressTracker{
		Config: Config{
			Voters:       quorum.JointConfig{quorum.MajorityConfig{}, nil},
			Learners:     nil,
			LearnersNext: nil,
		},
		Progress:         ProgressMap{},
		Votes:            map[uint64]bool{},
		MaxInflight:      maxInflight,
		MaxInflightBytes: maxInflightBytes,
	}
}

// SetConfig installs a new configuration and progress map.
func (p *ProgressTracker) SetConfig(c Config, prs ProgressMap) {
	p.Config = c
	p.Progress = prs
	p.ids = p.ids[:0]
	for id := range prs {
		p.ids = append(p.ids, id)
	}
	slices.Sort(p.ids)
}

// IDs returns the members' IDs in ascending order. The slice must not be
// modified.
func (p *ProgressTracker) IDs() []uint64 { return p.ids }

// ConfState returns the configuration as a raftpb.ConfState.
func (p *ProgressTracker) ConfState() raftpb.ConfState {
	return raftpb.ConfState{
		Voters:         p.Voters[0].Slice(),
		VotersOutgoing: p.Voters[1].Slice(),
		Learners:       quorum.MajorityConfig(p.Learners).Slice(),
		LearnersNext:   quorum.MajorityConfig(p.LearnersNext).Slice(),
		AutoLeave:      p.AutoLeave,
	}
}

// IsSingleton reports whether the only voter configuration is one node.
func (p *ProgressTracker) IsSingleton() bool {
	return len(p.Voters[0]) == 1 && len(p.Voters[1]) == 0
}

// Committed returns the largest index acknowledged by a quorum.
func (p *ProgressTracker) Committed() uint64 {
	return p.Voters.CommittedIndex(p.Progress)
}

// Visit calls f for every member in ascending ID order.
func (p *ProgressTracker) Visit(f func(id uint64, pr *Progress)) {
	for _, id := range p.ids {
		f(id, p.Progress[id])
	}
}

// QuorumActive reports whether a quorum of voters was recently active.
func (p *ProgressTracker) QuorumActive() bool {
	votes := make(map[uint64]bool, len(p.Progress))
	p.Visit(func(id uint64, pr *Progress) {
		if !pr.IsLearner {
			votes[id] = pr.RecentActive
		}
	})
	return p.Voters.VoteResult(votes) == quorum.VoteWon
}

// VoterNodes returns the voters (both halves) in ascending order.
func (p *ProgressTracker) VoterNodes() []uint64 { return p.Voters.IDs() }

// LearnerNodes returns the learners in ascending order.
func (p *ProgressTracker) LearnerNodes() []uint64 {
	return quorum.MajorityConfig(p.Learners).Slice()
}

// ResetVotes forgets the current election's votes.
func (p *ProgressTracker) ResetVotes() { clear(p.Votes) }

// RecordVote records id's vote if it has not voted yet.
func (p *ProgressTracker) RecordVote(id uint64, granted bool) {
	if _, ok := p.Votes[id]; !ok {
		p.Votes[id] = granted
	}
}

// TallyVotes returns the granted and rejected counts among members and the
// election's result.
func (p *ProgressTracker) TallyVotes() (granted, rejected int, result quorum.VoteResult) {
	for _, id := range p.ids {
		if p.Progress[id].IsLearner {
			continue
		}
		v, ok := p.Votes[id]
		if !ok {
			continue
		}
		if v {
			granted++
		} else {
			rejected++
		}
	}
	return granted, rejected, p.Voters.VoteResult(p.Votes)
}
