package raftlog

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/cairndb/cairn/raft"
	"github.com/cairndb/cairn/raft/raftpb"
)

// TestReadsDuringSaves runs readers of committed entries while a writer
// appends, replaces uncommitted suffixes and compacts, as Raft does with
// asynchronous storage writes. A committed entry must always read back as
// written (or as compacted), never missing or changed. Run with -race.
func TestReadsDuringSaves(t *testing.T) {
	opts := testOptions()
	opts.CacheBytes = MinCacheBytes // about 30 entries: reads near the truncation point go to Pebble
	s, _ := memStorage(t, opts)
	const rounds = 300
	terms := make([]atomic.Uint64, 4*rounds+8) // terms[i] of committed entries
	var committed, reads atomic.Uint64
	data := func(index, term uint64) []byte { return fmt.Appendf(nil, "%d@%d", index, term) }

	var wg sync.WaitGroup
	done := make(chan struct{})
	failures := make(chan error, 2)
	for r := range 2 {
		wg.Go(func() {
			for k := uint64(0); ; k++ {
				select {
				case <-done:
					return
				default:
				}
				c := committed.Load()
				if c == 0 {
					continue
				}
				// Near the truncation point, where Compact races the read.
				first, _ := s.FirstIndex()
				lo := min(first+(k+uint64(r))%8, c)
				ents, err := s.Entries(lo, c+1, 2048)
				if errors.Is(err, raft.ErrCompacted) {
					continue
				}
				if err != nil {
					failures <- err
					return
				}
				reads.Add(1)
				for _, e := range ents {
					if want := terms[e.Index].Load(); e.Term != want || string(e.Data) != string(data(e.Index, want)) {
						failures <- fmt.Errorf("entry %d read as %d/%q, committed with term %d", e.Index, e.Term, e.Data, want)
						return
					}
				}
			}
		})
	}

	var last, commit uint64
	term := uint64(1)
	for round := range rounds {
		start := last + 1
		if round%7 == 6 && last > commit {
			start, term = commit+1, term+1 // replace the uncommitted suffix
		}
		ents := make([]raftpb.Entry, 4)
		for i := range ents {
			idx := start + uint64(i)
			ents[i] = raftpb.Entry{Type: raftpb.EntryNormal, Index: idx, Term: term, Data: data(idx, term)}
		}
		last = start + 3
		newCommit := last - 2
		if err := s.Save(Update{Entries: ents, HardState: raftpb.HardState{Term: term, Commit: newCommit}}); err != nil {
			t.Fatal(err)
		}
		for i := commit + 1; i <= newCommit; i++ {
			terms[i].Store(term)
		}
		commit = newCommit
		committed.Store(commit)
		// Let the readers in between writes (they would rarely get a turn
		// otherwise), unless one has already failed.
		for target := reads.Load() + 2; reads.Load() < target && len(failures) == 0; {
			runtime.Gosched()
		}
		if first, _ := s.FirstIndex(); round%3 == 2 && commit >= first+64 {
			if err := s.Compact(commit - 64); err != nil {
				t.Fatal(err)
			}
		}
	}
	close(done)
	wg.Wait()
	close(failures)
	for err := range failures {
		t.Error(err)
	}
}
