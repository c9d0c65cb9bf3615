package nemesis

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/cairndb/cairn/verify/cluster"
)

func TestPlannerIsDeterministicPerSeed(t *testing.T) {
	steps := func(seed uint64) []string {
		p := NewPlanner(AllKinds, 5, seed, time.Second, time.Second)
		var out []string
		for range 50 {
			s := p.Next()
			out = append(out, fmt.Sprintf("%v %v", s, s.Faults))
		}
		return out
	}
	a, b, c := steps(7), steps(7), steps(8)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("the same seed gave two schedules")
	}
	if reflect.DeepEqual(a, c) {
		t.Fatal("two seeds gave the same schedule")
	}
}

func TestPlannerCoversEveryKindAndCombines(t *testing.T) {
	p := NewPlanner(AllKinds, 3, 1, time.Second, time.Second)
	seen := map[Kind]bool{}
	combined := 0
	for range 400 {
		s := p.Next()
		if s.Wait < 500*time.Millisecond || s.Wait >= 1500*time.Millisecond {
			t.Fatalf("wait %v outside the jitter", s.Wait)
		}
		for _, f := range s.Faults {
			seen[f.Kind] = true
		}
		if len(s.Faults) == 2 {
			combined++
			a, b := s.Faults[0].Kind, s.Faults[1].Kind
			if a == Member || b == Member || (a.network() && b.network()) || a == b {
				t.Fatalf("bad combination %v", s)
			}
		}
	}
	if len(seen) != len(AllKinds) || combined == 0 {
		t.Fatalf("kinds seen %v, %d combined steps", seen, combined)
	}
}

func cutSet(links []cluster.Link) map[cluster.Link]bool {
	m := map[cluster.Link]bool{}
	for _, l := range links {
		m[l] = true
	}
	return m
}

func TestPartitionShapes(t *testing.T) {
	name := func(i int) string { return fmt.Sprintf("n%d", i) }
	perm := []int{3, 0, 4, 1, 2}
	const leader = 4
	for _, tc := range []struct {
		shape string
		// reach[i][j]: can i send to j.
		check func(cut map[cluster.Link]bool) error
	}{
		{"leader", func(cut map[cluster.Link]bool) error {
			for j := range 5 {
				if j != leader && (!cut[cluster.Link{From: leader, To: j}] || !cut[cluster.Link{From: j, To: leader}]) {
					return fmt.Errorf("leader still linked with %d", j)
				}
			}
			if len(cut) != 8 {
				return fmt.Errorf("%d links cut, want 8", len(cut))
			}
			return nil
		}},
		{"majority", func(cut map[cluster.Link]bool) error {
			// minority {3 0} against {4 1 2}: 2*3*2 links.
			if len(cut) != 12 || !cut[cluster.Link{From: 3, To: 4}] || cut[cluster.Link{From: 4, To: 1}] || cut[cluster.Link{From: 3, To: 0}] {
				return fmt.Errorf("cut %v", cut)
			}
			return nil
		}},
		{"bridge", func(cut map[cluster.Link]bool) error {
			for l := range cut {
				if l.From == 3 || l.To == 3 {
					return fmt.Errorf("the bridge 3 is cut: %v", l)
				}
			}
			if !cut[cluster.Link{From: 0, To: 1}] || cut[cluster.Link{From: 0, To: 4}] {
				return fmt.Errorf("cut %v", cut)
			}
			return nil
		}},
		{"one-way-in", func(cut map[cluster.Link]bool) error {
			if len(cut) != 4 || !cut[cluster.Link{From: 0, To: leader}] || cut[cluster.Link{From: leader, To: 0}] {
				return fmt.Errorf("cut %v", cut)
			}
			return nil
		}},
		{"one-way-out", func(cut map[cluster.Link]bool) error {
			if len(cut) != 4 || !cut[cluster.Link{From: leader, To: 0}] || cut[cluster.Link{From: 0, To: leader}] {
				return fmt.Errorf("cut %v", cut)
			}
			return nil
		}},
		{"ring", func(cut map[cluster.Link]bool) error {
			// Ring order 3 0 4 1 2: each keeps two neighbours, so 5*2
			// links cut; 3-0 kept, 3-4 cut.
			if len(cut) != 10 || cut[cluster.Link{From: 3, To: 0}] || !cut[cluster.Link{From: 3, To: 4}] || cut[cluster.Link{From: 2, To: 3}] {
				return fmt.Errorf("cut %v", cut)
			}
			return nil
		}},
	} {
		links, desc := PartitionLinks(Fault{Kind: Partition, Shape: tc.shape, Perm: perm}, leader, name)
		if err := tc.check(cutSet(links)); err != nil {
			t.Errorf("%s (%s): %v", tc.shape, desc, err)
		}
	}
}

func TestParseKinds(t *testing.T) {
	ks, err := ParseKinds("kill, partition,kill")
	if err != nil || FormatKinds(ks) != "kill,partition" {
		t.Fatalf("%v %v", ks, err)
	}
	if ks, _ := ParseKinds("all"); len(ks) != len(AllKinds) {
		t.Fatalf("all = %v", ks)
	}
	if ks, _ := ParseKinds("none"); ks != nil {
		t.Fatalf("none = %v", ks)
	}
	if _, err := ParseKinds("flood"); err == nil {
		t.Fatal("unknown kind accepted")
	}
}

func TestTargets(t *testing.T) {
	f := Fault{Kind: Kill, Shape: "leader", Perm: []int{2, 0, 1}}
	if got := f.Targets(1); !reflect.DeepEqual(got, []int{1}) {
		t.Fatalf("leader target %v", got)
	}
	f.Shape = "majority"
	if got := f.Targets(-1); !reflect.DeepEqual(got, []int{2, 0}) {
		t.Fatalf("majority %v", got)
	}
	f.Shape = "all"
	if got := f.Targets(-1); len(got) != 3 {
		t.Fatalf("all %v", got)
	}
}
