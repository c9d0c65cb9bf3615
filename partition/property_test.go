package partition

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	"pgregory.net/rapid"
)

// drawKey draws short keys over a four-letter alphabet that includes 0x00
// and 0xff, so that keys often equal a boundary or extend one by a byte.
func drawKey(t *rapid.T, label string) []byte {
	return rapid.SliceOfN(rapid.SampledFrom([]byte{0x00, 'a', 'b', 0xff}), 0, 4).Draw(t, label)
}

// TestPropSplitMerge runs random splits, merges and lookups against a model
// (the sorted set of boundaries) and checks after every step that the
// ranges cover the keyspace exactly, without overlap, that each error
// happens exactly when the model says it must, and that Lookup agrees with
// a linear scan.
func TestPropSplitMerge(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		cfg := DefaultConfig()
		cfg.MaxRanges = rapid.IntRange(1, 40).Draw(t, "maxRanges")
		tb, err := New(cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		bounds := [][]byte{{}} // the model: range starts, sorted
		seenIDs := map[RangeID]bool{1: true}
		lastID := RangeID(1)
		newID := func(id RangeID) {
			if seenIDs[id] || id <= lastID {
				t.Fatalf("ID %d reused or not increasing (last %d)", id, lastID)
			}
			seenIDs[id], lastID = true, id
		}
		t.Repeat(map[string]func(*rapid.T){
			"split": func(t *rapid.T) {
				key := drawKey(t, "at")
				_, isBound := slices.BinarySearchFunc(bounds, key, bytes.Compare)
				left, right, err := tb.Split(key)
				switch {
				case isBound:
					if !errors.Is(err, ErrBoundary) {
						t.Fatalf("Split(%q) at a boundary = %v, want ErrBoundary", key, err)
					}
				case len(bounds) >= cfg.MaxRanges:
					if !errors.Is(err, ErrTooManyRanges) {
						t.Fatalf("Split(%q) of a full table = %v, want ErrTooManyRanges", key, err)
					}
				case err != nil:
					t.Fatalf("Split(%q) = %v", key, err)
				default:
					newID(left.ID())
					newID(right.ID())
					if !bytes.Equal(left.End(), key) || !bytes.Equal(right.Start(), key) {
						t.Fatalf("Split(%q) = %v, %v", key, left, right)
					}
					bounds = append(bounds, key)
					slices.SortFunc(bounds, bytes.Compare)
				}
			},
			"merge": func(t *rapid.T) {
				ranges := tb.Ranges()
				if len(ranges) < 2 {
					t.Skip("one range")
				}
				i := rapid.IntRange(0, len(ranges)-2).Draw(t, "left")
				m, err := tb.Merge(ranges[i].ID(), ranges[i+1].ID())
				if err != nil {
					t.Fatalf("Merge(%v, %v) = %v", ranges[i], ranges[i+1], err)
				}
				newID(m.ID())
				bounds = slices.Delete(bounds, i+1, i+2)
			},
			"bad merge": func(t *rapid.T) {
				ranges := tb.Ranges()
				a := rapid.Uint64Range(0, uint64(lastID)+2).Draw(t, "a")
				b := rapid.Uint64Range(0, uint64(lastID)+2).Draw(t, "b")
				i := slices.IndexFunc(ranges, func(r *Range) bool { return r.ID() == RangeID(a) })
				j := slices.IndexFunc(ranges, func(r *Range) bool { return r.ID() == RangeID(b) })
				if i >= 0 && j == i+1 {
					t.Skip("a valid merge")
				}
				_, err := tb.Merge(RangeID(a), RangeID(b))
				want := ErrNotAdjacent
				if i < 0 || j < 0 {
					want = ErrRangeNotFound
				}
				if !errors.Is(err, want) {
					t.Fatalf("Merge(%d, %d) = %v, want %v", a, b, err, want)
				}
			},
			"lookup": func(t *rapid.T) {
				key := drawKey(t, "key")
				got := tb.Lookup(key)
				var want *Range
				for _, r := range tb.Ranges() { // linear scan
					if bytes.Compare(r.Start(), key) <= 0 && (r.End() == nil || bytes.Compare(key, r.End()) < 0) {
						if want != nil {
							t.Fatalf("key %q is in %v and %v", key, want, r)
						}
						want = r
					}
				}
				if got != want {
					t.Fatalf("Lookup(%q) = %v, linear scan %v", key, got, want)
				}
			},
			"": func(t *rapid.T) { // invariants, checked after every step
				ranges := tb.Ranges()
				if len(ranges) != len(bounds) || tb.Len() != len(bounds) {
					t.Fatalf("%d ranges, model has %d", len(ranges), len(bounds))
				}
				for i, r := range ranges {
					if !bytes.Equal(r.Start(), bounds[i]) {
						t.Fatalf("range %d = %v, model start %q", i, r, bounds[i])
					}
					if i+1 < len(ranges) {
						if !bytes.Equal(r.End(), ranges[i+1].Start()) || bytes.Compare(r.Start(), r.End()) >= 0 {
							t.Fatalf("ranges %v and %v leave a gap, overlap or are empty", r, ranges[i+1])
						}
					} else if r.End() != nil {
						t.Fatalf("last range %v is bounded", r)
					}
				}
				if len(ranges[0].Start()) != 0 {
					t.Fatalf("first range %v does not start at the empty key", ranges[0])
				}
			},
		})
	})
}
