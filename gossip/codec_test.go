package gossip

import (
	"encoding/binary"
	"errors"
	"reflect"
	"testing"

	"pgregory.net/rapid"
)

func testLimits() Limits {
	cfg := DefaultConfig()
	return cfg.Limits()
}

func genMessage(t *rapid.T) Message {
	lim := testLimits()
	kind := MsgKind(rapid.IntRange(int(MsgPing), int(MsgPushPullReply)).Draw(t, "kind"))
	m := Message{
		Kind: kind,
		From: NodeID(rapid.Uint64Min(1).Draw(t, "from")),
		To:   NodeID(rapid.Uint64().Draw(t, "to")),
		Seq:  rapid.Uint64().Draw(t, "seq"),
	}
	if kind == MsgPingReq {
		m.Target = NodeID(rapid.Uint64Min(1).Draw(t, "target"))
	}
	n := rapid.IntRange(0, 5).Draw(t, "n")
	for i := 0; i < n; i++ {
		m.Updates = append(m.Updates, Update{
			Member:      NodeID(rapid.Uint64Min(1).Draw(t, "member")),
			Incarnation: rapid.Uint64Range(1, maxIncarnation-1).Draw(t, "inc"),
			State:       State(rapid.IntRange(1, 4).Draw(t, "state")),
			From:        NodeID(rapid.Uint64().Draw(t, "accuser")),
			Addr:        rapid.StringN(0, lim.MaxAddrBytes, lim.MaxAddrBytes).Draw(t, "addr"),
			Meta:        string(rapid.SliceOfN(rapid.Byte(), 0, lim.MaxMetaBytes).Draw(t, "meta")),
		})
	}
	return m
}

func TestCodecRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		m := genMessage(t)
		b := Encode(&m)
		if len(b) != EncodedSize(&m) {
			t.Fatalf("encoded %d bytes, EncodedSize says %d", len(b), EncodedSize(&m))
		}
		got, err := Decode(b, testLimits())
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, m) {
			t.Fatalf("round trip:\n got %+v\nwant %+v", got, m)
		}
	})
}

func TestDecodeRejects(t *testing.T) {
	lim := testLimits()
	good := Message{Kind: MsgGossip, From: 2, To: 1, Updates: []Update{{Member: 3, Incarnation: 1, State: StateAlive, Meta: "m"}}}
	b := Encode(&good)
	mutate := func(f func([]byte) []byte) []byte { return f(append([]byte(nil), b...)) }
	huge := []byte{wireVersion, byte(MsgPushPull), 0, 2, 1, 0, 0}
	huge = binary.AppendUvarint(huge, 1000) // 1000 updates announced, none present
	cases := map[string][]byte{
		"empty":          nil,
		"bad version":    mutate(func(b []byte) []byte { b[0] = 9; return b }),
		"unknown kind":   mutate(func(b []byte) []byte { b[1] = 99; return b }),
		"flags":          mutate(func(b []byte) []byte { b[2] = 1; return b }),
		"trailing":       append(append([]byte(nil), b...), 0),
		"truncated":      b[:len(b)-1],
		"count vs bytes": huge,
	}
	for name, in := range cases {
		if _, err := Decode(in, lim); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", name, err)
		}
	}
	small := lim
	small.MaxMetaBytes = 0
	if _, err := Decode(b, small); !errors.Is(err, ErrMalformed) {
		t.Errorf("meta over the limit: %v", err)
	}
	small = lim
	small.MaxDatagramUpdates = 0
	if _, err := Decode(b, small); !errors.Is(err, ErrMalformed) {
		t.Errorf("updates over the limit: %v", err)
	}
}

// FuzzDecode: Decode never panics, never allocates beyond its input's
// worth, and whatever it accepts re-encodes to a message it decodes the
// same way.
func FuzzDecode(f *testing.F) {
	lim := testLimits()
	for _, m := range []Message{
		{Kind: MsgPing, From: 1, To: 2, Seq: 7, Updates: []Update{{Member: 3, Incarnation: 2, State: StateSuspect, From: 1}}},
		{Kind: MsgPingReq, From: 1, To: 2, Seq: 8, Target: 5},
		{Kind: MsgPushPull, From: 1, To: 2, Updates: []Update{{Member: 1, Incarnation: 1, State: StateAlive, Addr: "10.0.0.1:2380", Meta: "zone=a"}}},
		{Kind: MsgAck, From: 2, To: 1, Seq: 7},
	} {
		f.Add(Encode(&m))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Decode(b, lim)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error not ErrMalformed: %v", err)
			}
			return
		}
		if len(m.Updates) > len(b)/minUpdateBytes {
			t.Fatalf("%d updates from %d bytes", len(m.Updates), len(b))
		}
		again, err := Decode(Encode(&m), lim)
		if err != nil {
			t.Fatalf("re-encoding of an accepted message does not decode: %v", err)
		}
		if !reflect.DeepEqual(again, m) {
			t.Fatalf("re-decoded differently:\n%+v\n%+v", again, m)
		}
		if err := validateMessage(&m, lim); err != nil {
			t.Fatalf("Decode accepted an invalid message: %v", err)
		}
	})
}
