package cluster

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"

	"github.com/cairndb/cairn/transport"
)

// faultsNet applies Faults through every member's /debug/faults endpoint
// (the peer transport's fault hook). A cut link From->To is two rules, an
// outbound partition on From and an inbound one on To, so that it holds
// while either end is reachable; loss and delay are AllPeers rules.
type faultsNet struct {
	n int
	// target returns member i's admin address, every member's Raft ID
	// (0 if unknown) and whether member i runs and can answer.
	target func(i int) (httpAddr string, ids []uint64, up bool)
	hc     *http.Client

	mu    sync.Mutex
	want  Faults
	dirty map[int]bool // members whose rules are not in line with want
}

// Describe implements Network.
func (f *faultsNet) Describe() string { return "the /debug/faults transport hook" }

// Apply implements Network.
func (f *faultsNet) Apply(want Faults) error {
	f.mu.Lock()
	f.want = want
	f.mu.Unlock()
	var errs []error
	for i := range f.n {
		if err := f.resync(i); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// resync replaces member i's rules with those want gives it. A member
// that is down is left dirty, and a later resync (after its restart)
// catches it up.
func (f *faultsNet) resync(i int) error {
	f.mu.Lock()
	want := f.want
	f.mu.Unlock()
	addr, ids, up := f.target(i)
	if !up {
		f.setDirty(i, true)
		return nil
	}
	rules, err := rulesFor(i, want, ids)
	if err != nil {
		return err
	}
	url := "http://" + addr + "/debug/faults"
	if err := f.do(http.MethodDelete, url, nil); err != nil {
		f.setDirty(i, true)
		return fmt.Errorf("member %d: heal: %w", i, err)
	}
	for _, r := range rules {
		b, err := json.Marshal(r)
		if err != nil {
			return err
		}
		if err := f.do(http.MethodPost, url, b); err != nil {
			f.setDirty(i, true)
			return fmt.Errorf("member %d: rule %s: %w", i, b, err)
		}
	}
	f.setDirty(i, false)
	return nil
}

func (f *faultsNet) setDirty(i int, d bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if d {
		f.dirty[i] = true
	} else {
		delete(f.dirty, i)
	}
}

func (f *faultsNet) do(method, url string, body []byte) error {
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	resp, err := f.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		if resp.StatusCode == http.StatusNotFound {
			return fmt.Errorf("%s: 404 (is the member running with --enable-fault-injection?)", url)
		}
		return fmt.Errorf("%s %s: %s: %s", method, url, resp.Status, bytes.TrimSpace(msg))
	}
	return nil
}

// rulesFor returns member i's share of want as transport rules.
func rulesFor(i int, want Faults, ids []uint64) ([]transport.Rule, error) {
	byLink := map[uint64]map[transport.Direction]bool{}
	cut := func(peer int, d transport.Direction) error {
		if ids[peer] == 0 {
			return fmt.Errorf("member %d's Raft ID is not known", peer)
		}
		if byLink[ids[peer]] == nil {
			byLink[ids[peer]] = map[transport.Direction]bool{}
		}
		byLink[ids[peer]][d] = true
		return nil
	}
	for _, l := range want.Cut {
		var err error
		switch i {
		case l.From:
			err = cut(l.To, transport.Outbound)
		case l.To:
			err = cut(l.From, transport.Inbound)
		}
		if err != nil {
			return nil, err
		}
	}
	var rules []transport.Rule
	for peer, dirs := range byLink {
		for d := range dirs {
			rules = append(rules, transport.Rule{Peer: peer, Direction: d, Partition: true})
		}
	}
	loss, delay := want.Loss[i], want.Delay[i]
	if loss > 0 || delay > 0 {
		if delay > transport.MaxFaultDelay {
			delay = transport.MaxFaultDelay
		}
		rules = append(rules, transport.Rule{Peer: transport.AllPeers, Direction: transport.Both, Drop: loss, Delay: delay})
	}
	return rules, nil
}
