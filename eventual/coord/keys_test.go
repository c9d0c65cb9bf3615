package coord

import (
	"fmt"
	"strings"
	"testing"
)

// TestScanListsEveryKeyOnce: a scan through any node, page by page, lists
// every live key of a 5-node ring (N=3) exactly once, honours the pattern
// and leaves out deleted keys.
func TestScanListsEveryKeyOnce(t *testing.T) {
	tc := newTestCluster(t, 5, 3)
	ctx := tctx(t)
	for i := range 300 {
		if _, err := tc.nodes[i%5].co.Write(ctx, []byte(fmt.Sprintf("user:%d", i)), Op{Code: OpSet, Value: []byte("v")}, LevelAll); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 20 {
		if _, err := tc.nodes[0].co.Write(ctx, []byte(fmt.Sprintf("tmp:%d", i)), Op{Code: OpSet, Value: []byte("v")}, LevelAll); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := tc.nodes[1].co.Write(ctx, []byte("user:7"), Op{Code: OpDel}, LevelAll); err != nil {
		t.Fatal(err)
	}
	scan := func(node int, pattern string, count int) map[string]int {
		seen := map[string]int{}
		cursor, calls := uint64(0), 0
		for {
			keys, next, err := tc.nodes[node].co.ScanKeys(ctx, cursor, pattern, count)
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range keys {
				seen[string(k)]++
			}
			calls++
			if next == 0 {
				return seen
			}
			if calls > 10000 {
				t.Fatal("the scan does not end")
			}
			cursor = next
		}
	}
	all := scan(3, "", 37)
	if len(all) != 319 {
		t.Fatalf("scan listed %d distinct keys, want 319", len(all))
	}
	for k, n := range all {
		if n != 1 || k == "user:7" {
			t.Fatalf("key %q listed %d times", k, n)
		}
	}
	tmp := scan(0, "tmp:*", 1000)
	if len(tmp) != 20 {
		t.Fatalf("pattern tmp:* listed %d keys", len(tmp))
	}
	for k := range tmp {
		if !strings.HasPrefix(k, "tmp:") {
			t.Fatalf("pattern listed %q", k)
		}
	}
}
