package saga

import (
	"bytes"
	"errors"
	"math"
	"testing"
	"time"
)

func TestRecordRoundTrip(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	st := &stateRecord{ID: "trip-1", Definition: "trip", Steps: []string{"a", "b"}, Status: StatusCompensating,
		Error: "step b: declined", Executor: "x", Created: now, Updated: now}
	got, err := decodeState(encodeState(st))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(encodeState(got), encodeState(st)) {
		t.Fatalf("state round trip: %+v", got)
	}
	rec := &StepRecord{Name: "a", Status: StepActionDone, ActionAttempts: 2, Output: []byte{0, 1, 0xff}, Updated: now}
	r2, err := decodeStep(encodeStep(rec))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(encodeStep(r2), encodeStep(rec)) || !bytes.Equal(r2.Output, rec.Output) {
		t.Fatalf("step round trip: %+v", r2)
	}
	for _, bad := range []string{
		``, `{}`, `{"v":2,"id":"a","definition":"d","status":"pending"}`,
		`{"v":1,"id":"a/b","definition":"d","status":"pending"}`,
		`{"v":1,"id":"a","definition":"d","status":"running"}`,
		`{"v":1,"id":"a","definition":"d","status":"bogus"}`,
		`{"v":1,"id":"a","definition":"d","status":"pending"} trailing`,
	} {
		if _, err := decodeState([]byte(bad)); !errors.Is(err, ErrCorrupt) {
			t.Errorf("decodeState(%q) = %v, want ErrCorrupt", bad, err)
		}
	}
	for _, bad := range []string{
		`{"v":1,"name":"a","status":"pending"}`,
		`{"v":1,"name":"a","status":"action_done","action_attempts":-1}`,
		`{"v":0,"name":"a","status":"action_done"}`,
	} {
		if _, err := decodeStep([]byte(bad)); !errors.Is(err, ErrCorrupt) {
			t.Errorf("decodeStep(%q) = %v, want ErrCorrupt", bad, err)
		}
	}
}

// FuzzDecodeState: any bytes decode to a valid record or ErrCorrupt, and
// a decoded record re-encodes to bytes that decode to the same record.
func FuzzDecodeState(f *testing.F) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	f.Add(encodeState(&stateRecord{ID: "a", Definition: "d", Status: StatusPending, Created: now, Updated: now}))
	f.Add(encodeState(&stateRecord{ID: "trip-9", Definition: "trip", Steps: []string{"x", "y"}, Status: StatusCompensationFailed, Error: "e", Resolution: "r"}))
	f.Add([]byte(`{"v":1,"id":"a","definition":"d","status":"running","steps":["a","a"]}`))
	f.Add([]byte(`{"v":1`))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := decodeState(b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v is not ErrCorrupt", err)
			}
			return
		}
		enc := encodeState(s)
		s2, err := decodeState(enc)
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if !bytes.Equal(encodeState(s2), enc) {
			t.Fatalf("unstable encoding:\n%s\n%s", enc, encodeState(s2))
		}
	})
}

// FuzzDecodeStep is FuzzDecodeState for step records.
func FuzzDecodeStep(f *testing.F) {
	f.Add(encodeStep(&StepRecord{Name: "a", Status: StepActionDone, ActionAttempts: 1, Output: []byte("ref")}))
	f.Add(encodeStep(&StepRecord{Name: "b", Status: StepActionFailed, Uncertain: true, Error: "x"}))
	f.Add([]byte(`{"v":1,"name":"a","status":"compensated","output":"!!"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decodeStep(b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v is not ErrCorrupt", err)
			}
			return
		}
		enc := encodeStep(r)
		r2, err := decodeStep(enc)
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if !bytes.Equal(encodeStep(r2), enc) {
			t.Fatalf("unstable encoding:\n%s\n%s", enc, encodeStep(r2))
		}
	})
}

func TestBackoff(t *testing.T) {
	p := RetryPolicy{MaxAttempts: 10, InitialBackoff: 100 * time.Millisecond, MaxBackoff: time.Second, Multiplier: 2, Jitter: 0.5}
	for _, tc := range []struct {
		attempt int
		u       float64
		want    time.Duration
	}{
		{1, 0, 0},
		{2, 0, 100 * time.Millisecond},
		{3, 0, 200 * time.Millisecond},
		{4, 0, 400 * time.Millisecond},
		{5, 0, 800 * time.Millisecond},
		{6, 0, time.Second},
		{60, 0, time.Second},
		{2, 0.999999, 50*time.Millisecond + 50},
		{6, 0.5, 750 * time.Millisecond},
	} {
		if got := p.Backoff(tc.attempt, tc.u); got != tc.want {
			t.Errorf("Backoff(%d, %v) = %v, want %v", tc.attempt, tc.u, got, tc.want)
		}
	}
	for _, bad := range []RetryPolicy{
		{},
		{MaxAttempts: 1, InitialBackoff: time.Second, MaxBackoff: time.Millisecond, Multiplier: 2},
		{MaxAttempts: 1, InitialBackoff: time.Second, MaxBackoff: time.Second, Multiplier: 0.5},
		{MaxAttempts: 1, InitialBackoff: time.Second, MaxBackoff: time.Second, Multiplier: math.NaN()},
		{MaxAttempts: 1, InitialBackoff: time.Second, MaxBackoff: time.Second, Multiplier: 1, Jitter: 2},
	} {
		if bad.Validate() == nil {
			t.Errorf("%+v validated", bad)
		}
	}
	cfg := DefaultExecutorConfig()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("default config: %v", err)
	}
	cfg.Prefix = "no-slash"
	if cfg.Validate() == nil {
		t.Error("a prefix without a trailing slash validated")
	}
}
