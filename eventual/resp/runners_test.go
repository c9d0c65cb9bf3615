package resp

import (
	"sync"
	"testing"
	"time"
)

// TestRunnersNeverWait: a command handed to the runners starts even while
// every runner is busy with a command that blocks, and finished runners
// are reused; Close ends the idle ones.
func TestRunnersNeverWait(t *testing.T) {
	r := newRunners()
	release := make(chan struct{})
	var blocked sync.WaitGroup
	for range 8 {
		blocked.Add(1)
		r.run(func() { blocked.Done(); <-release })
	}
	blocked.Wait() // eight runners busy
	ran := make(chan struct{})
	r.run(func() { close(ran) })
	select {
	case <-ran:
	case <-time.After(5 * time.Second):
		t.Fatal("a command waited for a busy runner")
	}
	close(release)
	waitIdle := func(want int32) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for r.idle.Load() != want {
			if time.Now().After(deadline) {
				t.Fatalf("%d idle runners, want %d", r.idle.Load(), want)
			}
			time.Sleep(time.Millisecond)
		}
	}
	waitIdle(9)
	done := make(chan struct{})
	r.run(func() { close(done) })
	<-done
	time.Sleep(50 * time.Millisecond) // time for a tenth goroutine to turn idle, were there one
	waitIdle(9)                       // an idle runner took it: no tenth goroutine
	r.close()
	waitIdle(0)
}
