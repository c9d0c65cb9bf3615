package check

import (
	"strings"
	"testing"

	"github.com/cairndb/cairn/verify/history"
)

func lw(client int, token, value, rev int64) LockWrite {
	return LockWrite{Client: client, Token: token, Value: value, Revision: rev, Outcome: history.OK}
}

func TestLockPassesFencedHandOffs(t *testing.T) {
	writes := []LockWrite{
		lw(0, 5, 1, 6), lw(0, 5, 2, 7),
		{Client: 0, Token: 5, Value: 3, Outcome: history.Failed}, // fenced out
		lw(1, 9, 3, 10),
		{Client: 1, Token: 9, Value: 4, Outcome: history.Unknown},
		lw(2, 12, 5, 13),
	}
	if r := CheckLock(writes, LockFinal{Value: 5, Found: true}); r.Verdict != Pass {
		t.Fatalf("%v", r)
	}
}

// Two holders at once: the older token writes after the newer one.
func TestLockCatchesAnOverlap(t *testing.T) {
	writes := []LockWrite{lw(0, 5, 1, 6), lw(1, 9, 2, 10), lw(0, 5, 3, 11)}
	r := CheckLock(writes, LockFinal{Value: 3, Found: true})
	if r.Verdict != Fail || !strings.Contains(strings.Join(r.Details, "\n"), "holder overlap") {
		t.Fatalf("overlap not caught: %v", r)
	}
}

// Two holders read the same counter value and both wrote it plus one.
func TestLockCatchesALostUpdate(t *testing.T) {
	writes := []LockWrite{lw(0, 5, 1, 6), lw(1, 5, 1, 7)}
	r := CheckLock(writes, LockFinal{Value: 1, Found: true})
	if r.Verdict != Fail || !strings.Contains(strings.Join(r.Details, "\n"), "lost update") {
		t.Fatalf("lost update not caught: %v", r)
	}
}

func TestLockCatchesACounterAboveItsWrites(t *testing.T) {
	writes := []LockWrite{lw(0, 5, 1, 6), lw(1, 9, 2, 10)}
	r := CheckLock(writes, LockFinal{Value: 4, Found: true})
	if r.Verdict != Fail || !strings.Contains(strings.Join(r.Details, "\n"), "exceeds") {
		t.Fatalf("counter above its writes not caught: %v", r)
	}
}
