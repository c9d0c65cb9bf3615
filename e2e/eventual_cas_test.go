package e2e

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/redis/go-redis/v9"
)

// The register model for compare-and-set histories taken through RESP.
// A client does not always learn an operation's outcome (a timeout, a
// connection cut by a fault), so the model's state is the set of values
// the register may hold: an unknown operation forks it.

type casInput struct {
	op       string // "setnx", "setxx", "cas", "get"
	key      string
	value    string // setnx, setxx, cas: what is written
	expected string // cas
}

type casOutput struct {
	unknown bool
	// prev is what SET NX|XX ... GET and GET returned; present says it
	// was not nil.
	prev    string
	present bool
	applied bool // cas
}

// regState is one possible register value ("" absent, else "=value").
type regState = string

func casStep(in casInput, s regState) (out casOutput, next regState) {
	present, val := s != "", strings.TrimPrefix(s, "=")
	out = casOutput{prev: val, present: present}
	switch in.op {
	case "setnx":
		if !present {
			next = "=" + in.value
		} else {
			next = s
		}
	case "setxx":
		if present {
			next = "=" + in.value
		} else {
			next = s
		}
	case "cas":
		out = casOutput{applied: present && val == in.expected}
		next = s
		if out.applied {
			next = "=" + in.value
		}
	default: // get
		next = s
	}
	if !out.present {
		out.prev = ""
	}
	return out, next
}

var casModel = porcupine.Model{
	Partition: func(h []porcupine.Operation) [][]porcupine.Operation {
		byKey := map[string][]porcupine.Operation{}
		var keys []string
		for _, op := range h {
			k := op.Input.(casInput).key
			if _, ok := byKey[k]; !ok {
				keys = append(keys, k)
			}
			byKey[k] = append(byKey[k], op)
		}
		out := make([][]porcupine.Operation, 0, len(keys))
		for _, k := range keys {
			out = append(out, byKey[k])
		}
		return out
	},
	Init: func() any { return []regState{""} },
	Step: func(state, input, output any) (bool, any) {
		in, want := input.(casInput), output.(casOutput)
		var next []regState
		for _, s := range state.([]regState) {
			got, n := casStep(in, s)
			switch {
			case want.unknown:
				next = append(next, s, n) // it may or may not have happened
			case got == want:
				next = append(next, n)
			}
		}
		slices.Sort(next)
		next = slices.Compact(next)
		return len(next) > 0, next
	},
	Equal: func(a, b any) bool { return slices.Equal(a.([]regState), b.([]regState)) },
	DescribeOperation: func(input, output any) string {
		in, out := input.(casInput), output.(casOutput)
		return fmt.Sprintf("%s(%s %q %q) -> %+v", in.op, in.key, in.expected, in.value, out)
	},
}

// TestSetNXIsLinearizableUnderFaults: clients on every node of a 3-node
// cluster run SET NX/XX ... GET, CAIRN.CAS and CAIRN.LGET on a few keys while
// one node is cut off by the fault hook and another is killed and
// restarted; Porcupine must find the whole history linearizable.
func TestSetNXIsLinearizableUnderFaults(t *testing.T) {
	if !cairnOnly(t, "the eventual tier") {
		t.Skip("etcd has no Redis protocol")
	}
	c := startCluster(t, 3, append([]string{"--enable-fault-injection"}, fastGossipFlags...)...)
	const runFor = 15 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), runFor)
	defer cancel()
	var (
		mu      sync.Mutex
		history []porcupine.Operation
		counts  = map[string]int{}
	)
	start := time.Now()
	var wg sync.WaitGroup
	for client := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			node := c.procs[client%3]
			cli := redis.NewClient(&redis.Options{Addr: node.redisAddr, MaxRetries: -1, DialTimeout: time.Second,
				ReadTimeout: 3 * time.Second, WriteTimeout: 3 * time.Second})
			defer cli.Close()
			rng := rand.New(rand.NewPCG(uint64(client), 7))
			last := map[string]string{}
			for seq := 0; ctx.Err() == nil; seq++ {
				in := casInput{key: fmt.Sprint("k", rng.IntN(3)), value: fmt.Sprintf("c%d-%d", client, seq)}
				var out casOutput
				call := time.Since(start)
				var err error
				switch rng.IntN(4) {
				case 0, 1:
					in.op = "setnx"
					if rng.IntN(2) == 1 {
						in.op = "setxx"
					}
					mode := "NX"
					if in.op == "setxx" {
						mode = "XX"
					}
					var v string
					v, err = cli.Do(context.Background(), "SET", in.key, in.value, mode, "GET").Text()
					if errors.Is(err, redis.Nil) {
						err = nil
					} else if err == nil {
						out.prev, out.present = v, true
					}
				case 2:
					in.op, in.expected = "cas", last[in.key]
					var n int64
					n, err = cli.Do(context.Background(), "CAIRN.CAS", in.key, in.expected, in.value).Int64()
					out.applied = n == 1
				default:
					in.op = "get"
					var v string
					v, err = cli.Do(context.Background(), "CAIRN.LGET", in.key).Text()
					if errors.Is(err, redis.Nil) {
						err = nil
					} else if err == nil {
						out.prev, out.present = v, true
						last[in.key] = v
					}
				}
				ret := time.Since(start)
				if err != nil {
					// The outcome is unknown: the operation may take effect
					// at any time after its call.
					out = casOutput{unknown: true}
					ret = time.Duration(1 << 62)
					mu.Lock()
					counts["unknown"]++
					mu.Unlock()
					time.Sleep(50 * time.Millisecond)
				} else {
					mu.Lock()
					counts[in.op]++
					mu.Unlock()
				}
				mu.Lock()
				history = append(history, porcupine.Operation{ClientId: client*100000 + seq, Input: in, Call: int64(call), Output: out, Return: int64(ret)})
				mu.Unlock()
			}
		}()
	}
	// The nemesis: cut node 3 off, heal; kill node 2, restart it.
	time.Sleep(3 * time.Second)
	c.setFault(2, `{"peer":0,"direction":"both","partition":true}`)
	time.Sleep(4 * time.Second)
	c.healFaults(2)
	time.Sleep(time.Second)
	c.procs[1].kill()
	time.Sleep(3 * time.Second)
	c.procs[1].start()
	wg.Wait()
	c.waitReady(1)
	t.Logf("operations: %v", counts)
	if counts["setnx"]+counts["setxx"]+counts["cas"]+counts["get"] < 100 {
		t.Fatalf("too few completed operations to judge: %v", counts)
	}
	res, info := porcupine.CheckOperationsVerbose(casModel, history, time.Minute)
	if res != porcupine.Ok {
		path := t.TempDir() + "/cas.html"
		if err := porcupine.VisualizePath(casModel, info, path); err == nil {
			t.Logf("visualization: %s", path)
		}
		t.Fatalf("the compare-and-set history is not linearizable (%v)", res)
	}
}
