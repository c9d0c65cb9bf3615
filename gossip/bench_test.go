package gossip

import (
	"fmt"
	"testing"
)

func fullDatagram() Message {
	m := Message{Kind: MsgPing, From: 1, To: 2, Seq: 12345}
	for i := 0; i < DefaultConfig().MaxUpdatesPerMessage; i++ {
		m.Updates = append(m.Updates, Update{Member: NodeID(1000 + i), Incarnation: 7, State: StateAlive, Addr: "10.0.0.1:2380"})
	}
	return m
}

// BenchmarkCodec encodes and decodes a datagram with the most updates.
func BenchmarkCodec(b *testing.B) {
	m := fullDatagram()
	lim := testLimits()
	buf := make([]byte, 0, EncodedSize(&m))
	b.SetBytes(int64(EncodedSize(&m)))
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendEncode(buf[:0], &m)
		if _, err := Decode(buf, lim); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStepPing steps a ping carrying the most updates into nodes
// that know 10, 100 and 1,000 members, and takes the ack.
func BenchmarkStepPing(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("members=%d", n), func(b *testing.B) {
			node, _ := New(testConfig(2, 1))
			var table []Update
			for id := 1; id <= n; id++ {
				table = append(table, Update{Member: NodeID(id), Incarnation: 1, State: StateAlive})
			}
			if err := node.Step(1, Message{Kind: MsgPushPullReply, From: 1, To: 2, Updates: table}); err != nil {
				b.Fatal(err)
			}
			node.Ready()
			m := fullDatagram()
			b.ReportAllocs()
			for b.Loop() {
				if err := node.Step(1, m); err != nil {
					b.Fatal(err)
				}
				node.Ready()
			}
		})
	}
}
