package sim_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cairndb/cairn/sim"
)

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*sim.Config)
		want   string
	}{
		{"default", func(*sim.Config) {}, ""},
		{"no nodes", func(c *sim.Config) { c.Nodes = 0 }, "Nodes"},
		{"too many nodes", func(c *sim.Config) { c.Nodes = sim.MaxNodes + 1 }, "Nodes"},
		{"zero tick", func(c *sim.Config) { c.TickInterval = 0 }, "TickInterval"},
		{"bad loss mode", func(c *sim.Config) { c.DiskLoss = 0 }, "DiskLoss"},
		{"zero tail", func(c *sim.Config) { c.TraceTail = 0 }, "TraceTail"},
		{"zero min delay", func(c *sim.Config) { c.Net.MinDelay = 0 }, "MinDelay"},
		{"max below min", func(c *sim.Config) { c.Net.MaxDelay = c.Net.MinDelay / 2 }, "MaxDelay"},
		{"drop > 1", func(c *sim.Config) { c.Net.DropProb = 1.5 }, "DropProb"},
		{"dup < 0", func(c *sim.Config) { c.Net.DupProb = -0.1 }, "DupProb"},
		{"reorder without delay", func(c *sim.Config) { c.Net.ReorderDelay = 0 }, "ReorderDelay"},
		{"zero in flight", func(c *sim.Config) { c.Net.MaxInFlight = 0 }, "MaxInFlight"},
		{"zero backlog", func(c *sim.Config) { c.Net.PausedBacklog = 0 }, "PausedBacklog"},
		{"zero per instant", func(c *sim.Config) { c.MaxEventsPerInstant = 0 }, "MaxEventsPerInstant"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := sim.DefaultConfig(1)
			tc.mutate(&c)
			err := c.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate() = %v, want an error naming %s", err, tc.want)
			}
		})
	}
}

func TestNewRejectsIncompleteProtocol(t *testing.T) {
	if _, err := sim.New(sim.DefaultConfig(1), sim.Protocol[ping]{Describe: describePing}); err == nil {
		t.Fatal("New without Start succeeded")
	}
}

func TestScheduleRunsInTimeThenScheduleOrder(t *testing.T) {
	w := newPingWorld(t, sim.DefaultConfig(1), 0)
	var got []string
	at := 5 * time.Millisecond
	w.Schedule(at, "b1", func() { got = append(got, "b1") })
	w.Schedule(at/2, "a", func() { got = append(got, "a") })
	w.Schedule(at, "b2", func() { got = append(got, "b2") })
	w.Schedule(at, "b3", func() {
		got = append(got, "b3")
		w.Schedule(0, "past", func() { got = append(got, "past@"+w.Now().String()) })
	})
	if err := w.RunUntil(10 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	want := "a b1 b2 b3 past@5ms"
	if strings.Join(got, " ") != want {
		t.Fatalf("order = %v, want %s", got, want)
	}
	if w.Now() != 10*time.Millisecond {
		t.Fatalf("Now() = %v after RunUntil(10ms)", w.Now())
	}
}

func TestTicksAtInterval(t *testing.T) {
	started := map[string]*pingNode{}
	cfg := sim.DefaultConfig(3)
	cfg.Nodes = 1
	w, err := sim.New(cfg, pingProtocol(0, false, started))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.RunUntil(time.Second); err != nil {
		t.Fatal(err)
	}
	// The first tick comes at a random phase in (0, 10ms], then one every
	// 10ms: 100 ticks in the first second.
	if got := started["1/1"].ticks; got != 100 {
		t.Fatalf("ticks in 1s = %d, want 100", got)
	}
}

func TestCrashDropsVolatileStateAndInFlightMessages(t *testing.T) {
	started := map[string]*pingNode{}
	cfg := sim.DefaultConfig(5)
	cfg.Net.DropProb, cfg.Net.DupProb = 0, 0
	cfg.DiskLoss = sim.LossAll
	w, err := sim.New(cfg, pingProtocol(2, true, started))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.RunFor(500 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	d := w.Disk(2)
	d.Append("received", []byte("written just before the crash"))
	synced := d.Len("received") - d.Unsynced("received") // every pending op is an append
	if d.Unsynced("received") == 0 {
		t.Fatal("test needs unsynced writes at the crash")
	}
	w.Crash(2)
	if w.Up(2) {
		t.Fatal("node 2 up after Crash")
	}
	if _, ok := w.Node(2); ok {
		t.Fatal("Node(2) returned a node while it is down")
	}
	if got := d.Len("received"); got != synced || d.Unsynced("received") != 0 {
		t.Fatalf("after a LossAll crash the log has %d records (%d unsynced), want the %d synced", got, d.Unsynced("received"), synced)
	}
	old := started["2/1"]
	before := len(old.received)
	down := w.Stats().DroppedDown
	if err := w.RunFor(200 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if len(old.received) != before {
		t.Fatal("a crashed incarnation received messages")
	}
	if w.Stats().DroppedDown == down {
		t.Fatal("no message was dropped at the crashed node")
	}
	w.RestartAfter(2, 100*time.Millisecond)
	if err := w.RunFor(99 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if w.Up(2) {
		t.Fatal("node 2 restarted before its delay")
	}
	if err := w.RunFor(200 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	fresh, ok := started["2/2"]
	if !ok || !w.Up(2) {
		t.Fatal("node 2 was not restarted as incarnation 2")
	}
	if fresh.h.Incarnation() != 2 || len(fresh.received) == 0 || fresh.received[0] == old.received[0] {
		t.Fatalf("restarted node kept volatile state or got no messages: %d received", len(fresh.received))
	}
	if old.h.Alive() {
		t.Fatal("old incarnation's host still alive")
	}
	sent := w.Stats().Sent
	old.h.Send(1, ping{})
	if w.Stats().Sent != sent {
		t.Fatal("a dead incarnation's Send reached the network")
	}
}

func TestPauseHoldsMessagesAndTicks(t *testing.T) {
	started := map[string]*pingNode{}
	cfg := sim.DefaultConfig(7)
	cfg.Net.DropProb, cfg.Net.DupProb, cfg.Net.ReorderProb = 0, 0, 0
	w, err := sim.New(cfg, pingProtocol(0, false, started))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.RunFor(100 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	n3 := started["3/1"]
	w.PauseFor(3, 300*time.Millisecond)
	ticks, got := n3.ticks, len(n3.received)
	if err := w.RunFor(290 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if !w.Paused(3) || n3.ticks != ticks || len(n3.received) != got {
		t.Fatalf("paused node ran: ticks %d->%d, received %d->%d", ticks, n3.ticks, got, len(n3.received))
	}
	if err := w.RunFor(20 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if w.Paused(3) {
		t.Fatal("node 3 still paused after its pause ended")
	}
	// About 2 pings per 10ms tick arrive at node 3 from two peers over
	// 300ms; all of them must be handed over at resume, none lost.
	if held := len(n3.received) - got; held < 30 {
		t.Fatalf("only %d messages delivered after resume, want the ~60 held", held)
	}
	if w.Stats().Dropped() != 0 {
		t.Fatalf("messages dropped with a loss-free network: %+v", w.Stats())
	}
}

func TestInvariantFailureStopsTheRun(t *testing.T) {
	w := newPingWorld(t, sim.DefaultConfig(11), 1)
	boom := errors.New("boom")
	w.AddInvariant("fails-at-100", func() error {
		if w.Steps() >= 100 {
			return boom
		}
		return nil
	})
	err := w.RunFor(10 * time.Second)
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "fails-at-100") {
		t.Fatalf("RunFor = %v, want the invariant's error", err)
	}
	if w.Steps() != 100 {
		t.Fatalf("run went on to step %d after the violation at 100", w.Steps())
	}
	if w.Step() != err || w.Err() != err {
		t.Fatal("the failure is not sticky")
	}
	report := w.Report(err)
	if !strings.Contains(report, "seed 11") || strings.Count(report, "\n") < 64 {
		t.Fatalf("report lacks the seed or the 64-event tail:\n%s", report)
	}
}

func TestLivelockIsReported(t *testing.T) {
	w := newPingWorld(t, sim.DefaultConfig(1), 0)
	var loop func()
	loop = func() { w.After(0, "loop", loop) }
	w.After(time.Millisecond, "loop", loop)
	if err := w.RunFor(time.Second); err == nil || !strings.Contains(err.Error(), "livelock") {
		t.Fatalf("RunFor = %v, want a livelock error", err)
	}
}

func TestAwait(t *testing.T) {
	w := newPingWorld(t, sim.DefaultConfig(1), 0)
	if err := w.Await(time.Second, func() error {
		if w.Now() < 300*time.Millisecond {
			return errors.New("too early")
		}
		return nil
	}); err != nil {
		t.Fatalf("Await of a reachable condition: %v", err)
	}
	never := errors.New("never")
	start := w.Now()
	err := w.Await(time.Second, func() error { return never })
	if !errors.Is(err, never) || !strings.Contains(err.Error(), "liveness") {
		t.Fatalf("Await of an unreachable condition = %v", err)
	}
	if w.Now() > start+time.Second {
		t.Fatalf("Await ran past its bound: %v", w.Now()-start)
	}
}

func TestDeadIncarnationCannotTouchTheDisk(t *testing.T) {
	started := map[string]*pingNode{}
	w, err := sim.New(sim.DefaultConfig(1), pingProtocol(0, true, started))
	if err != nil {
		t.Fatal(err)
	}
	old := started["1/1"]
	w.Crash(1)
	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "after it crashed") {
			t.Fatalf("recover() = %v, want a panic about the dead incarnation", r)
		}
	}()
	old.h.Disk()
}
