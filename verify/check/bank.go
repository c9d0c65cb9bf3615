package check

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"time"

	"github.com/cairndb/cairn/verify/history"
)

// BankSpec is the bank's invariant: these accounts, this total, all
// created by one transaction at SetupRevision.
type BankSpec struct {
	Accounts []string
	Total    int64
	// SetupRevision is the revision of the transaction that created the
	// accounts: a snapshot older than it (a serializable read from a
	// member that has not applied it yet, or a member rebuilt from
	// scratch) holds no account at all.
	SetupRevision int64
}

// BankRead is one snapshot read of every account: a single Range, so one
// revision.
type BankRead struct {
	Client       int
	Call, Return time.Duration
	// Revision is the response header's revision.
	Revision int64
	// Balances maps each account found to its balance.
	Balances map[string]int64
	// Serializable reads may be stale (served by any member's local
	// store) and are left out of the real-time check, but must still be
	// consistent snapshots.
	Serializable bool
}

// BankTransfer is one multi-key transfer transaction.
type BankTransfer struct {
	Client       int
	Call, Return time.Duration
	From, To     string
	Amount       int64
	// Outcome is OK (committed), Failed (its comparison failed or it was
	// refused) or Unknown.
	Outcome history.Outcome
	// Revision is the committing revision of an OK transfer.
	Revision int64
}

// CheckBank checks the reads and transfers of the bank workload: every
// read is a consistent snapshot (all accounts, none negative, the total
// conserved), reads at one revision agree, and no linearizable read is
// stale (older than a revision acknowledged or read before it began).
func CheckBank(spec BankSpec, reads []BankRead, transfers []BankTransfer) Result {
	const name = "bank snapshot consistency"
	var v violations
	byRev := map[int64]BankRead{}
	early := 0
	for _, rd := range reads {
		if rd.Revision < spec.SetupRevision {
			// Before the accounts existed: the snapshot must be empty.
			early++
			if len(rd.Balances) != 0 {
				v.add("read at revision %d by client %d, before the accounts were created at %d, shows %v",
					rd.Revision, rd.Client, spec.SetupRevision, sortedBalances(rd.Balances))
			}
			continue
		}
		var sum int64
		for _, a := range spec.Accounts {
			bal, ok := rd.Balances[a]
			if !ok {
				v.add("read at revision %d by client %d (t=%v) is missing account %q", rd.Revision, rd.Client, rd.Call, a)
				continue
			}
			if bal < 0 {
				v.add("read at revision %d by client %d shows %q = %d < 0", rd.Revision, rd.Client, a, bal)
			}
			sum += bal
		}
		if len(rd.Balances) != len(spec.Accounts) {
			v.add("read at revision %d by client %d holds %d accounts, want %d", rd.Revision, rd.Client, len(rd.Balances), len(spec.Accounts))
		}
		if sum != spec.Total {
			v.add("read at revision %d by client %d (t=%v, serializable=%v) totals %d, want %d: %v",
				rd.Revision, rd.Client, rd.Call, rd.Serializable, sum, spec.Total, sortedBalances(rd.Balances))
		}
		if prev, ok := byRev[rd.Revision]; ok && !maps.Equal(prev.Balances, rd.Balances) {
			v.add("two reads at revision %d differ: client %d saw %v, client %d saw %v",
				rd.Revision, prev.Client, sortedBalances(prev.Balances), rd.Client, sortedBalances(rd.Balances))
		} else if !ok {
			byRev[rd.Revision] = rd
		}
	}
	stale := checkRealTimeRevisions(reads, transfers)
	for _, s := range stale {
		v.add("%s", s)
	}
	counts := map[history.Outcome]int{}
	for _, tr := range transfers {
		counts[tr.Outcome]++
	}
	summary := fmt.Sprintf("%d reads, %d transfers (%d ok, %d refused, %d unknown), total %d",
		len(reads), len(transfers), counts[history.OK], counts[history.Failed], counts[history.Unknown], spec.Total)
	if early > 0 {
		summary += fmt.Sprintf("; %d serializable reads predate the accounts (empty, as they must be)", early)
	}
	return v.result(name, summary)
}

// revEvent is an operation that fixes a revision at its return: an OK
// transfer or a linearizable read.
type revEvent struct {
	ret  time.Duration
	rev  int64
	desc string
}

// checkRealTimeRevisions reports each linearizable read whose revision is
// older than the largest revision fixed by an operation that returned
// before the read was called: a linearizable read must see every write
// that completed before it started.
func checkRealTimeRevisions(reads []BankRead, transfers []BankTransfer) []string {
	var done []revEvent
	for _, tr := range transfers {
		if tr.Outcome == history.OK {
			done = append(done, revEvent{tr.Return, tr.Revision, fmt.Sprintf("transfer by client %d", tr.Client)})
		}
	}
	var lin []BankRead
	for _, rd := range reads {
		if !rd.Serializable {
			lin = append(lin, rd)
			done = append(done, revEvent{rd.Return, rd.Revision, fmt.Sprintf("read by client %d", rd.Client)})
		}
	}
	sort.Slice(done, func(i, j int) bool { return done[i].ret < done[j].ret })
	sort.Slice(lin, func(i, j int) bool { return lin[i].Call < lin[j].Call })
	var out []string
	var best revEvent
	i := 0
	for _, rd := range lin {
		for ; i < len(done) && done[i].ret < rd.Call; i++ {
			if done[i].rev > best.rev {
				best = done[i]
			}
		}
		if rd.Revision < best.rev {
			out = append(out, fmt.Sprintf("stale read: client %d read revision %d at t=%v, but %s had returned revision %d at t=%v",
				rd.Client, rd.Revision, rd.Call, best.desc, best.rev, best.ret))
		}
	}
	return out
}

func sortedBalances(m map[string]int64) string {
	keys := slices.Sorted(maps.Keys(m))
	s := "{"
	for i, k := range keys {
		if i > 0 {
			s += " "
		}
		s += fmt.Sprintf("%s:%d", k, m[k])
	}
	return s + "}"
}
