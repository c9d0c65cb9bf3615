package gossipnet

import (
	"reflect"
	"testing"

	"github.com/cairndb/cairn/gossip"
)

func fuzzSeeds(f *testing.F) {
	f.Add(gossip.Encode(&gossip.Message{Kind: gossip.MsgPing, From: 2, To: 1, Seq: 9}))
	f.Add(gossip.Encode(&gossip.Message{Kind: gossip.MsgPingReq, From: 2, To: 1, Seq: 9, Target: 3}))
	f.Add(gossip.Encode(ptr(table(2, 1, gossip.MsgGossip, 3))))
	f.Add(gossip.Encode(ptr(table(2, 1, gossip.MsgPushPull, 8))))
	f.Add(gossip.Encode(ptr(table(2, 1, gossip.MsgPushPullReply, 2))))
	f.Add([]byte{})
	f.Add([]byte{1, 6, 0, 2, 1, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f})
}

// FuzzDecodeDatagram: any bytes either decode into a datagram within the
// limits that survives a re-encoding unchanged, or are refused; never a
// panic, never a push-pull.
func FuzzDecodeDatagram(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeDatagram(b, testLimits, 1400)
		if err != nil {
			return
		}
		if m.Kind.Stream() || len(b) > 1400 || len(m.Updates) > testLimits.MaxDatagramUpdates {
			t.Fatalf("accepted %v with %d updates from %d bytes", m.Kind, len(m.Updates), len(b))
		}
		// Not byte-equal: a varint may be written longer than needed.
		again, err := decodeDatagram(gossip.Encode(&m), testLimits, 1400)
		if err != nil || !reflect.DeepEqual(again, m) {
			t.Fatalf("re-encoding changed the message: %v\n%+v\n%+v", err, m, again)
		}
	})
}

// FuzzDecodePushPull: any bytes either decode into a push-pull for node
// 1 within the limits, or are refused.
func FuzzDecodePushPull(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, kind := range []gossip.MsgKind{gossip.MsgPushPull, gossip.MsgPushPullReply} {
			m, err := decodePushPull(b, testLimits, 4096, kind, 1, 0)
			if err != nil {
				continue
			}
			if m.Kind != kind || m.To != 1 || len(b) > 4096 || len(m.Updates) > testLimits.MaxStreamUpdates {
				t.Fatalf("accepted %v to %d with %d updates from %d bytes", m.Kind, m.To, len(m.Updates), len(b))
			}
			for _, u := range m.Updates {
				if len(u.Addr) > testLimits.MaxAddrBytes || len(u.Meta) > testLimits.MaxMetaBytes {
					t.Fatalf("accepted an entry over the limits: %v", u)
				}
			}
		}
	})
}
