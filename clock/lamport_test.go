package clock

import (
	"slices"
	"sync"
	"testing"

	"pgregory.net/rapid"
)

func TestLamportTick(t *testing.T) {
	var l Lamport
	if l.Now() != 0 {
		t.Fatalf("zero Lamport reads %v, want 0", l.Now())
	}
	for want := LamportTime(1); want <= 3; want++ {
		if got := l.Tick(); got != want {
			t.Fatalf("Tick() = %v, want %v", got, want)
		}
	}
	if l.Now() != 3 {
		t.Fatalf("Now() = %v after three ticks, want 3", l.Now())
	}
}

func TestLamportWitness(t *testing.T) {
	tests := []struct {
		name          string
		local, remote LamportTime
		want          LamportTime
	}{
		{"remote ahead", 3, 10, 11},
		{"remote behind", 10, 3, 11},
		{"remote equal", 7, 7, 8},
		{"both zero", 0, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var l Lamport
			l.t.Store(uint64(tt.local))
			if got := l.Witness(tt.remote); got != tt.want {
				t.Fatalf("Witness(%v) at %v = %v, want %v", tt.remote, tt.local, got, tt.want)
			}
			if l.Now() != tt.want {
				t.Fatalf("Now() = %v after Witness, want %v", l.Now(), tt.want)
			}
		})
	}
}

func TestLamportSaturates(t *testing.T) {
	var l Lamport
	if got := l.Witness(MaxLamportTime - 1); got != MaxLamportTime {
		t.Fatalf("Witness(max-1) = %v, want max", got)
	}
	if got := l.Tick(); got != MaxLamportTime {
		t.Fatalf("Tick at max = %v, want to stay at max", got)
	}
	if got := l.Witness(MaxLamportTime); got != MaxLamportTime {
		t.Fatalf("Witness(max) at max = %v, want max", got)
	}
	var m Lamport
	if got := m.Witness(MaxLamportTime); got != MaxLamportTime {
		t.Fatalf("Witness(max) from 0 = %v, want max (no wrap to 0)", got)
	}
}

// TestLamportModel runs random Tick and Witness sequences against the
// textbook rules on a plain integer.
func TestLamportModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var l Lamport
		var model uint64
		remote := rapid.OneOf(rapid.Uint64Range(0, 50), rapid.Uint64())
		t.Repeat(map[string]func(*rapid.T){
			"tick": func(t *rapid.T) {
				if model < uint64(MaxLamportTime) {
					model++
				}
				if got := l.Tick(); uint64(got) != model {
					t.Fatalf("Tick() = %v, model %d", got, model)
				}
			},
			"witness": func(t *rapid.T) {
				r := remote.Draw(t, "remote")
				before := model
				model = max(model, r)
				if model < uint64(MaxLamportTime) {
					model++
				}
				got := l.Witness(LamportTime(r))
				if uint64(got) != model {
					t.Fatalf("Witness(%d) = %v, model %d", r, got, model)
				}
				if got < MaxLamportTime && (uint64(got) <= r || uint64(got) <= before) {
					t.Fatalf("Witness(%d) = %v is not past both %d and %d", r, got, r, before)
				}
			},
			"": func(t *rapid.T) {
				if uint64(l.Now()) != model {
					t.Fatalf("Now() = %v, model %d", l.Now(), model)
				}
			},
		})
	})
}

// TestLamportConcurrent ticks and witnesses from many goroutines: each sees
// strictly increasing times, and no time is handed out twice.
func TestLamportConcurrent(t *testing.T) {
	const goroutines, ops = 8, 2000
	var l Lamport
	results := make([][]LamportTime, goroutines)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			got := make([]LamportTime, 0, ops)
			for i := range ops {
				var ts LamportTime
				if i%3 == 0 {
					ts = l.Witness(l.Now() + LamportTime(i%5)) // a peer slightly ahead
				} else {
					ts = l.Tick()
				}
				if len(got) > 0 && ts <= got[len(got)-1] {
					t.Errorf("goroutine %d: time %v after %v", g, ts, got[len(got)-1])
					return
				}
				got = append(got, ts)
			}
			results[g] = got
		})
	}
	wg.Wait()
	var all []LamportTime
	for _, r := range results {
		all = append(all, r...)
	}
	slices.Sort(all)
	if i := firstDuplicate(all); i >= 0 {
		t.Fatalf("time %v handed out twice", all[i])
	}
	if len(all) != goroutines*ops {
		t.Fatalf("collected %d times, want %d", len(all), goroutines*ops)
	}
}

// firstDuplicate returns the index of the first element of sorted s equal to
// its predecessor, or -1.
func firstDuplicate[T comparable](s []T) int {
	for i := 1; i < len(s); i++ {
		if s[i] == s[i-1] {
			return i
		}
	}
	return -1
}
