package check

import (
	"strings"
	"testing"

	"github.com/cairndb/cairn/verify/history"
)

var bank = BankSpec{Accounts: []string{"a", "b"}, Total: 20}

func TestBankPassesConsistentReads(t *testing.T) {
	reads := []BankRead{
		{Client: 1, Call: ms(0), Return: ms(5), Revision: 10, Balances: map[string]int64{"a": 10, "b": 10}},
		{Client: 2, Call: ms(30), Return: ms(35), Revision: 11, Balances: map[string]int64{"a": 7, "b": 13}},
		// Serializable reads may be stale.
		{Client: 3, Call: ms(40), Return: ms(45), Revision: 10, Balances: map[string]int64{"a": 10, "b": 10}, Serializable: true},
	}
	trs := []BankTransfer{{Client: 0, Call: ms(10), Return: ms(20), From: "a", To: "b", Amount: 3, Outcome: history.OK, Revision: 11}}
	if r := CheckBank(bank, reads, trs); r.Verdict != Pass {
		t.Fatalf("%v", r)
	}
}

func TestBankCatchesAPartialTransfer(t *testing.T) {
	reads := []BankRead{{Client: 1, Revision: 11, Balances: map[string]int64{"a": 7, "b": 10}}}
	r := CheckBank(bank, reads, nil)
	if r.Verdict != Fail || !strings.Contains(strings.Join(r.Details, "\n"), "totals 17, want 20") {
		t.Fatalf("partial transfer not caught: %v", r)
	}
}

func TestBankCatchesDivergentReadsAtOneRevision(t *testing.T) {
	reads := []BankRead{
		{Client: 1, Revision: 11, Balances: map[string]int64{"a": 7, "b": 13}},
		{Client: 2, Revision: 11, Balances: map[string]int64{"a": 13, "b": 7}, Serializable: true},
	}
	r := CheckBank(bank, reads, nil)
	if r.Verdict != Fail || !strings.Contains(strings.Join(r.Details, "\n"), "two reads at revision 11 differ") {
		t.Fatalf("divergence not caught: %v", r)
	}
}

// A transfer acknowledged at revision 11, then a linearizable read that
// began later shows revision 10: a stale read, though a consistent one.
func TestBankCatchesAStaleRead(t *testing.T) {
	trs := []BankTransfer{{Client: 0, Call: ms(0), Return: ms(10), From: "a", To: "b", Amount: 3, Outcome: history.OK, Revision: 11}}
	reads := []BankRead{{Client: 1, Call: ms(20), Return: ms(30), Revision: 10, Balances: map[string]int64{"a": 10, "b": 10}}}
	r := CheckBank(bank, reads, trs)
	if r.Verdict != Fail || !strings.Contains(strings.Join(r.Details, "\n"), "stale read") {
		t.Fatalf("stale read not caught: %v", r)
	}
	// The same read presented as serializable is allowed to be stale.
	reads[0].Serializable = true
	if r := CheckBank(bank, reads, trs); r.Verdict != Pass {
		t.Fatalf("serializable read flagged: %v", r)
	}
}

// A serializable read from a member that has not applied the setup yet
// sees no account: consistent, if stale. A partial set of accounts is
// never consistent.
func TestBankAcceptsEmptySnapshotsFromBeforeTheSetup(t *testing.T) {
	spec := BankSpec{Accounts: []string{"a", "b"}, Total: 20, SetupRevision: 5}
	early := []BankRead{{Client: 1, Revision: 1, Balances: map[string]int64{}, Serializable: true}}
	if r := CheckBank(spec, early, nil); r.Verdict != Pass || !strings.Contains(r.Summary, "predate the accounts") {
		t.Fatalf("%v", r)
	}
	partial := []BankRead{{Client: 1, Revision: 3, Balances: map[string]int64{"a": 10}, Serializable: true}}
	if r := CheckBank(spec, partial, nil); r.Verdict != Fail {
		t.Fatalf("a partial snapshot before the setup passed: %v", r)
	}
	empty := []BankRead{{Client: 1, Revision: 5, Balances: map[string]int64{}, Serializable: true}}
	if r := CheckBank(spec, empty, nil); r.Verdict != Fail {
		t.Fatalf("an empty snapshot after the setup passed: %v", r)
	}
}
