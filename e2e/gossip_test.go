package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Gossip timing of the membership test: a 200 ms probe period (the
// default is 1 s) and a minimum suspicion of 8 periods (1.6 s; the
// default is 4), so that a pause of one second is surely suspected and
// surely refuted before anyone's suspicion timer runs out, and a 2|3
// partition is buried and healed within seconds.
var gossipFlags = []string{"--gossip-interval", "200ms", "--gossip-suspicion-mult", "8", "--enable-fault-injection"}

const (
	// gossipWithin bounds every wait for the membership to reach a state.
	gossipWithin = 30 * time.Second
	// pauseFor is how long a member is stopped with SIGSTOP: five probe
	// periods, below the 1.6 s minimum suspicion timeout.
	pauseFor = time.Second
	// watchEvery is the polling period of /members.
	watchEvery = 20 * time.Millisecond
)

// gossipMember is one row of /members.
type gossipMember struct {
	ID          uint64  `json:"id"`
	Name        string  `json:"name"`
	Addr        string  `json:"addr"`
	State       string  `json:"state"`
	Incarnation uint64  `json:"incarnation"`
	Phi         float64 `json:"phi"`
	Self        bool    `json:"self"`
}

var gossipHTTP = &http.Client{Timeout: 2 * time.Second}

// members returns member i's gossip view, by name.
func (c *procCluster) members(i int) (map[string]gossipMember, error) {
	resp, err := gossipHTTP.Get("http://" + c.procs[i].httpAddr + "/members")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s /members: %s", c.procs[i].name, resp.Status)
	}
	var list []gossipMember
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		return nil, err
	}
	out := map[string]gossipMember{}
	for _, m := range list {
		out[m.Name] = m
	}
	return out, nil
}

// poll calls cond every watchEvery until it returns nil, and returns how
// long that took.
func (c *procCluster) poll(what string, cond func() error) time.Duration {
	c.t.Helper()
	start := time.Now()
	for {
		err := cond()
		if err == nil {
			return time.Since(start)
		}
		if time.Since(start) > gossipWithin {
			c.t.Fatalf("%s: not within %v: %v", what, gossipWithin, err)
		}
		time.Sleep(watchEvery)
	}
}

// waitGossip polls until cond holds for the view of every given member,
// and returns how long it took.
func (c *procCluster) waitGossip(what string, observers []int, cond func(obs int, view map[string]gossipMember) error) time.Duration {
	c.t.Helper()
	return c.poll(what, func() error {
		for _, i := range observers {
			view, err := c.members(i)
			if err == nil {
				err = cond(i, view)
			}
			if err != nil {
				return fmt.Errorf("%s: %w", c.procs[i].name, err)
			}
		}
		return nil
	})
}

// allAliveView: the view holds exactly the given members, all alive.
func (c *procCluster) allAliveView(idx []int) func(int, map[string]gossipMember) error {
	return func(_ int, view map[string]gossipMember) error {
		if len(view) != len(idx) {
			return fmt.Errorf("%d members listed, want %d", len(view), len(idx))
		}
		for _, i := range idx {
			if m, ok := view[c.procs[i].name]; !ok || m.State != "alive" {
				return fmt.Errorf("%s is %q", c.procs[i].name, m.State)
			}
		}
		return nil
	}
}

// stateOf: the view holds the named member in one of the states.
func stateOf(name string, states ...string) func(int, map[string]gossipMember) error {
	return func(_ int, view map[string]gossipMember) error {
		m := view[name]
		for _, s := range states {
			if m.State == s {
				return nil
			}
		}
		return fmt.Errorf("%s is %q, want %v", name, m.State, states)
	}
}

// gossipCounter reads one cairn_gossip_* series of member i's /metrics.
func (c *procCluster) gossipCounter(i int, series string) float64 {
	c.t.Helper()
	resp, err := gossipHTTP.Get("http://" + c.procs[i].httpAddr + "/metrics")
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				c.t.Fatal(err)
			}
			return f
		}
	}
	c.t.Fatalf("%s: no series %s", c.procs[i].name, series)
	return 0
}

// setFault posts a fault rule to member i's /debug/faults.
func (c *procCluster) setFault(i int, rule string) {
	c.t.Helper()
	resp, err := gossipHTTP.Post("http://"+c.procs[i].httpAddr+"/debug/faults", "application/json", bytes.NewBufferString(rule))
	if err != nil {
		c.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		c.t.Fatalf("%s: POST /debug/faults %s: %s", c.procs[i].name, rule, resp.Status)
	}
}

// healFaults removes every fault rule of member i.
func (c *procCluster) healFaults(i int) {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodDelete, "http://"+c.procs[i].httpAddr+"/debug/faults", nil)
	resp, err := gossipHTTP.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	resp.Body.Close()
}

func without(idx []int, drop int) []int {
	var out []int
	for _, i := range idx {
		if i != drop {
			out = append(out, i)
		}
	}
	return out
}

// TestGossipMembership runs SWIM on five real `cairn server` processes on
// loopback, UDP on each peer port number, and checks what /members shows:
// (a) everyone sees five alive; (b) a member killed with SIGKILL is
// declared dead by all the others, and restarted it comes back alive at a
// higher incarnation (read from its data dir); (c) a member stopped with
// SIGSTOP for less than the suspicion timeout is suspected, and after
// SIGCONT refutes (alive, higher incarnation) without anyone ever marking
// it dead, watched continuously on /members and on the dead-event
// counters; (d) a 2|3 partition set on /debug/faults makes each side bury
// the other, and after the heal all five are alive again.
func TestGossipMembership(t *testing.T) {
	if !cairnOnly(t, "gossip membership") {
		t.Skip("etcd has no gossip")
	}
	if testing.Short() {
		t.Skip("kill -9 and SIGSTOP test")
	}
	c := startCluster(t, 5, gossipFlags...)
	all := c.all()

	// (a) Everyone sees everyone alive.
	took := c.waitGossip("five alive", all, c.allAliveView(all))
	t.Logf("(a) all 5 see 5 alive %v after the cluster was ready", took.Round(time.Millisecond))
	ids := map[string]uint64{}
	view, err := c.members(0)
	if err != nil {
		t.Fatal(err)
	}
	for name, m := range view {
		ids[name] = m.ID
	}

	// (b) kill -9: the others declare the victim dead; restarted, it is
	// alive again above its old incarnation.
	victim := 4
	vname := c.procs[victim].name
	incBefore := view[vname].Incarnation
	others := without(all, victim)
	killedAt := time.Now()
	c.procs[victim].kill()
	firstSuspect := c.poll("victim suspected somewhere", func() error {
		for _, i := range others {
			v, err := c.members(i)
			if err == nil && (v[vname].State == "suspect" || v[vname].State == "dead") {
				return nil
			}
		}
		return fmt.Errorf("nobody suspects %s yet", vname)
	})
	c.waitGossip("victim dead everywhere", others, stateOf(vname, "dead"))
	allDead := time.Since(killedAt)
	t.Logf("(b) kill -9 of %s: first suspicion after %v, dead at all 4 others after %v (probe period 200ms, min suspicion 1.6s)",
		vname, firstSuspect.Round(time.Millisecond), allDead.Round(time.Millisecond))
	c.procs[victim].start()
	c.waitReady(victim)
	took = c.waitGossip("five alive after restart", all, c.allAliveView(all))
	view, _ = c.members(0)
	if inc := view[vname].Incarnation; inc <= incBefore {
		t.Fatalf("restarted %s is at incarnation %d, was %d before the kill", vname, inc, incBefore)
	}
	t.Logf("(b) restarted %s alive everywhere %v after it was ready, incarnation %d -> %d", vname, took.Round(time.Millisecond), incBefore, view[vname].Incarnation)

	// (c) SIGSTOP for less than the suspicion timeout: suspected, never
	// dead, refuted after SIGCONT.
	c.pauseAndRefute(3, all)

	// (d) Partition 2|3 through /debug/faults, then heal.
	left, right := []int{0, 1}, []int{2, 3, 4}
	rule := func(peer string) string {
		return fmt.Sprintf(`{"peer":%d,"direction":"both","partition":true}`, ids[peer])
	}
	cutAt := time.Now()
	for _, i := range left {
		for _, j := range right {
			c.setFault(i, rule(c.procs[j].name))
			c.setFault(j, rule(c.procs[i].name))
		}
	}
	buried := func(side, other []int) func(int, map[string]gossipMember) error {
		return func(_ int, v map[string]gossipMember) error {
			for _, j := range other {
				if m := v[c.procs[j].name]; m.State != "dead" {
					return fmt.Errorf("%s is %q", c.procs[j].name, m.State)
				}
			}
			for _, j := range side {
				if m := v[c.procs[j].name]; m.State != "alive" {
					return fmt.Errorf("%s (same side) is %q", c.procs[j].name, m.State)
				}
			}
			return nil
		}
	}
	c.waitGossip("the 3 bury the 2", right, buried(right, left))
	c.waitGossip("the 2 bury the 3", left, buried(left, right))
	t.Logf("(d) partition 2|3: each side holds the other dead %v after the cut", time.Since(cutAt).Round(time.Millisecond))
	for _, i := range all {
		c.healFaults(i)
	}
	took = c.waitGossip("five alive after the heal", all, c.allAliveView(all))
	t.Logf("(d) healed: all 5 see 5 alive %v after the heal", took.Round(time.Millisecond))
}

// pauseAndRefute stops member p with SIGSTOP for pauseFor while the
// others' /members are watched every watchEvery, then resumes it and
// waits until every other member holds it alive at a higher incarnation.
func (c *procCluster) pauseAndRefute(p int, all []int) {
	t := c.t
	t.Helper()
	name := c.procs[p].name
	observers := without(all, p)
	view, err := c.members(observers[0])
	if err != nil {
		t.Fatal(err)
	}
	incBefore := view[name].Incarnation
	deadBefore := map[int]float64{}
	for _, i := range observers {
		deadBefore[i] = c.gossipCounter(i, `cairn_gossip_events_total{kind="dead"}`)
	}

	type sighting struct {
		at    time.Duration
		by    string
		state string
		inc   uint64
	}
	var (
		mu        sync.Mutex
		sightings []sighting // every change of an observer's view of p
		stopWatch = make(chan struct{})
		watched   sync.WaitGroup
	)
	start := time.Now()
	watched.Add(1)
	go func() {
		defer watched.Done()
		last := map[int]string{}
		for {
			for _, i := range observers {
				v, err := c.members(i)
				if err != nil {
					continue
				}
				m := v[name]
				key := fmt.Sprintf("%s@%d", m.State, m.Incarnation)
				if last[i] != key {
					last[i] = key
					mu.Lock()
					sightings = append(sightings, sighting{time.Since(start), c.procs[i].name, m.State, m.Incarnation})
					mu.Unlock()
				}
			}
			select {
			case <-stopWatch:
				return
			case <-time.After(watchEvery):
			}
		}
	}()

	proc := c.procs[p].cmd.Process
	if err := proc.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	stoppedAt := time.Since(start)
	resumed := false
	resume := func() {
		if !resumed {
			resumed = true
			_ = proc.Signal(syscall.SIGCONT)
		}
	}
	defer resume() // a failure must not leave a stopped process behind
	time.Sleep(pauseFor)
	resume()
	contAt := time.Since(start)
	c.waitGossip("refuted: alive at a higher incarnation everywhere", observers, func(_ int, v map[string]gossipMember) error {
		if m := v[name]; m.State != "alive" || m.Incarnation <= incBefore {
			return fmt.Errorf("%s is %s@%d, was alive@%d", name, m.State, m.Incarnation, incBefore)
		}
		return nil
	})
	refutedAt := time.Since(start)
	time.Sleep(5 * watchEvery) // a last look
	close(stopWatch)
	watched.Wait()

	var firstSuspect time.Duration = -1
	var timeline []string
	for _, s := range sightings {
		timeline = append(timeline, fmt.Sprintf("%v %s:%s@%d", s.at.Round(time.Millisecond), s.by, s.state, s.inc))
		switch s.state {
		case "suspect":
			if firstSuspect < 0 {
				firstSuspect = s.at
			}
		case "dead", "left":
			t.Errorf("%s saw %s %s at %v during a %v pause", s.by, name, s.state, s.at, pauseFor)
		}
	}
	for _, i := range observers {
		if after := c.gossipCounter(i, `cairn_gossip_events_total{kind="dead"}`); after != deadBefore[i] {
			t.Errorf("%s recorded %v dead events during the pause", c.procs[i].name, after-deadBefore[i])
		}
	}
	if firstSuspect < 0 {
		t.Fatalf("nobody suspected %s during a %v pause; timeline: %s", name, pauseFor, strings.Join(timeline, ", "))
	}
	view, _ = c.members(observers[0])
	t.Logf("(c) SIGSTOP %s at %v, first suspicion seen at %v, SIGCONT at %v, alive@%d (was @%d) everywhere at %v",
		name, stoppedAt.Round(time.Millisecond), firstSuspect.Round(time.Millisecond), contAt.Round(time.Millisecond),
		view[name].Incarnation, incBefore, refutedAt.Round(time.Millisecond))
	t.Logf("(c) timeline of the others' views of %s: %s", name, strings.Join(timeline, ", "))
}
