package e2e

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

const (
	// putTimeout bounds one put of the write load; a put forwarded to a
	// leader that just died waits this long before the writer moves on.
	putTimeout = 3 * time.Second
	// writerBackoff is the pause after a failed put, so that writers do
	// not spin while the cluster has no leader.
	writerBackoff = 20 * time.Millisecond
	// missingShown bounds the examples a failed check prints.
	missingShown = 5
	// failureKindsKept bounds the distinct put errors a load counts.
	failureKindsKept = 8
)

// writeLoad is a set of writers, each with its own clientv3 client over
// every endpoint, that put unique keys and record each put that was
// acknowledged (returned no error). A put that failed may or may not
// have been applied; only acknowledged ones are owed.
type writeLoad struct {
	prefix string
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu struct {
		sync.Mutex
		acked map[string]string
		// failures counts failed puts by error message, for the log.
		failures map[string]int
	}
}

// startWriteLoad starts writers putting keys "<prefix><writer>/<seq>".
func startWriteLoad(t *testing.T, endpoints []string, writers int, prefix string) *writeLoad {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	l := &writeLoad{prefix: prefix, cancel: cancel}
	l.mu.acked = map[string]string{}
	l.mu.failures = map[string]int{}
	for w := range writers {
		cli := newClient(t, endpoints)
		l.wg.Add(1)
		go l.write(ctx, cli, w)
	}
	t.Cleanup(l.stop)
	return l
}

func (l *writeLoad) write(ctx context.Context, cli *clientv3.Client, writer int) {
	defer l.wg.Done()
	for seq := 0; ctx.Err() == nil; seq++ {
		// Keys are never reused, so a put that failed cannot be confused
		// with an acknowledged one; the value is unique too, so a stale
		// value is told apart from the acknowledged one.
		key := fmt.Sprintf("%s%d/%06d", l.prefix, writer, seq)
		val := fmt.Sprintf("v%d", time.Now().UnixNano())
		pctx, cancel := context.WithTimeout(ctx, putTimeout)
		_, err := cli.Put(pctx, key, val)
		cancel()
		l.mu.Lock()
		if err == nil {
			l.mu.acked[key] = val
		} else if len(l.mu.failures) < failureKindsKept || l.mu.failures[err.Error()] > 0 {
			l.mu.failures[err.Error()]++
		} else {
			l.mu.failures["other errors"]++
		}
		l.mu.Unlock()
		if err != nil {
			select {
			case <-ctx.Done():
			case <-time.After(writerBackoff):
			}
		}
	}
}

// stop ends the writers and waits for them; it may be called again.
func (l *writeLoad) stop() {
	l.cancel()
	l.wg.Wait()
}

func (l *writeLoad) acks() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.mu.acked)
}

// acknowledged returns a copy of the acknowledged puts.
func (l *writeLoad) acknowledged() map[string]string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[string]string, len(l.mu.acked))
	for k, v := range l.mu.acked {
		out[k] = v
	}
	return out
}

func (l *writeLoad) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return fmt.Sprintf("%d acknowledged, failed: %v", len(l.mu.acked), l.mu.failures)
}

// waitAcks waits until at least n puts are acknowledged and returns how
// long that took.
func (l *writeLoad) waitAcks(t *testing.T, n int, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for l.acks() < n {
		if time.Since(start) > within {
			t.Fatalf("fewer than %d acknowledged puts after %v: %v", n, within, l)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return time.Since(start)
}

// checkAcknowledged reads prefix linearizably through every running
// member and reports each acknowledged put that is missing or holds
// another value there.
func (c *procCluster) checkAcknowledged(prefix string, acked map[string]string) {
	c.t.Helper()
	for _, i := range c.running() {
		got := c.readPrefix(i, prefix)
		var missing, wrong []string
		for k, v := range acked {
			switch g, ok := got[k]; {
			case !ok:
				missing = append(missing, k)
			case g != v:
				wrong = append(wrong, fmt.Sprintf("%s=%q (acknowledged %q)", k, g, v))
			}
		}
		if len(missing)+len(wrong) > 0 {
			sort.Strings(missing)
			sort.Strings(wrong)
			c.t.Errorf("%s lost acknowledged writes: %d of %d missing (e.g. %v), %d with another value (e.g. %v)",
				c.procs[i].name, len(missing), len(acked), head(missing), len(wrong), head(wrong))
		}
	}
}

// readPrefix reads every key under prefix through member i with a
// linearizable range, retrying while the member is not ready to serve.
func (c *procCluster) readPrefix(i int, prefix string) map[string]string {
	c.t.Helper()
	deadline := time.Now().Add(clusterUpWithin)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		resp, err := c.memberClient(i).Get(ctx, prefix, clientv3.WithPrefix())
		cancel()
		if err == nil {
			out := make(map[string]string, len(resp.Kvs))
			for _, kv := range resp.Kvs {
				out[string(kv.Key)] = string(kv.Value)
			}
			return out
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("read %q through %s: %v", prefix, c.procs[i].name, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// checkHashKVAgree waits until every running member is at the same
// revision (no writes may run) and compares their HashKV at it.
func (c *procCluster) checkHashKVAgree() {
	c.t.Helper()
	deadline := time.Now().Add(clusterUpWithin)
	var revs map[string]int64
	for {
		revs = map[string]int64{}
		var rev int64
		same := true
		for _, i := range c.running() {
			st, err := c.status(i)
			if err != nil {
				same = false
				break
			}
			revs[c.procs[i].name] = st.Header.Revision
			if rev != 0 && st.Header.Revision != rev {
				same = false
			}
			rev = st.Header.Revision
		}
		if same {
			c.compareHashKV(rev)
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("members did not reach the same revision within %v: %v", clusterUpWithin, revs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (c *procCluster) compareHashKV(rev int64) {
	c.t.Helper()
	hashes := map[string]uint32{}
	var first uint32
	agree := true
	for n, i := range c.running() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		resp, err := c.memberClient(i).HashKV(ctx, c.procs[i].endpoint(), rev)
		cancel()
		if err != nil {
			c.t.Fatalf("HashKV at %d on %s: %v", rev, c.procs[i].name, err)
		}
		if resp.HashRevision != rev {
			c.t.Errorf("HashKV on %s hashed revision %d, asked %d", c.procs[i].name, resp.HashRevision, rev)
		}
		hashes[c.procs[i].name] = resp.Hash
		if n == 0 {
			first = resp.Hash
		} else if resp.Hash != first {
			agree = false
		}
	}
	if !agree {
		c.t.Errorf("HashKV at revision %d differs between members: %v", rev, hashes)
	}
}

func head(s []string) []string {
	if len(s) > missingShown {
		return s[:missingShown]
	}
	return s
}
