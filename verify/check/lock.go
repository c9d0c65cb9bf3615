package check

import (
	"fmt"
	"sort"
	"time"

	"github.com/cairndb/cairn/verify/history"
)

// LockWrite is one fenced write of the lock workload: a holder read the
// protected counter and wrote counter+1 in a transaction guarded by its
// lock key still having the create revision Token.
type LockWrite struct {
	Client       int
	Call, Return time.Duration
	// Token is the fencing token: the create revision of the holder's
	// lock key.
	Token int64
	// Value is the counter value written (the value read plus one).
	Value int64
	// Outcome: OK (the guard held and the write committed), Failed (the
	// guard failed: the holder had lost the lock) or Unknown.
	Outcome history.Outcome
	// Revision is the committing revision of an OK write.
	Revision int64
}

// LockFinal is the protected counter as read after the run.
type LockFinal struct {
	Value int64
	Found bool
}

// CheckLock checks mutual exclusion through the fenced writes: in commit
// order the tokens never go back (a holder that lost the lock cannot
// write after its successor), and no two committed writes wrote the same
// counter value (two holders that both read the same value overlapped).
// The final counter must count every committed write and at most the
// unknown ones besides.
func CheckLock(writes []LockWrite, final LockFinal) Result {
	const name = "lock mutual exclusion (fencing)"
	var v violations
	var ok []LockWrite
	unknown, fenced := 0, 0
	for _, w := range writes {
		switch w.Outcome {
		case history.OK:
			ok = append(ok, w)
		case history.Unknown:
			unknown++
		case history.Failed:
			fenced++
		}
	}
	sort.Slice(ok, func(i, j int) bool { return ok[i].Revision < ok[j].Revision })
	byValue := map[int64]LockWrite{}
	for i, w := range ok {
		if i > 0 {
			p := ok[i-1]
			if w.Revision == p.Revision {
				v.add("two fenced writes committed at revision %d (clients %d and %d)", w.Revision, p.Client, w.Client)
			}
			if w.Token < p.Token {
				v.add("holder overlap: client %d (token %d) wrote at revision %d after client %d (token %d) wrote at revision %d",
					w.Client, w.Token, w.Revision, p.Client, p.Token, p.Revision)
			}
			if w.Value <= p.Value {
				v.add("counter went back: client %d wrote %d at revision %d after client %d wrote %d at revision %d",
					w.Client, w.Value, w.Revision, p.Client, p.Value, p.Revision)
			}
		}
		if d, dup := byValue[w.Value]; dup {
			v.add("lost update: clients %d (token %d, rev %d) and %d (token %d, rev %d) both wrote counter %d",
				d.Client, d.Token, d.Revision, w.Client, w.Token, w.Revision, w.Value)
		}
		byValue[w.Value] = w
	}
	var lastValue int64
	if len(ok) > 0 {
		lastValue = ok[len(ok)-1].Value
	}
	switch {
	case !final.Found && len(ok) > 0:
		v.add("the counter is gone after %d committed writes", len(ok))
	case final.Value < lastValue:
		v.add("final counter %d is below the last committed value %d", final.Value, lastValue)
	case final.Value < int64(len(ok)):
		v.add("final counter %d is below the %d committed increments", final.Value, len(ok))
	case final.Value > int64(len(ok)+unknown):
		v.add("final counter %d exceeds %d committed + %d unknown increments", final.Value, len(ok), unknown)
	}
	return v.result(name, fmt.Sprintf("%d fenced writes committed, %d fenced out, %d unknown; final counter %d",
		len(ok), fenced, unknown, final.Value))
}
