package breaker_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cairndb/cairn/breaker"
)

// Do wraps a call: the breaker decides whether it may run and counts its
// error. After three failures in a row the breaker opens and calls fail
// fast; once the open time has passed, a probe is let through.
func ExampleBreaker_Do() {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	cfg := breaker.DefaultConfig()
	cfg.ConsecutiveFailures = 3
	cfg.ProbeSuccesses = 1
	cfg.Now = func() time.Time { return now } // a real node uses time.Now
	cfg.OnStateChange = func(t breaker.Transition) {
		fmt.Printf("  breaker %v -> %v (%v)\n", t.From, t.To, t.Reason)
	}
	b, err := breaker.New(cfg)
	if err != nil {
		panic(err)
	}
	peerDown := errors.New("connection refused")
	for i := range 4 {
		err := b.Do(context.Background(), func(context.Context) error { return peerDown })
		fmt.Printf("call %d: %v\n", i+1, err)
	}
	now = now.Add(5 * time.Second)
	err = b.Do(context.Background(), func(context.Context) error { return nil })
	fmt.Printf("call 5: %v\n", err)
	// Output:
	// call 1: connection refused
	// call 2: connection refused
	//   breaker closed -> open (consecutive-failures)
	// call 3: connection refused
	// call 4: breaker: open, retry after 5s
	//   breaker open -> half-open (open-elapsed)
	//   breaker half-open -> closed (probes-succeeded)
	// call 5: <nil>
}

// Allow and Done split a call in two, for code that cannot be wrapped in a
// function (a stream, a call whose outcome is known later). Every permit
// must be reported once.
func ExampleBreaker_Allow() {
	b, err := breaker.New(breaker.DefaultConfig())
	if err != nil {
		panic(err)
	}
	p, err := b.Allow()
	if err != nil {
		var open *breaker.OpenError
		if errors.As(err, &open) {
			fmt.Println("fail fast, retry in", open.RetryAfter)
		}
		return
	}
	callErr := error(nil) // ... make the call ...
	p.Done(callErr)
	fmt.Println(b.State(), b.Counts().Successes)
	// Output:
	// closed 1
}
