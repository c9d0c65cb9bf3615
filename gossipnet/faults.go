package gossipnet

import (
	"math/rand/v2"
	"sync"
	"time"

	"github.com/cairndb/cairn/gossip"
	"github.com/cairndb/cairn/transport"
)

// faultFilter applies a transport.Faults to gossip traffic: the same
// rules, keyed by the same node ids (a gossip id is the transport's node
// id), so a partition set on /debug/faults cuts Raft and gossip alike.
//
// The rules are read through Faults.Rules, the only exported view: one
// small allocation per datagram while fault injection is on, none when it
// is off (a nil filter). Drop decisions use the driver's own generator,
// not the transport's per-link ones, so they are random but not
// replayable from the Faults seed.
type faultFilter struct {
	f  *transport.Faults
	mu sync.Mutex
	r  *rand.Rand
}

func newFaultFilter(f *transport.Faults) *faultFilter {
	return &faultFilter{f: f, r: rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))}
}

// verdict reports whether a message to or from peer (dir Outbound or
// Inbound) is dropped, or else how long it is held back. A peer's own rule
// wins over an AllPeers rule, as in the transport. A nil filter passes
// everything.
func (ff *faultFilter) verdict(peer gossip.NodeID, dir transport.Direction) (drop bool, delay time.Duration) {
	if ff == nil {
		return false, 0
	}
	var own, all *transport.Rule
	rules := ff.f.Rules()
	for i := range rules {
		r := &rules[i]
		if r.Direction != dir {
			continue
		}
		switch r.Peer {
		case uint64(peer):
			own = r
		case transport.AllPeers:
			all = r
		}
	}
	r := own
	if r == nil {
		r = all
	}
	switch {
	case r == nil:
		return false, 0
	case r.Partition || r.Drop >= 1:
		return true, 0
	case r.Drop > 0:
		ff.mu.Lock()
		x := ff.r.Float64()
		ff.mu.Unlock()
		if x < r.Drop {
			return true, 0
		}
	}
	return false, r.Delay
}
