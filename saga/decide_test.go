package saga

import (
	"fmt"
	"testing"
)

func steps(ss ...StepStatus) []StepRecord {
	out := make([]StepRecord, len(ss))
	for i, s := range ss {
		out[i] = StepRecord{Name: fmt.Sprintf("s%d", i), Status: s}
	}
	return out
}

func TestNextMove(t *testing.T) {
	all := []bool{true, true, true}
	const (
		P  = StepPending
		AS = StepActionStarted
		AD = StepActionDone
		AF = StepActionFailed
		CS = StepCompensationStarted
		C  = StepCompensated
		CF = StepCompensationFailed
	)
	uncertain := steps(AD, AD, AF)
	uncertain[2].Uncertain = true
	for _, tc := range []struct {
		name  string
		st    Status
		steps []StepRecord
		comp  []bool
		want  move
	}{
		{"pending begins", StatusPending, steps(P, P, P), all, move{kind: moveBegin}},
		{"first action", StatusRunning, steps(P, P, P), all, move{kind: moveAction, step: 0}},
		{"an intent is re-run", StatusRunning, steps(AD, AS, P), all, move{kind: moveAction, step: 1}},
		{"next action", StatusRunning, steps(AD, AD, P), all, move{kind: moveAction, step: 2}},
		{"all done completes", StatusRunning, steps(AD, AD, AD), all, move{kind: moveFinish, status: StatusCompleted}},
		{"a failure while running turns back", StatusRunning, steps(AD, AF, P), all, move{kind: moveTurnBack, step: 1}},
		{"a certain failure is not compensated", StatusCompensating, steps(AD, AD, AF), all, move{kind: moveCompensate, step: 1}},
		{"an uncertain failure is compensated first", StatusCompensating, uncertain, all, move{kind: moveCompensate, step: 2}},
		{"reverse order", StatusCompensating, steps(AD, C, AF), all, move{kind: moveCompensate, step: 0}},
		{"a started compensation is re-run", StatusCompensating, steps(AD, CS, AF), all, move{kind: moveCompensate, step: 1}},
		{"retried after compensation_failed", StatusCompensating, steps(AD, CF, AF), all, move{kind: moveCompensate, step: 1}},
		{"steps without a compensation are skipped", StatusCompensating, steps(AD, AD, AF), []bool{true, false, true}, move{kind: moveCompensate, step: 0}},
		{"an action started but never finished is compensated", StatusCompensating, steps(AD, AS, P), all, move{kind: moveCompensate, step: 1}},
		{"all undone", StatusCompensating, steps(C, C, AF), all, move{kind: moveFinish, status: StatusCompensated}},
		{"nothing began", StatusCompensating, steps(P, P, P), all, move{kind: moveFinish, status: StatusCompensated}},
		{"terminal", StatusCompleted, steps(AD, AD, AD), all, move{kind: moveNone}},
		{"failed is terminal", StatusCompensationFailed, steps(AD, CF, AF), all, move{kind: moveNone}},
		{"resolved is terminal", StatusResolved, steps(AD, CF, AF), all, move{kind: moveNone}},
	} {
		if got := nextMove(tc.st, tc.steps, tc.comp); got != tc.want {
			t.Errorf("%s: got %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

// TestNextMoveProgresses drives the decision core over every failure
// pattern of a 4-step saga, applying each move as the executor would
// (actions succeed unless the pattern says fail; compensations succeed),
// and checks the run ends in the right status within 2n+3 moves, with
// compensations in reverse order of the effects.
func TestNextMoveProgresses(t *testing.T) {
	const n = 4
	for failAt := -1; failAt < n; failAt++ {
		for _, uncertain := range []bool{false, true} {
			st := StatusPending
			recs := steps(StepPending, StepPending, StepPending, StepPending)
			comp := []bool{true, true, false, true}
			var undone []int
			moves := 0
			for ; moves <= 2*n+3; moves++ {
				m := nextMove(st, recs, comp)
				if m.kind == moveNone {
					break
				}
				switch m.kind {
				case moveBegin:
					st = StatusRunning
				case moveAction:
					if m.step == failAt {
						recs[m.step].Status, recs[m.step].Uncertain = StepActionFailed, uncertain
						st = StatusCompensating
					} else {
						recs[m.step].Status = StepActionDone
					}
				case moveCompensate:
					recs[m.step].Status = StepCompensated
					undone = append(undone, m.step)
				case moveFinish:
					st = m.status
				default:
					t.Fatalf("unexpected move %+v", m)
				}
			}
			if moves > 2*n+3 {
				t.Fatalf("failAt %d: no end after %d moves", failAt, moves)
			}
			want := StatusCompleted
			if failAt >= 0 {
				want = StatusCompensated
			}
			if st != want {
				t.Errorf("failAt %d uncertain %v: ended %s", failAt, uncertain, st)
			}
			var wantUndone []int
			for i := failAt; i >= 0; i-- {
				if comp[i] && (i < failAt || uncertain) {
					wantUndone = append(wantUndone, i)
				}
			}
			if fmt.Sprint(undone) != fmt.Sprint(wantUndone) {
				t.Errorf("failAt %d uncertain %v: compensated %v, want %v", failAt, uncertain, undone, wantUndone)
			}
		}
	}
}
