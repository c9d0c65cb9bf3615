package check

import (
	"fmt"

	"github.com/cairndb/cairn/verify/history"
)

// WatchEvent is one event a watcher received (a put or a delete) with
// the fields etcd's watch API gives it.
type WatchEvent struct {
	Delete bool
	Key    string
	// Value is the put's value (empty for a delete).
	Value string
	// Revision is the event's kv.ModRevision (for a delete, the
	// deleting revision).
	Revision int64
	// CreateRevision and Version are the put's kv fields.
	CreateRevision, Version int64
	// HasPrev reports whether the event carried prev_kv; PrevValue and
	// PrevModRevision are its fields.
	HasPrev         bool
	PrevValue       string
	PrevModRevision int64
}

// WatchStream is everything one watcher received, across its cancels and
// resumptions (each resumption asks for the revision after the last one
// received, so the stream must read as one).
type WatchStream struct {
	// Watcher names the watcher ("w0 via m2").
	Watcher string
	// From is the revision the first watch started at; the prefix was
	// empty before it.
	From int64
	// Until is the last revision the stream is known to cover (the
	// fence write it saw), or 0 if it never reached the fence.
	Until int64
	// Events in the order received.
	Events []WatchEvent
	// Resumes counts the times the watch was started again.
	Resumes int
}

// WatchWrite is one write under the watched prefix.
type WatchWrite struct {
	Key    string
	Value  string // unique per put
	Delete bool
	// Outcome is OK, Failed or Unknown.
	Outcome history.Outcome
	// Revision is the header revision of an OK write; Deleted is how
	// many keys an OK delete removed (0: no event).
	Revision int64
	Deleted  int64
}

// CheckWatch checks every watcher's stream against the writes and against
// the other streams (see the package comment).
func CheckWatch(streams []WatchStream, writes []WatchWrite) Result {
	const name = "watch guarantees"
	var v violations
	puts := map[string]WatchWrite{} // by value
	deletes := map[string][]WatchWrite{}
	for _, w := range writes {
		if w.Delete {
			deletes[w.Key] = append(deletes[w.Key], w)
		} else {
			puts[w.Value] = w
		}
	}
	events, resumes := 0, 0
	for _, s := range streams {
		events += len(s.Events)
		resumes += s.Resumes
		checkStream(&v, s, puts, deletes)
		checkReliable(&v, s, writes)
	}
	checkAgreement(&v, streams)
	return v.result(name, fmt.Sprintf("%d watchers, %d events, %d resumptions, %d writes", len(streams), events, resumes, len(writes)))
}

// keyState is a key's state as the stream so far implies it.
type keyState struct {
	exists          bool
	value           string
	modRev, version int64
	createRev       int64
}

// checkStream checks one stream on its own: ordered, unique, no phantom,
// prev_kv, create revision and version.
func checkStream(v *violations, s WatchStream, puts map[string]WatchWrite, deletes map[string][]WatchWrite) {
	if s.Until == 0 {
		v.add("%s: never received the fence write: the stream stopped or fell behind", s.Watcher)
	}
	state := map[string]*keyState{}
	type revKey struct {
		rev int64
		key string
	}
	seen := map[revKey]bool{}
	var last int64
	for i, e := range s.Events {
		where := fmt.Sprintf("%s event %d (rev %d, key %q)", s.Watcher, i, e.Revision, e.Key)
		if e.Revision < s.From {
			v.add("%s: before the watch's start revision %d", where, s.From)
		}
		if e.Revision < last {
			v.add("%s: out of order, after revision %d", where, last)
		}
		last = max(last, e.Revision)
		rk := revKey{e.Revision, e.Key}
		if seen[rk] {
			v.add("%s: duplicated", where)
			continue
		}
		seen[rk] = true
		// No phantom: the event must come from a write.
		if e.Delete {
			ok := false
			for _, w := range deletes[e.Key] {
				if w.Outcome == history.Unknown || (w.Outcome == history.OK && w.Revision == e.Revision) {
					ok = true
				}
			}
			if !ok {
				v.add("%s: a delete no client issued (or at another revision)", where)
			}
		} else {
			w, ok := puts[e.Value]
			switch {
			case !ok || w.Key != e.Key:
				v.add("%s: value %q was never written to this key", where, e.Value)
			case w.Outcome == history.Failed:
				v.add("%s: value %q comes from a write that was refused", where, e.Value)
			case w.Outcome == history.OK && w.Revision != e.Revision:
				v.add("%s: the write of %q was acknowledged at revision %d", where, e.Value, w.Revision)
			}
		}
		// prev_kv, create revision and version follow the key's state.
		st := state[e.Key]
		if st == nil {
			st = &keyState{}
			state[e.Key] = st
		}
		switch {
		case st.exists && !e.HasPrev:
			v.add("%s: no prev_kv, but the key held %q (rev %d)", where, st.value, st.modRev)
		case st.exists && (e.PrevValue != st.value || e.PrevModRevision != st.modRev):
			v.add("%s: prev_kv is %q (rev %d), want %q (rev %d)", where, e.PrevValue, e.PrevModRevision, st.value, st.modRev)
		case !st.exists && e.HasPrev:
			v.add("%s: prev_kv %q (rev %d) for a key that did not exist", where, e.PrevValue, e.PrevModRevision)
		}
		if e.Delete {
			if !st.exists {
				v.add("%s: delete of a key that did not exist", where)
			}
			*st = keyState{}
			continue
		}
		if !st.exists {
			if e.CreateRevision != e.Revision || e.Version != 1 {
				v.add("%s: a create must have create_revision = mod_revision and version 1, got %d and %d", where, e.CreateRevision, e.Version)
			}
			*st = keyState{exists: true, createRev: e.Revision}
		} else if e.CreateRevision != st.createRev || e.Version != st.version+1 {
			v.add("%s: an update must keep create_revision %d and bump version to %d, got %d and %d",
				where, st.createRev, st.version+1, e.CreateRevision, e.Version)
		}
		st.value, st.modRev, st.version = e.Value, e.Revision, e.Version
	}
}

// checkReliable reports acknowledged writes inside the stream's covered
// range that the stream lacks: a gap.
func checkReliable(v *violations, s WatchStream, writes []WatchWrite) {
	if s.Until == 0 {
		return
	}
	type revKey struct {
		rev int64
		key string
	}
	got := map[revKey]WatchEvent{}
	for _, e := range s.Events {
		got[revKey{e.Revision, e.Key}] = e
	}
	for _, w := range writes {
		if w.Outcome != history.OK || w.Revision < s.From || w.Revision > s.Until || (w.Delete && w.Deleted == 0) {
			continue
		}
		e, ok := got[revKey{w.Revision, w.Key}]
		switch {
		case !ok:
			what := "put of " + fmt.Sprintf("%q", w.Value)
			if w.Delete {
				what = "delete"
			}
			v.add("%s: missing the acknowledged %s on %q at revision %d (covered %d..%d)", s.Watcher, what, w.Key, w.Revision, s.From, s.Until)
		case e.Delete != w.Delete || (!w.Delete && e.Value != w.Value):
			v.add("%s: at revision %d on %q got %+v, want the write %+v", s.Watcher, w.Revision, w.Key, e, w)
		}
	}
}

// checkAgreement reports streams that disagree on the revisions they both
// cover: every watcher must see the same history.
func checkAgreement(v *violations, streams []WatchStream) {
	ref := -1
	for i, s := range streams {
		if s.Until != 0 {
			ref = i
			break
		}
	}
	if ref < 0 {
		return
	}
	for i := ref + 1; i < len(streams); i++ {
		a, b := streams[ref], streams[i]
		lo, hi := max(a.From, b.From), min(a.Until, b.Until)
		if b.Until == 0 || lo > hi {
			continue
		}
		ea, eb := eventsIn(a.Events, lo, hi), eventsIn(b.Events, lo, hi)
		n := min(len(ea), len(eb))
		for j := 0; j < n; j++ {
			if ea[j] != eb[j] {
				v.add("%s and %s disagree at their event %d in %d..%d: %+v vs %+v", a.Watcher, b.Watcher, j, lo, hi, ea[j], eb[j])
				break
			}
		}
		if len(ea) != len(eb) {
			v.add("%s saw %d events in %d..%d, %s saw %d", a.Watcher, len(ea), lo, hi, b.Watcher, len(eb))
		}
	}
}

func eventsIn(evs []WatchEvent, lo, hi int64) []WatchEvent {
	var out []WatchEvent
	for _, e := range evs {
		if e.Revision >= lo && e.Revision <= hi {
			out = append(out, e)
		}
	}
	return out
}
