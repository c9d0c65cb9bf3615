package raft

import (
	"errors"
	"fmt"

	"github.com/cairndb/cairn/raft/raftpb"
)

// raftLog is the node's log: the stable Storage plus the unstable suffix.
//
// Invariants (checked by checkInvariants):
//
//	firstIndex-1 <= applied <= applying <= committed <= lastIndex
type raftLog struct {
	storage  Storage
	unstable unstable

	// committed is the highest index known to be committed.
	committed uint64
	// applying is the highest index handed to the application to apply.
	applying uint64
	// applied is the highest index the application acknowledged as applied.
	applied uint64

	// maxApplyingSize bounds the bytes of committed entries per Ready.
	maxApplyingSize uint64
}

func newLog(storage Storage, maxApplyingSize uint64) *raftLog {
	first, err := storage.FirstIndex()
	if err != nil {
		panic(err)
	}
	last, err := storage.LastIndex()
	if err != nil {
		panic(err)
	}
	l := &raftLog{storage: storage, maxApplyingSize: maxApplyingSize}
	l.unstable.offset = last + 1
	l.unstable.offsetInProgress = last + 1
	l.committed = first - 1
	l.applying = first - 1
	l.applied = first - 1
	return l
}

func (l *raftLog) String() string {
	return fmt.Sprintf("committed=%d applying=%d applied=%d unstable.offset=%d unstable.offsetInProgress=%d len(unstable.entries)=%d",
		l.committed, l.applying, l.applied, l.unstable.offset, l.unstable.offsetInProgress, len(l.unstable.entries))
}

func (l *raftLog) checkInvariants() {
	lower := l.firstIndex() - 1
	if l.unstable.snapshot != nil {
		// Applied catches up with the snapshot when it is acknowledged.
		lower = 0
	}
	if !(lower <= l.applied && l.applied <= l.applying && l.applying <= l.committed && l.committed <= l.lastIndex()) {
		panic(fmt.Sprintf("raft: log invariant violated: first=%d last=%d %s", l.firstIndex(), l.lastIndex(), l))
	}
}

func (l *raftLog) firstIndex() uint64 {
	if i, ok := l.unstable.maybeFirstIndex(); ok {
		return i
	}
	i, err := l.storage.FirstIndex()
	if err != nil {
		panic(err)
	}
	return i
}

func (l *raftLog) lastIndex() uint64 {
	if i, ok := l.unstable.maybeLastIndex(); ok {
		return i
	}
	i, err := l.storage.LastIndex()
	if err != nil {
		panic(err)
	}
	return i
}

// term returns the term of entry i, or ErrCompacted / ErrUnavailable.
func (l *raftLog) term(i uint64) (uint64, error) {
	if t, ok := l.unstable.maybeTerm(i); ok {
		return t, nil
	}
	if i+1 < l.firstIndex() {
		return 0, ErrCompacted
	}
	if i > l.lastIndex() {
		return 0, ErrUnavailable
	}
	t, err := l.storage.Term(i)
	if err == nil || errors.Is(err, ErrCompacted) || errors.Is(err, ErrUnavailable) {
		return t, err
	}
	panic(err)
}

// zeroTermOnOutOfBounds maps compaction/unavailability to term 0.
func (l *raftLog) zeroTermOnOutOfBounds(t uint64, err error) uint64 {
	if err == nil {
		return t
	}
	return 0
}

func (l *raftLog) lastTerm() uint64 {
	t, err := l.term(l.lastIndex())
	if err != nil {
		panic(fmt.Sprintf("raft: unexpected error getting the last term: %v", err))
	}
	return t
}

func (l *raftLog) matchTerm(i, t uint64) bool {
	gt, err := l.term(i)
	return err == nil && gt == t
}

// persistedIndex is the highest index known to be in stable storage and
// matching this log.
func (l *raftLog) persistedIndex() uint64 {
	if l.unstable.snapshot != nil {
		return 0
	}
	return l.unstable.offset - 1
}

// errConflictCommitted reports an append that would rewrite committed entries.
var errConflictCommitted = errors.New("raft: append conflicts with committed entries")

// maybeAppend handles the entries of a MsgApp whose previous entry is
// (index, logTerm). If the logs match there it appends the entries from the
// first conflicting one on (entries already present are kept: only a real
// conflict truncates) and returns the index of the last new entry. It never
// touches committed entries.
func (l *raftLog) maybeAppend(index, logTerm, committed uint64, ents []raftpb.Entry) (lastNew uint64, ok bool, err error) {
	if !l.matchTerm(index, logTerm) {
		return 0, false, nil
	}
	lastNew = index + uint64(len(ents))
	ci := l.findConflict(ents)
	switch {
	case ci == 0:
		// All entries already present.
	case ci <= l.committed:
		return 0, false, fmt.Errorf("%w: entry %d conflicts, committed is %d", errConflictCommitted, ci, l.committed)
	default:
		l.append(ents[ci-(index+1):]...)
	}
	l.commitTo(min(committed, lastNew))
	return lastNew, true, nil
}

// append adds ents to the unstable log, truncating from ents[0].Index.
func (l *raftLog) append(ents ...raftpb.Entry) uint64 {
	if len(ents) == 0 {
		return l.lastIndex()
	}
	if after := ents[0].Index - 1; after < l.committed {
		panic(fmt.Sprintf("raft: append after %d is out of range [committed(%d)]", after, l.committed))
	}
	l.unstable.truncateAndAppend(ents)
	return l.lastIndex()
}

// findConflict returns the index of the first entry of ents whose term
// differs from the log (or that is beyond the log), or 0 if all match.
// The entries must be contiguous.
func (l *raftLog) findConflict(ents []raftpb.Entry) uint64 {
	for _, e := range ents {
		if !l.matchTerm(e.Index, e.Term) {
			return e.Index
		}
	}
	return 0
}

// findConflictByTerm returns the largest index <= index whose term is <=
// term (the best guess at where the logs may match), and that term. Used for
// the fast backtracking hint (paper §5.3, last paragraphs).
func (l *raftLog) findConflictByTerm(index, term uint64) (uint64, uint64) {
	for ; index > 0; index-- {
		t, err := l.term(index)
		if err != nil {
			return index, 0
		}
		if t <= term {
			return index, t
		}
	}
	return 0, 0
}

// isUpToDate reports whether a log ending at (lasti, term) is at least as
// up-to-date as ours (paper §5.4.1): a later last term wins; equal terms
// compare lengths.
func (l *raftLog) isUpToDate(lasti, term uint64) bool {
	lt := l.lastTerm()
	return term > lt || (term == lt && lasti >= l.lastIndex())
}

func (l *raftLog) commitTo(tocommit uint64) {
	if l.committed < tocommit {
		if l.lastIndex() < tocommit {
			panic(fmt.Sprintf("raft: tocommit(%d) is out of range [lastIndex(%d)]", tocommit, l.lastIndex()))
		}
		l.committed = tocommit
	}
}

// maybeCommit commits up to maxIndex if that entry has term t (the leader's
// current term: paper §5.4.2).
func (l *raftLog) maybeCommit(maxIndex, t uint64) bool {
	if maxIndex > l.committed && l.zeroTermOnOutOfBounds(l.term(maxIndex)) == t {
		l.commitTo(maxIndex)
		return true
	}
	return false
}

func (l *raftLog) appliedTo(i uint64) {
	if i == 0 {
		return
	}
	if l.committed < i || i < l.applied {
		panic(fmt.Sprintf("raft: applied(%d) is out of range [prevApplied(%d), committed(%d)]", i, l.applied, l.committed))
	}
	l.applied = i
	l.applying = max(l.applying, i)
}

// nextCommittedEnts returns committed entries not yet handed out for
// application. Only entries already acknowledged as persisted locally are
// returned, so the application never applies what it might lose.
func (l *raftLog) nextCommittedEnts() []raftpb.Entry {
	if l.unstable.snapshot != nil {
		return nil
	}
	lo, hi := l.applying+1, min(l.committed, l.persistedIndex())+1
	if lo >= hi {
		return nil
	}
	ents, err := l.slice(lo, hi, l.maxApplyingSize)
	if err != nil {
		panic(fmt.Sprintf("raft: unexpected error when getting unapplied entries (%v)", err))
	}
	return ents
}

func (l *raftLog) hasNextCommittedEnts() bool {
	return l.unstable.snapshot == nil && l.applying < min(l.committed, l.persistedIndex())
}

func (l *raftLog) acceptApplying(i uint64) { l.applying = max(l.applying, i) }

// entries returns entries from i on, at most maxSize bytes (at least one).
func (l *raftLog) entries(i, maxSize uint64) ([]raftpb.Entry, error) {
	if i > l.lastIndex() {
		return nil, nil
	}
	return l.slice(i, l.lastIndex()+1, maxSize)
}

// allEntries returns the whole available log (for tests and debugging).
func (l *raftLog) allEntries() []raftpb.Entry {
	ents, err := l.entries(l.firstIndex(), noLimit)
	if err == nil {
		return ents
	}
	if errors.Is(err, ErrCompacted) {
		return l.allEntries()
	}
	panic(err)
}

// noLimit is used internally where a size bound makes no sense.
const noLimit = ^uint64(0)

// slice returns entries [lo, hi) bounded by maxSize bytes (at least one).
func (l *raftLog) slice(lo, hi, maxSize uint64) ([]raftpb.Entry, error) {
	if err := l.mustCheckOutOfBounds(lo, hi); err != nil {
		return nil, err
	}
	if lo == hi {
		return nil, nil
	}
	var ents []raftpb.Entry
	if lo < l.unstable.offset {
		stored, err := l.storage.Entries(lo, min(hi, l.unstable.offset), maxSize)
		if errors.Is(err, ErrCompacted) {
			return nil, err
		} else if errors.Is(err, ErrUnavailable) {
			panic(fmt.Sprintf("raft: entries[%d:%d) unavailable from storage", lo, min(hi, l.unstable.offset)))
		} else if err != nil {
			panic(err)
		}
		if uint64(len(stored)) < min(hi, l.unstable.offset)-lo {
			return stored, nil // size limit reached
		}
		ents = stored
	}
	if hi > l.unstable.offset {
		uns := l.unstable.slice(max(lo, l.unstable.offset), hi)
		if len(ents) > 0 {
			combined := make([]raftpb.Entry, len(ents)+len(uns))
			copy(combined, ents)
			copy(combined[len(ents):], uns)
			ents = combined
		} else {
			ents = uns
		}
	}
	return limitSize(ents, maxSize), nil
}

// mustCheckOutOfBounds checks firstIndex <= lo <= hi <= lastIndex+1.
func (l *raftLog) mustCheckOutOfBounds(lo, hi uint64) error {
	if lo > hi {
		panic(fmt.Sprintf("raft: invalid slice %d > %d", lo, hi))
	}
	if lo < l.firstIndex() {
		return ErrCompacted
	}
	if hi > l.lastIndex()+1 {
		panic(fmt.Sprintf("raft: slice[%d,%d) out of bound [%d,%d]", lo, hi, l.firstIndex(), l.lastIndex()))
	}
	return nil
}

// snapshot returns the unstable snapshot or the storage's.
func (l *raftLog) snapshot() (raftpb.Snapshot, error) {
	if l.unstable.snapshot != nil {
		return *l.unstable.snapshot, nil
	}
	return l.storage.Snapshot()
}

// restore installs a snapshot received from the leader.
func (l *raftLog) restore(s raftpb.Snapshot) {
	l.committed = s.Metadata.Index
	l.unstable.restore(s)
}
