package lease

import (
	"errors"
	"reflect"
	"testing"
	"time"
)

func TestGrantRules(t *testing.T) {
	// MinTTL is 2 in testConfig.
	tests := []struct {
		name    string
		id      ID
		ttl     int64
		want    Lease
		wantErr error
	}{
		{name: "plain", id: 1, ttl: 10, want: Lease{ID: 1, TTL: 10}},
		{name: "at the minimum", id: 1, ttl: 2, want: Lease{ID: 1, TTL: 2}},
		{name: "below the minimum is raised", id: 1, ttl: 1, want: Lease{ID: 1, TTL: 2}},
		{name: "zero is raised", id: 1, ttl: 0, want: Lease{ID: 1, TTL: 2}},
		{name: "negative is raised", id: 1, ttl: -5, want: Lease{ID: 1, TTL: 2}},
		{name: "at the maximum", id: 1, ttl: MaxTTL, want: Lease{ID: 1, TTL: MaxTTL}},
		{name: "above the maximum", id: 1, ttl: MaxTTL + 1, wantErr: ErrTTLTooLarge},
		{name: "negative ID", id: -7, ttl: 5, want: Lease{ID: -7, TTL: 5}},
		{name: "ID 0", id: NoLease, ttl: 5, wantErr: ErrLeaseNotFound},
		{name: "ID 0 is checked before the TTL", id: NoLease, ttl: MaxTTL + 1, wantErr: ErrLeaseNotFound},
		{name: "duplicate", id: 42, ttl: 5, wantErr: ErrLeaseExists},
		{name: "TTL is checked before duplicates", id: 42, ttl: MaxTTL + 1, wantErr: ErrTTLTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, _, backend := newTestLessor(t)
			mustGrant(t, l, 42, 7)
			before := dump(t, l)
			got, err := l.Grant(tt.id, tt.ttl)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Grant(%d, %d) error = %v, want %v", tt.id, tt.ttl, err, tt.wantErr)
			}
			if err != nil {
				if !reflect.DeepEqual(dump(t, l), before) {
					t.Fatalf("a failed Grant changed the table")
				}
				return
			}
			if got != tt.want {
				t.Fatalf("Grant = %+v, want %+v", got, tt.want)
			}
			if lk, ok := l.Lookup(tt.id); !ok || lk != tt.want {
				t.Fatalf("Lookup = %+v, %v", lk, ok)
			}
			saved := map[ID]int64{}
			_ = backend.ForEachLease(func(id ID, ttl int64) error { saved[id] = ttl; return nil })
			if saved[tt.id] != tt.want.TTL {
				t.Fatalf("backend has TTL %d for %d, want the granted %d", saved[tt.id], tt.id, tt.want.TTL)
			}
		})
	}
}

func TestRevokeReturnsSortedKeysAndDetaches(t *testing.T) {
	l, _, backend := newTestLessor(t)
	mustGrant(t, l, 1, 10)
	mustGrant(t, l, 2, 10)
	mustAttach(t, l, 1, "zeta", "alpha", "mid")
	mustAttach(t, l, 2, "other")

	keys, err := l.Revoke(1)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"alpha", "mid", "zeta"}; !reflect.DeepEqual(keys, want) {
		t.Fatalf("Revoke keys = %q, want %q", keys, want)
	}
	if _, ok := l.Lookup(1); ok {
		t.Fatal("lease 1 still there")
	}
	for _, k := range keys {
		if id := l.LeaseOf(k); id != NoLease {
			t.Fatalf("key %q still attached to %d", k, id)
		}
	}
	if got := l.LeaseOf("other"); got != 2 {
		t.Fatalf("untouched lease lost its key: LeaseOf = %d", got)
	}
	n := 0
	_ = backend.ForEachLease(func(ID, int64) error { n++; return nil })
	if n != 1 {
		t.Fatalf("backend holds %d leases, want 1", n)
	}
	if _, err := l.Revoke(1); !errors.Is(err, ErrLeaseNotFound) {
		t.Fatalf("second Revoke: %v", err)
	}
	// The node deletes the revoked keys through its ordinary path, which
	// detaches them: a no-op now.
	if l.Detach(1, "alpha") {
		t.Fatal("Detach from a revoked lease reported a change")
	}
	// The ID may be granted again, with no keys.
	mustGrant(t, l, 1, 5)
	if keys, _ := l.Keys(1); len(keys) != 0 {
		t.Fatalf("regranted lease has keys %q", keys)
	}
	dump(t, l)
}

func TestAttachDetachRules(t *testing.T) {
	type op struct {
		detach bool
		id     ID
		key    string
	}
	tests := []struct {
		name      string
		ops       []op
		wantErr   error // of the last op, for Attach
		wantMoved bool  // of the last op, for Detach
		want      []tableEntry
	}{
		{
			name: "attach",
			ops:  []op{{id: 1, key: "a"}, {id: 1, key: "b"}},
			want: []tableEntry{{ID: 1, TTL: 10, Keys: []string{"a", "b"}}, {ID: 2, TTL: 10, Keys: []string{}}},
		},
		{
			name: "attach twice is one attachment",
			ops:  []op{{id: 1, key: "a"}, {id: 1, key: "a"}},
			want: []tableEntry{{ID: 1, TTL: 10, Keys: []string{"a"}}, {ID: 2, TTL: 10, Keys: []string{}}},
		},
		{
			name: "attach to another lease moves the key",
			ops:  []op{{id: 1, key: "a"}, {id: 2, key: "a"}},
			want: []tableEntry{{ID: 1, TTL: 10, Keys: []string{}}, {ID: 2, TTL: 10, Keys: []string{"a"}}},
		},
		{
			name:    "attach to an unknown lease",
			ops:     []op{{id: 1, key: "a"}, {id: 9, key: "a"}},
			wantErr: ErrLeaseNotFound,
			want:    []tableEntry{{ID: 1, TTL: 10, Keys: []string{"a"}}, {ID: 2, TTL: 10, Keys: []string{}}},
		},
		{
			name:      "detach",
			ops:       []op{{id: 1, key: "a"}, {id: 1, key: "b"}, {detach: true, id: 1, key: "a"}},
			wantMoved: true,
			want:      []tableEntry{{ID: 1, TTL: 10, Keys: []string{"b"}}, {ID: 2, TTL: 10, Keys: []string{}}},
		},
		{
			name: "detach from the wrong lease does nothing",
			ops:  []op{{id: 1, key: "a"}, {detach: true, id: 2, key: "a"}},
			want: []tableEntry{{ID: 1, TTL: 10, Keys: []string{"a"}}, {ID: 2, TTL: 10, Keys: []string{}}},
		},
		{
			name: "detach from an unknown lease does nothing",
			ops:  []op{{id: 1, key: "a"}, {detach: true, id: 9, key: "a"}},
			want: []tableEntry{{ID: 1, TTL: 10, Keys: []string{"a"}}, {ID: 2, TTL: 10, Keys: []string{}}},
		},
		{
			name: "detach a key that is not attached",
			ops:  []op{{detach: true, id: 1, key: "nope"}},
			want: []tableEntry{{ID: 1, TTL: 10, Keys: []string{}}, {ID: 2, TTL: 10, Keys: []string{}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, _, _ := newTestLessor(t)
			mustGrant(t, l, 1, 10)
			mustGrant(t, l, 2, 10)
			var err error
			var moved bool
			for _, o := range tt.ops {
				if o.detach {
					moved = l.Detach(o.id, o.key)
				} else {
					err = l.Attach(o.id, o.key)
				}
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("last Attach error = %v, want %v", err, tt.wantErr)
			}
			if moved != tt.wantMoved {
				t.Fatalf("last Detach = %v, want %v", moved, tt.wantMoved)
			}
			if got := dump(t, l); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("table = %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestBackendFailureChangesNothing(t *testing.T) {
	clock, backend := NewManualClock(epoch), &failingBackend{MemBackend: NewMemBackend()}
	l, err := NewLessor(testConfig(clock, backend), nil)
	if err != nil {
		t.Fatal(err)
	}
	l.Promote(0)
	mustGrant(t, l, 1, 10)
	mustAttach(t, l, 1, "a")
	before := dump(t, l)

	backend.fail = true
	if _, err := l.Grant(2, 10); !errors.Is(err, errDisk) {
		t.Fatalf("Grant error = %v, want the backend's", err)
	}
	if _, err := l.Revoke(1); !errors.Is(err, errDisk) {
		t.Fatalf("Revoke error = %v, want the backend's", err)
	}
	if got := dump(t, l); !reflect.DeepEqual(got, before) {
		t.Fatalf("table changed after backend failures: %+v", got)
	}
}

func TestLeasesSortedByID(t *testing.T) {
	l, _, _ := newTestLessor(t)
	for _, id := range []ID{30, -4, 7, 12} {
		mustGrant(t, l, id, 5)
	}
	want := []Lease{{-4, 5}, {7, 5}, {12, 5}, {30, 5}}
	if got := l.Leases(); !reflect.DeepEqual(got, want) {
		t.Fatalf("Leases = %v, want %v", got, want)
	}
	if l.Len() != 4 {
		t.Fatalf("Len = %d", l.Len())
	}
}

func TestMinTTLFor(t *testing.T) {
	tests := []struct {
		ticks int
		tick  time.Duration
		want  int64
	}{
		{10, 100 * time.Millisecond, 2}, // etcd's defaults: 1.5s rounds up
		{5, 100 * time.Millisecond, 1},  // 15/2 = 7 ticks (integer division): 0.7s
		{7, 100 * time.Millisecond, 1},  // 21/2 = 10 ticks: exactly 1s, nothing to round
		{20, 100 * time.Millisecond, 3}, // 3s exactly
		{10, 500 * time.Millisecond, 8}, // 7.5s
	}
	for _, tt := range tests {
		if got := MinTTLFor(tt.ticks, tt.tick); got != tt.want {
			t.Errorf("MinTTLFor(%d, %v) = %d, want %d", tt.ticks, tt.tick, got, tt.want)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	ok := DefaultConfig()
	ok.Backend = NewMemBackend()
	if err := ok.Validate(); err != nil {
		t.Fatalf("default config with a backend: %v", err)
	}
	tests := []struct {
		name   string
		mutate func(*Config)
	}{
		{"MinTTL 0", func(c *Config) { c.MinTTL = 0 }},
		{"MinTTL above MaxTTL", func(c *Config) { c.MinTTL = MaxTTL + 1 }},
		{"retry 0", func(c *Config) { c.RevokeRetryInterval = 0 }},
		{"retry too long", func(c *Config) { c.RevokeRetryInterval = 2 * time.Hour }},
		{"batch 0", func(c *Config) { c.ExpiredBatchMax = 0 }},
		{"batch too large", func(c *Config) { c.ExpiredBatchMax = maxExpiredBatch + 1 }},
		{"no backend", func(c *Config) { c.Backend = nil }},
	}
	for _, tt := range tests {
		c := ok
		tt.mutate(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%s: Validate accepted it", tt.name)
		}
		if _, err := NewLessor(c, nil); err == nil {
			t.Errorf("%s: NewLessor accepted it", tt.name)
		}
	}
}
