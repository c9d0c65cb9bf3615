package bench

import (
	"math/rand/v2"
	"strconv"
	"sync/atomic"
)

// keyPrefix keeps the key sets of different workloads apart, so that a
// counter never lands on a set's key (Redis would answer WRONGTYPE) and a
// watch never sees the puts of another workload.
func keyPrefix(k Kind) string {
	switch k {
	case KindIncr:
		return "c"
	case KindSAdd:
		return "s"
	case KindWatch:
		return "w"
	case KindTxn:
		return "t"
	}
	return ""
}

// keyGen makes the keys of one client: a prefix and a number in
// [0, space), zero-padded to size bytes. Sequential keys share one counter
// across clients (as etcd's benchmark numbers its requests); random keys
// come from the client's own seeded source.
type keyGen struct {
	prefix string
	size   int
	space  int64
	seq    *atomic.Int64 // nil: random keys
	rnd    *rand.Rand
}

func newKeyGen(s *Spec, client int, seq *atomic.Int64) *keyGen {
	g := &keyGen{prefix: keyPrefix(s.Kind), size: s.KeySize, space: int64(s.KeySpace), rnd: clientRand(s, client)}
	if s.Sequential {
		g.seq = seq
	}
	return g
}

// clientRand is client's own source, reproducible from Spec.Seed.
func clientRand(s *Spec, client int) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(s.Seed), uint64(client)+1))
}

// next returns the next key.
func (g *keyGen) next() string {
	var n int64
	if g.seq != nil {
		n = (g.seq.Add(1) - 1) % g.space
	} else {
		n = g.rnd.Int64N(g.space)
	}
	return formatKey(g.prefix, n, g.size)
}

// formatKey is prefix followed by n zero-padded to size bytes in all
// (Spec.Validate ensures the number fits).
func formatKey(prefix string, n int64, size int) string {
	buf := make([]byte, 0, size)
	buf = append(buf, prefix...)
	var digits [20]byte
	d := strconv.AppendInt(digits[:0], n, 10)
	for range size - len(prefix) - len(d) {
		buf = append(buf, '0')
	}
	return string(append(buf, d...))
}

// makeValue is the value every request of a workload writes: size bytes of
// printable filler (values are compared by size, not content).
func makeValue(size int) []byte {
	v := make([]byte, size)
	for i := range v {
		v[i] = 'a' + byte(i%26)
	}
	return v
}
