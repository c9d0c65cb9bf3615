package partition_test

import (
	"fmt"

	"github.com/cairndb/cairn/partition"
)

func Example() {
	tb, err := partition.New(partition.DefaultConfig(), nil)
	if err != nil {
		panic(err)
	}
	fmt.Println(tb.Lookup([]byte("apple")))

	left, right, err := tb.Split([]byte("m"))
	if err != nil {
		panic(err)
	}
	fmt.Println(left, right)
	fmt.Println(tb.Lookup([]byte("apple")), tb.Lookup([]byte("melon")))

	if _, _, err := tb.Split([]byte("m")); err != nil {
		fmt.Println(err)
	}

	merged, err := tb.Merge(left.ID(), right.ID())
	if err != nil {
		panic(err)
	}
	fmt.Println(merged, tb.Len())
	// Output:
	// r1["", +inf)
	// r2["", "m") r3["m", +inf)
	// r2["", "m") r3["m", +inf)
	// partition: split key is a range boundary: "m" starts r3["m", +inf)
	// r4["", +inf) 1
}

// A range with most of its traffic on a few keys is split where the load,
// not the keyspace, divides in two.
func ExampleTable_SuggestSplits() {
	cfg := partition.DefaultConfig()
	cfg.HotOpsPerTick = 1000
	tb, err := partition.New(cfg, nil)
	if err != nil {
		panic(err)
	}
	for range 10 { // ten ticks of 4000 operations
		for i := range 4000 {
			key := fmt.Appendf(nil, "user/%04d", i%100) // users 0000-0099 take 3/4 of the load
			if i%4 == 3 {
				key = fmt.Appendf(nil, "user/%04d", i) // and the rest spreads over 0003-3999
			}
			tb.Lookup(key).Record(partition.OpRead, key, 64)
		}
		tb.Tick()
	}
	for _, s := range tb.SuggestSplits(1) {
		fmt.Printf("split %v at %q: %.2f of the load stays left\n", s.Range, s.Key, s.LeftShare)
	}
	// Output:
	// split r1["", +inf) at "user/0066": 0.50 of the load stays left
}
