package nemesis

import (
	"fmt"
	"strings"
)

// Kind is a kind of fault.
type Kind uint8

// The fault kinds. The zero Kind is unset.
const (
	Kill Kind = iota + 1
	Pause
	Partition
	Loss
	Delay
	Member
	// Clock moves members' wall clocks (the /debug/clock offset).
	Clock
)

// AllKinds is every kind, in the order "all" expands to.
var AllKinds = []Kind{Kill, Pause, Partition, Loss, Delay, Member, Clock}

var kindNames = map[Kind]string{Kill: "kill", Pause: "pause", Partition: "partition", Loss: "loss", Delay: "delay", Member: "member", Clock: "clock"}

// String returns the kind's flag name.
func (k Kind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// network reports whether the kind acts on the network.
func (k Kind) network() bool { return k == Partition || k == Loss || k == Delay }

// ParseKinds parses a comma-separated list of kinds; "all" is every kind
// and "none" (or "") no fault at all.
func ParseKinds(s string) ([]Kind, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "none" {
		return nil, nil
	}
	var out []Kind
	seen := map[Kind]bool{}
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "all" {
			for _, k := range AllKinds {
				if !seen[k] {
					seen[k] = true
					out = append(out, k)
				}
			}
			continue
		}
		found := false
		for k, name := range kindNames {
			if name == f {
				found = true
				if !seen[k] {
					seen[k] = true
					out = append(out, k)
				}
			}
		}
		if !found {
			return nil, fmt.Errorf("unknown nemesis %q (want kill, pause, partition, loss, delay, member, all or none)", f)
		}
	}
	return out, nil
}

// FormatKinds is the inverse of ParseKinds.
func FormatKinds(ks []Kind) string {
	if len(ks) == 0 {
		return "none"
	}
	var parts []string
	for _, k := range ks {
		parts = append(parts, k.String())
	}
	return strings.Join(parts, ",")
}
