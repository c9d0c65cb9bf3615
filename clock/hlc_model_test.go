package clock

import (
	"errors"
	"math"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// hlcModel is the HLC algorithm of Kulkarni et al. 2014 (Figure 5) written
// out literally, with a counter wide enough never to overflow, plus the
// documented overflow rule applied afterwards. It is the reference that
// TestHLCModel holds the HLC to.
type hlcModel struct {
	l int64
	c uint64
}

// send is the rule for local and send events.
func (m *hlcModel) send(pt int64) {
	old := m.l
	m.l = max(old, pt)
	if m.l == old {
		m.c++
	} else {
		m.c = 0
	}
	m.carry()
}

// receive is the rule for receiving a message stamped (rl, rc).
func (m *hlcModel) receive(pt, rl int64, rc uint64) {
	old := m.l
	m.l = max(old, rl, pt)
	switch {
	case m.l == old && m.l == rl:
		m.c = max(m.c, rc) + 1
	case m.l == old:
		m.c++
	case m.l == rl:
		m.c = rc + 1
	default:
		m.c = 0
	}
	m.carry()
}

// carry applies the documented overflow rule: a counter past MaxUint32
// becomes wall time + 1ns with counter 0.
func (m *hlcModel) carry() {
	if m.c > math.MaxUint32 {
		m.l++
		m.c = 0
	}
}

func (m *hlcModel) timestamp() Timestamp { return Timestamp{WallTime: m.l, Logical: uint32(m.c)} }

// TestHLCModel drives an HLC and the reference model with the same random
// physical clock moves (forward and back), Now calls, Update calls (remote
// behind, equal, ahead within and beyond the max offset, logical counters
// near the limit) and max offset changes, and requires the same timestamps
// and the same accept/reject decisions.
func TestHLCModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		start := rapid.Int64Range(-1_000_000, 1_000_000).Draw(t, "start")
		maxOffset := rapid.Int64Range(1, 5_000).Draw(t, "maxOffset")
		phys := NewManualClock(start)
		h := NewHLC(phys, time.Duration(maxOffset))
		var model hlcModel
		var rejected uint64
		var maxAhead int64
		delta := rapid.OneOf(rapid.Int64Range(-20, 20), rapid.Int64Range(-10_000, 10_000))
		logical := rapid.OneOf(rapid.Uint32Range(0, 5), rapid.Uint32Range(math.MaxUint32-3, math.MaxUint32))

		t.Repeat(map[string]func(*rapid.T){
			"move physical clock": func(t *rapid.T) {
				phys.Advance(time.Duration(delta.Draw(t, "move")))
			},
			"now": func(t *rapid.T) {
				prev := model.timestamp()
				model.send(phys.Now())
				got := h.Now()
				if got != model.timestamp() {
					t.Fatalf("Now() = %v, model %v", got, model.timestamp())
				}
				if !prev.Less(got) {
					t.Fatalf("Now() = %v, not after %v", got, prev)
				}
			},
			"update": func(t *rapid.T) {
				pt := phys.Now()
				var remote Timestamp
				if rapid.Bool().Draw(t, "near last") {
					remote.WallTime = model.l + delta.Draw(t, "remote delta")
				} else {
					remote.WallTime = pt + delta.Draw(t, "remote delta")
				}
				remote.Logical = logical.Draw(t, "remote logical")
				got, err := h.Update(remote)
				if remote.WallTime-pt > maxOffset { // no overflow: values stay small
					rejected++
					var offErr *ClockOffsetError
					if !errors.As(err, &offErr) {
						t.Fatalf("Update(%v) at pt %d with max offset %d = %v, %v; want a ClockOffsetError",
							remote, pt, maxOffset, got, err)
					}
					return
				}
				if err != nil {
					t.Fatalf("Update(%v) at pt %d with max offset %d: %v", remote, pt, maxOffset, err)
				}
				maxAhead = max(maxAhead, remote.WallTime-pt)
				prev := model.timestamp()
				model.receive(pt, remote.WallTime, uint64(remote.Logical))
				if got != model.timestamp() {
					t.Fatalf("Update(%v) at pt %d = %v, model %v", remote, pt, got, model.timestamp())
				}
				if !prev.Less(got) || !remote.Less(got) {
					t.Fatalf("Update(%v) = %v, not after both the remote and %v", remote, got, prev)
				}
			},
			"set max offset": func(t *rapid.T) {
				maxOffset = rapid.Int64Range(1, 5_000).Draw(t, "new maxOffset")
				if err := h.SetMaxOffset(time.Duration(maxOffset)); err != nil {
					t.Fatal(err)
				}
			},
			"": func(t *rapid.T) {
				if h.Last() != model.timestamp() {
					t.Fatalf("Last() = %v, model %v", h.Last(), model.timestamp())
				}
				if h.Rejected() != rejected {
					t.Fatalf("Rejected() = %d, model %d", h.Rejected(), rejected)
				}
				if h.MaxForwardJump() != time.Duration(maxAhead) {
					t.Fatalf("MaxForwardJump() = %v, model %v", h.MaxForwardJump(), time.Duration(maxAhead))
				}
			},
		})
	})
}
