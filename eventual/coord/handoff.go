package coord

import (
	"context"
	"fmt"
	"time"
)

// timeNow is time.Now; a variable so that hint-age tests need no sleeps.
var timeNow = time.Now

// handoffBatch is how many hints are replayed to one target per round.
const handoffBatch = 256

// handoffLoop offers the hints this node holds to their targets once they
// are alive again, oldest first.
func (c *Coordinator) handoffLoop() {
	defer c.wg.Done()
	t := time.NewTicker(c.cfg.HintReplayInterval)
	defer t.Stop()
	for {
		select {
		case <-c.closed:
			return
		case <-t.C:
		}
		for _, target := range c.cfg.Store.HintTargets() {
			if c.cfg.Membership.Alive(target) {
				c.replay(target)
			}
		}
	}
}

// replay sends target its hints until one fails or none remain.
func (c *Coordinator) replay(target uint64) {
	hints, err := c.cfg.Store.Hints(target, handoffBatch)
	if err != nil {
		c.log.Warn("reading hints failed", "target", fmt.Sprintf("%x", target), "err", err)
		return
	}
	replayed := 0
	for _, h := range hints {
		if timeNow().Sub(h.Created) > c.cfg.MaxHintAge {
			_ = c.cfg.Store.DeleteHint(target, h.Seq, "expired")
			c.m.hints.WithLabelValues("expired").Inc()
			continue
		}
		ans := c.wait(context.Background(), c.start(target, message{typ: msgApply, key: h.Key, obj: h.Delta.AppendBinary(nil)}))
		if ans.typ != msgApplyResp || ans.err != "" {
			c.m.hints.WithLabelValues("replay_failed").Inc()
			return
		}
		_ = c.cfg.Store.DeleteHint(target, h.Seq, "replayed")
		c.m.hints.WithLabelValues("replayed").Inc()
		replayed++
		select {
		case <-c.closed:
			return
		default:
		}
	}
	if replayed > 0 {
		c.log.Info("hinted handoff", "target", fmt.Sprintf("%x", target), "replayed", replayed)
	}
}
