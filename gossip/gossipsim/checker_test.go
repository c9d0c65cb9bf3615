package gossipsim

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/cairndb/cairn/gossip"
)

func checkerFor(t *testing.T) *Checker {
	cfg := gossip.DefaultConfig()
	cfg.ID, cfg.Rand = 1, rand.New(rand.NewPCG(1, 1))
	return NewChecker(cfg)
}

func ev(kind gossip.EventKind, id gossip.NodeID, s gossip.State, inc uint64, prev gossip.State, prevInc uint64) gossip.Event {
	return gossip.Event{Kind: kind, Member: gossip.Member{ID: id, State: s, Incarnation: inc}, PrevState: prev, PrevIncarnation: prevInc}
}

// Each check of the Checker fails on the history it forbids.
func TestCheckerCatches(t *testing.T) {
	for name, tc := range map[string]struct {
		rds  []gossip.Ready
		want string
	}{
		"view goes back":        {rds: []gossip.Ready{{Incarnation: 1, Events: []gossip.Event{ev(gossip.EventAlive, 2, gossip.StateAlive, 3, gossip.StateSuspect, 3)}}}, want: "went back"},
		"lower incarnation":     {rds: []gossip.Ready{{Incarnation: 1, Events: []gossip.Event{ev(gossip.EventUpdate, 2, gossip.StateAlive, 2, gossip.StateAlive, 3)}}}, want: "went back"},
		"self dead":             {rds: []gossip.Ready{{Incarnation: 1, Events: []gossip.Event{ev(gossip.EventDead, 1, gossip.StateDead, 1, gossip.StateAlive, 1)}}}, want: "believes itself"},
		"own incarnation falls": {rds: []gossip.Ready{{Incarnation: 5}, {Incarnation: 4}}, want: "only rise"},
		"unpersisted":           {rds: []gossip.Ready{{Incarnation: 1, Events: []gossip.Event{ev(gossip.EventUpdate, 1, gossip.StateAlive, 2, gossip.StateAlive, 1)}}}, want: "before persisting"},
		"wrong kind":            {rds: []gossip.Ready{{Incarnation: 1, Events: []gossip.Event{ev(gossip.EventJoin, 2, gossip.StateDead, 3, gossip.StateAlive, 3)}}}, want: "want dead"},
		"oversized": {rds: []gossip.Ready{{Incarnation: 1, Messages: []gossip.Outbound{{Msg: gossip.Message{Kind: gossip.MsgGossip, From: 1, To: 2,
			Updates: []gossip.Update{{Member: 3, Incarnation: 1, State: gossip.StateAlive, Meta: strings.Repeat("x", 1500)}}}}}}}, want: "limits"},
	} {
		c := checkerFor(t)
		for i := range tc.rds {
			c.Observe(1, &tc.rds[i])
		}
		if err := c.Err(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error with %q", name, err, tc.want)
		}
	}
	c := checkerFor(t)
	c.Observe(1, &gossip.Ready{Incarnation: 1, Events: []gossip.Event{
		ev(gossip.EventJoin, 2, gossip.StateAlive, 1, 0, 0),
		ev(gossip.EventSuspect, 2, gossip.StateSuspect, 1, gossip.StateAlive, 1),
		ev(gossip.EventDead, 2, gossip.StateDead, 1, gossip.StateSuspect, 1),
		ev(gossip.EventJoin, 2, gossip.StateAlive, 2, gossip.StateDead, 1),
		ev(gossip.EventLeave, 2, gossip.StateLeft, 2, gossip.StateAlive, 2),
	}})
	if err := c.Err(); err != nil {
		t.Fatalf("a legal history was refused: %v", err)
	}
}
