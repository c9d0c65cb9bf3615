package check

import (
	"strings"
	"testing"

	"github.com/cairndb/cairn/verify/history"
)

// goodWatch is a history of three writes to two keys and one watcher
// that saw them all, with a fence at revision 13.
func goodWatch() ([]WatchStream, []WatchWrite) {
	writes := []WatchWrite{
		{Key: "k1", Value: "v1", Outcome: history.OK, Revision: 10},
		{Key: "k1", Value: "v2", Outcome: history.OK, Revision: 11},
		{Key: "k1", Delete: true, Outcome: history.OK, Revision: 12, Deleted: 1},
		{Key: "k2", Value: "v3", Outcome: history.Unknown},
		{Key: "fence", Value: "f", Outcome: history.OK, Revision: 13},
	}
	events := []WatchEvent{
		{Key: "k1", Value: "v1", Revision: 10, CreateRevision: 10, Version: 1},
		{Key: "k1", Value: "v2", Revision: 11, CreateRevision: 10, Version: 2, HasPrev: true, PrevValue: "v1", PrevModRevision: 10},
		{Key: "k1", Delete: true, Revision: 12, HasPrev: true, PrevValue: "v2", PrevModRevision: 11},
		{Key: "fence", Value: "f", Revision: 13, CreateRevision: 13, Version: 1},
	}
	a := WatchStream{Watcher: "a", From: 9, Until: 13, Events: events}
	b := WatchStream{Watcher: "b", From: 9, Until: 13, Events: append([]WatchEvent(nil), events...), Resumes: 2}
	return []WatchStream{a, b}, writes
}

func TestWatchPassesAGoodHistory(t *testing.T) {
	streams, writes := goodWatch()
	if r := CheckWatch(streams, writes); r.Verdict != Pass {
		t.Fatalf("%v", r)
	}
}

func mustFailWatch(t *testing.T, streams []WatchStream, writes []WatchWrite, want string) {
	t.Helper()
	r := CheckWatch(streams, writes)
	if r.Verdict != Fail || !strings.Contains(strings.Join(r.Details, "\n"), want) {
		t.Fatalf("want a failure mentioning %q, got %v", want, r)
	}
}

func TestWatchCatchesADuplicatedEvent(t *testing.T) {
	streams, writes := goodWatch()
	ev := streams[1].Events
	streams[1].Events = append(append(append([]WatchEvent(nil), ev[:2]...), ev[1]), ev[2:]...)
	mustFailWatch(t, streams, writes, "duplicated")
}

func TestWatchCatchesAGap(t *testing.T) {
	streams, writes := goodWatch()
	streams[1].Events = append(append([]WatchEvent(nil), streams[1].Events[:1]...), streams[1].Events[2:]...)
	mustFailWatch(t, streams, writes, "missing the acknowledged put")
}

func TestWatchCatchesDisorder(t *testing.T) {
	streams, writes := goodWatch()
	ev := streams[0].Events
	streams[0].Events = []WatchEvent{ev[1], ev[0], ev[2], ev[3]}
	mustFailWatch(t, streams, writes, "out of order")
}

func TestWatchCatchesAWrongPrevKV(t *testing.T) {
	streams, writes := goodWatch()
	streams[0].Events[1].PrevValue = "stale"
	mustFailWatch(t, streams, writes, "prev_kv is")
}

func TestWatchCatchesAPhantom(t *testing.T) {
	streams, writes := goodWatch()
	streams[0].Events[0].Value = "never"
	mustFailWatch(t, streams, writes, "never written")
}

func TestWatchCatchesAStreamThatStopped(t *testing.T) {
	streams, writes := goodWatch()
	streams[1].Until = 0
	streams[1].Events = streams[1].Events[:2]
	mustFailWatch(t, streams, writes, "never received the fence")
}

// An unknown write may appear, but then in every stream.
func TestWatchCatchesDisagreementOnAnUnknownWrite(t *testing.T) {
	streams, writes := goodWatch()
	extra := WatchEvent{Key: "k2", Value: "v3", Revision: 12, CreateRevision: 12, Version: 1}
	ev := streams[0].Events
	streams[0].Events = []WatchEvent{ev[0], ev[1], ev[2], extra, ev[3]}
	mustFailWatch(t, streams, writes, "saw 5 events")
}
