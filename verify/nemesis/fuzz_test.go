package nemesis

import (
	"strings"
	"testing"
)

// FuzzParseKinds: any input parses or is refused with an error, and what
// parses formats back to a list that parses to the same kinds.
func FuzzParseKinds(f *testing.F) {
	for _, s := range []string{"", "none", "all", "kill,pause", " partition , loss", "kill,,kill", "flood", "all,kill"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ks, err := ParseKinds(s)
		if err != nil {
			if ks != nil {
				t.Fatalf("%q: kinds %v with error %v", s, ks, err)
			}
			return
		}
		again, err := ParseKinds(FormatKinds(ks))
		if err != nil || FormatKinds(again) != FormatKinds(ks) {
			t.Fatalf("%q: %v formats to %q, which parses to %v (%v)", s, ks, FormatKinds(ks), again, err)
		}
		seen := map[Kind]bool{}
		for _, k := range ks {
			if seen[k] || !strings.Contains(",kill,pause,partition,loss,delay,member,clock,", ","+k.String()+",") {
				t.Fatalf("%q: bad or repeated kind %v in %v", s, k, ks)
			}
			seen[k] = true
		}
	})
}
