package strong

import (
	"bytes"
	"testing"
)

// Members once numbered their ReadIndex contexts from 1 alone; the leader
// answered only one of two followers' requests with the same number, and
// the other read stalled until it was asked again.
func TestReadContextsAreUniqueAcrossMembers(t *testing.T) {
	seen := map[string][2]uint64{}
	for member := uint64(1); member <= 5; member++ {
		for seq := uint64(1); seq <= 100; seq++ {
			c := readContext(member, seq)
			if prev, dup := seen[string(c)]; dup {
				t.Fatalf("member %d seq %d has the context of member %d seq %d", member, seq, prev[0], prev[1])
			}
			seen[string(c)] = [2]uint64{member, seq}
		}
	}
	if bytes.Equal(readContext(1, 2), readContext(2, 1)) {
		t.Fatal("contexts ignore the member")
	}
}
