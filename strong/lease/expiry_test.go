package lease

import (
	"cmp"
	"context"
	"errors"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"
)

func TestFollowerNeverExpires(t *testing.T) {
	l, clock, _ := newTestLessor(t)
	mustGrant(t, l, 1, 5)
	clock.Advance(time.Hour)
	if got := l.Expired(); got != nil {
		t.Fatalf("follower reported %v", got)
	}
	if _, err := l.Renew(context.Background(), 1); !errors.Is(err, ErrNotPrimary) {
		t.Fatalf("follower Renew: %v", err)
	}
	if _, err := l.Remaining(1); !errors.Is(err, ErrNotPrimary) {
		t.Fatalf("follower Remaining: %v", err)
	}
	if _, err := l.TimeToLive(1, false); !errors.Is(err, ErrNotPrimary) {
		t.Fatalf("follower TimeToLive: %v", err)
	}
	if l.IsPrimary() {
		t.Fatal("a new lessor is primary")
	}
}

func TestPromoteExtendsEveryLease(t *testing.T) {
	l, clock, _ := newTestLessor(t)
	mustGrant(t, l, 1, 5)
	mustGrant(t, l, 2, 20)
	clock.Advance(time.Hour) // time as a follower does not count
	l.Promote(time.Second)
	for id, want := range map[ID]time.Duration{1: 6 * time.Second, 2: 21 * time.Second} {
		if got, err := l.Remaining(id); err != nil || got != want {
			t.Fatalf("Remaining(%d) = %v, %v; want %v", id, got, err, want)
		}
	}
	// A lease granted while primary expires after its TTL, no extension.
	mustGrant(t, l, 3, 4)
	if got, _ := l.Remaining(3); got != 4*time.Second {
		t.Fatalf("Remaining(3) = %v, want 4s", got)
	}
	clock.Advance(5 * time.Second)
	if got := l.Expired(); !reflect.DeepEqual(got, []ID{3}) {
		t.Fatalf("Expired after 5s = %v, want [3]", got)
	}
	clock.Advance(time.Second)
	if got := l.Expired(); !reflect.DeepEqual(got, []ID{1}) {
		t.Fatalf("Expired after 6s = %v, want [1]", got)
	}
	dump(t, l)
}

func TestRenew(t *testing.T) {
	l, clock, _ := newTestLessor(t)
	l.Promote(0)
	mustGrant(t, l, 1, 10)
	clock.Advance(9 * time.Second)
	ttl, err := l.Renew(context.Background(), 1)
	if err != nil || ttl != 10 {
		t.Fatalf("Renew = %d, %v", ttl, err)
	}
	if got, _ := l.Remaining(1); got != 10*time.Second {
		t.Fatalf("Remaining after renew = %v", got)
	}
	clock.Advance(9 * time.Second)
	if got := l.Expired(); got != nil {
		t.Fatalf("renewed lease reported expired: %v", got)
	}
	clock.Advance(time.Second)
	if got := l.Expired(); !reflect.DeepEqual(got, []ID{1}) {
		t.Fatalf("Expired = %v, want [1]", got)
	}
	if _, err := l.Renew(context.Background(), 99); !errors.Is(err, ErrLeaseNotFound) {
		t.Fatalf("Renew unknown: %v", err)
	}
}

func TestDemoteStopsExpiry(t *testing.T) {
	l, clock, _ := newTestLessor(t)
	l.Promote(0)
	mustGrant(t, l, 1, 5)
	l.Demote()
	dump(t, l)
	clock.Advance(time.Hour)
	if got := l.Expired(); got != nil {
		t.Fatalf("demoted lessor reported %v", got)
	}
	l.Demote() // idempotent
	// A new term: the lease gets a fresh TTL from the new promotion.
	l.Promote(2 * time.Second)
	if got, _ := l.Remaining(1); got != 7*time.Second {
		t.Fatalf("Remaining after re-promotion = %v, want 7s", got)
	}
	dump(t, l)
}

func TestExpiredBatchesAndRetries(t *testing.T) {
	clock, backend := NewManualClock(epoch), NewMemBackend()
	cfg := testConfig(clock, backend)
	cfg.ExpiredBatchMax = 3
	cfg.RevokeRetryInterval = 10 * time.Second
	l, err := NewLessor(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	l.Promote(0)
	for id := ID(1); id <= 7; id++ {
		mustGrant(t, l, id, 5)
	}
	clock.Advance(5 * time.Second) // expiry is inclusive: now == expiry is expired
	var got []ID
	for range 3 {
		batch := l.Expired()
		if len(batch) > 3 {
			t.Fatalf("batch of %d above the bound", len(batch))
		}
		got = append(got, batch...)
	}
	if want := []ID{1, 2, 3, 4, 5, 6, 7}; !reflect.DeepEqual(got, want) {
		t.Fatalf("reported %v, want each of %v once", got, want)
	}
	if again := l.Expired(); again != nil {
		t.Fatalf("reported again while revokes pend: %v", again)
	}
	// Revokes of 1..5 commit; 6 and 7 were lost.
	for id := ID(1); id <= 5; id++ {
		if _, err := l.Revoke(id); err != nil {
			t.Fatal(err)
		}
	}
	clock.Advance(9 * time.Second)
	if again := l.Expired(); again != nil {
		t.Fatalf("reported before the retry interval: %v", again)
	}
	clock.Advance(time.Second)
	if again := l.Expired(); !reflect.DeepEqual(again, []ID{6, 7}) {
		t.Fatalf("retry reported %v, want [6 7]", again)
	}
	dump(t, l)
}

// TestExpiredHeapOrder checks the queue against a sort of all leases.
func TestExpiredHeapOrder(t *testing.T) {
	seed := rand.Uint64()
	rng := rand.New(rand.NewPCG(seed, 1))
	t.Logf("seed %d", seed)

	clock, backend := NewManualClock(epoch), NewMemBackend()
	cfg := testConfig(clock, backend)
	cfg.ExpiredBatchMax = 1000
	cfg.RevokeRetryInterval = time.Hour
	l, err := NewLessor(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	l.Promote(0)
	type ref struct {
		id     ID
		expiry time.Time
	}
	var leases []ref
	for id := ID(1); id <= 500; id++ {
		ttl := 2 + rng.Int64N(60)
		mustGrant(t, l, id, ttl)
		leases = append(leases, ref{id, clock.Now().Add(time.Duration(ttl) * time.Second)})
		if rng.IntN(4) == 0 {
			clock.Advance(time.Duration(rng.IntN(1000)) * time.Millisecond)
		}
	}
	// Renew a random third, at a later time.
	clock.Advance(time.Second)
	for i := range leases {
		if rng.IntN(3) == 0 && clock.Now().Before(leases[i].expiry) {
			if _, err := l.Renew(context.Background(), leases[i].id); err != nil {
				t.Fatal(err)
			}
			ttl, _ := l.Lookup(leases[i].id)
			leases[i].expiry = clock.Now().Add(time.Duration(ttl.TTL) * time.Second)
		}
	}
	slices.SortFunc(leases, func(a, b ref) int {
		if c := a.expiry.Compare(b.expiry); c != 0 {
			return c
		}
		return cmp.Compare(a.id, b.id)
	})
	var got []ID
	for step := 0; step < 1000 && len(got) < len(leases); step++ {
		clock.Advance(500 * time.Millisecond)
		got = append(got, l.Expired()...)
		// Everything reported so far is exactly the prefix due by now.
		due := 0
		for due < len(leases) && !clock.Now().Before(leases[due].expiry) {
			due++
		}
		if len(got) != due {
			t.Fatalf("at %v: reported %d leases, %d are due", clock.Now().Sub(epoch), len(got), due)
		}
	}
	if len(got) != len(leases) {
		t.Fatalf("reported %d of %d leases", len(got), len(leases))
	}
	for i := range leases {
		if got[i] != leases[i].id {
			t.Fatalf("order differs at %d: got %d, want %d", i, got[i], leases[i].id)
		}
	}
	dump(t, l)
}

func TestRenewOfExpiredLeaseWaits(t *testing.T) {
	setup := func(t *testing.T) (*Lessor, chan error) {
		l, clock, _ := newTestLessor(t)
		l.Promote(0)
		mustGrant(t, l, 1, 5)
		clock.Advance(5 * time.Second)
		done := make(chan error, 1)
		return l, done
	}
	renewIn := func(ctx context.Context, l *Lessor, done chan error) {
		go func() {
			_, err := l.Renew(ctx, 1)
			done <- err
		}()
	}
	waitBlocked := func(t *testing.T, l *Lessor, done chan error) {
		t.Helper()
		waitForRenewWaiter(t, l, 1)
		select {
		case err := <-done:
			t.Fatalf("Renew of an expired lease returned at once: %v", err)
		default:
		}
	}
	t.Run("revoked", func(t *testing.T) {
		l, done := setup(t)
		renewIn(context.Background(), l, done)
		waitBlocked(t, l, done)
		if _, err := l.Revoke(1); err != nil {
			t.Fatal(err)
		}
		if err := <-done; !errors.Is(err, ErrLeaseNotFound) {
			t.Fatalf("Renew after revoke: %v", err)
		}
	})
	t.Run("demoted", func(t *testing.T) {
		l, done := setup(t)
		renewIn(context.Background(), l, done)
		waitBlocked(t, l, done)
		l.Demote()
		if err := <-done; !errors.Is(err, ErrNotPrimary) {
			t.Fatalf("Renew after demote: %v", err)
		}
	})
	t.Run("re-promoted", func(t *testing.T) {
		l, done := setup(t)
		renewIn(context.Background(), l, done)
		waitBlocked(t, l, done)
		l.Promote(0) // the lease is alive again: the client must retry
		if err := <-done; !errors.Is(err, ErrNotPrimary) {
			t.Fatalf("Renew after re-promotion: %v", err)
		}
		if ttl, err := l.Renew(context.Background(), 1); err != nil || ttl != 5 {
			t.Fatalf("retry = %d, %v", ttl, err)
		}
	})
	t.Run("context", func(t *testing.T) {
		l, done := setup(t)
		ctx, cancel := context.WithCancel(context.Background())
		renewIn(ctx, l, done)
		waitBlocked(t, l, done)
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("Renew after cancel: %v", err)
		}
	})
}

// TestRenewIfLiveNeverWaits: the apply path's renewal answers at once for
// an expired lease (waiting there for the revoke, which the same goroutine
// must apply, deadlocked a member under a verify run).
func TestRenewIfLiveNeverWaits(t *testing.T) {
	l, clock, _ := newTestLessor(t)
	l.Promote(0)
	mustGrant(t, l, 1, 5)
	if ttl, err := l.RenewIfLive(1); err != nil || ttl != 5 {
		t.Fatalf("RenewIfLive of a live lease = %d, %v", ttl, err)
	}
	clock.Advance(5 * time.Second)
	done := make(chan error, 1)
	go func() {
		_, err := l.RenewIfLive(1)
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, ErrLeaseNotFound) {
			t.Fatalf("RenewIfLive of an expired lease: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("RenewIfLive waited for the revoke of an expired lease")
	}
}

func TestTimeToLive(t *testing.T) {
	l, clock, _ := newTestLessor(t)
	l.Promote(0)
	mustGrant(t, l, 1, 10)
	mustAttach(t, l, 1, "b", "a")
	clock.Advance(1500 * time.Millisecond)
	st, err := l.TimeToLive(1, true)
	if err != nil {
		t.Fatal(err)
	}
	// 8.5s remaining truncates to 8, as etcd's int64(Remaining().Seconds()).
	want := Status{ID: 1, TTL: 8, GrantedTTL: 10, Keys: []string{"a", "b"}}
	if !reflect.DeepEqual(st, want) {
		t.Fatalf("TimeToLive = %+v, want %+v", st, want)
	}
	if st, _ := l.TimeToLive(1, false); st.Keys != nil {
		t.Fatalf("keys without asking: %v", st.Keys)
	}
	if _, err := l.TimeToLive(2, false); !errors.Is(err, ErrLeaseNotFound) {
		t.Fatalf("unknown lease: %v", err)
	}
}

func TestRevokedLeaseLeavesTheQueue(t *testing.T) {
	l, clock, _ := newTestLessor(t)
	l.Promote(0)
	mustGrant(t, l, 1, 5)
	mustGrant(t, l, 2, 5)
	if _, err := l.Revoke(1); err != nil {
		t.Fatal(err)
	}
	dump(t, l)
	clock.Advance(5 * time.Second)
	if got := l.Expired(); !reflect.DeepEqual(got, []ID{2}) {
		t.Fatalf("Expired = %v, want [2]", got)
	}
}
