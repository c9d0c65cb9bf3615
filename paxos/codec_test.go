package paxos

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/cairndb/cairn/clock"
)

func sampleMessages() []Message {
	c := prop(bal(3, 1), Ballot{}, "committed")
	a := Proposal{Ballot: bal(9, 2), Origin: bal(5, 4), Base: c.Origin, Value: Value{Present: true}}
	del := Proposal{Ballot: bal(11, 3), Origin: bal(11, 3), Base: c.Origin}
	hlc := Ballot{Time: clock.Timestamp{WallTime: 1_700_000_000_000_000_000, Logical: math.MaxUint32}, Epoch: 1 << 40, Node: math.MaxUint64}
	lock := withDeadline(prop(bal(12, 2), c.Origin, "owner"), 1_700_000_030_000)
	return []Message{
		{Type: MsgAccept, Key: "lock", Proposal: lock},
		{Type: MsgCommit, Key: "lock", Proposal: withDeadline(prop(bal(13, 2), c.Origin, ""), math.MaxInt64)},
		{Type: MsgPromise, Key: "lock", Ballot: bal(14, 1), Accepted: withDeadline(prop(bal(13, 3), lock.Origin, "x"), 1), Committed: lock, Recent: []Link{{lock.Origin, lock.Base}}},
		{Type: MsgPrepare, Key: "k", Ballot: bal(10, 1)},
		{Type: MsgPrepare, Key: "", Ballot: hlc},
		{Type: MsgPromise, Key: "k", Ballot: bal(10, 1)},
		{Type: MsgPromise, Key: "k", Ballot: bal(10, 1), Accepted: a, Committed: c, Recent: []Link{{bal(2, 2), Ballot{}}, {c.Origin, c.Base}}},
		{Type: MsgAccept, Key: "k", Proposal: a},
		{Type: MsgAccept, Key: "k", Proposal: del},
		{Type: MsgAccepted, Key: "k", Ballot: bal(9, 2)},
		{Type: MsgCommit, Key: "\x00\xff", Proposal: c},
		{Type: MsgReject, Key: "k", Ballot: bal(9, 2), Promised: bal(12, 7)},
		{Type: MsgReject, Key: "k", Ballot: bal(9, 2), Promised: bal(9, 2)},
	}
}

func sampleStates() []AcceptorState {
	c := prop(bal(3, 1), Ballot{}, "v")
	return []AcceptorState{
		{},
		{Promised: bal(4, 2)},
		committedAt(AcceptorState{Promised: bal(4, 2)}, c),
		committedAt(AcceptorState{Promised: bal(8, 2), Accepted: prop(bal(8, 2), c.Origin, "w")}, c),
		committedAt(AcceptorState{Promised: bal(8, 2), Accepted: Proposal{Ballot: bal(7, 1), Origin: bal(6, 3), Base: c.Origin}}, c),
		committedAt(AcceptorState{Promised: bal(9, 2), Accepted: withDeadline(prop(bal(9, 2), c.Origin, "w"), 1_700_000_000_123)}, withDeadline(c, 77)),
	}
}

func TestCodecRoundTrip(t *testing.T) {
	for _, m := range sampleMessages() {
		if err := m.Validate(DefaultLimits()); err != nil {
			t.Fatalf("sample %s invalid: %v", m, err)
		}
		b := EncodeMessage(m)
		got, err := DecodeMessage(b)
		if err != nil {
			t.Fatalf("%s: %v", m, err)
		}
		if got.String() != m.String() || !bytes.Equal(EncodeMessage(got), b) {
			t.Fatalf("round trip of %s gave %s", m, got)
		}
	}
	for _, s := range sampleStates() {
		b := EncodeAcceptorState(s)
		got, err := DecodeAcceptorState(b)
		if err != nil {
			t.Fatalf("%+v: %v", s, err)
		}
		if !got.Accepted.Equal(s.Accepted) || !got.Committed.Equal(s.Committed) || got.Promised != s.Promised || !slices.Equal(got.Recent, s.Recent) {
			t.Fatalf("round trip of %+v gave %+v", s, got)
		}
	}
}

// The fast path's bytes: a Prepare with an HLC ballot and a short key fits
// in a few dozen bytes.
func TestCodecSizes(t *testing.T) {
	hlc := Ballot{Time: clock.Timestamp{WallTime: 1_700_000_000_000_000_000, Logical: 3}, Epoch: 7, Node: 3}
	if n := len(EncodeMessage(Message{Type: MsgPrepare, Key: "user:42", Ballot: hlc})); n > 32 {
		t.Fatalf("prepare is %d bytes", n)
	}
}

func TestCodecRejects(t *testing.T) {
	good := EncodeMessage(Message{Type: MsgAccepted, Key: "k", Ballot: bal(9, 2)})
	bigKey := append([]byte{codecVersion, byte(MsgPrepare)}, 0x81, 0x80, 0x04) // 65537
	for name, b := range map[string][]byte{
		"empty":         nil,
		"version":       append([]byte{2}, good[1:]...),
		"type":          append([]byte{codecVersion, 99}, good[2:]...),
		"trailing":      append(bytes.Clone(good), 0),
		"truncated":     good[:len(good)-1],
		"not minimal":   {codecVersion, byte(MsgAccepted), 0x81, 0x00},
		"key too large": bigKey,
		"zero ballot":   EncodeMessage(Message{Type: MsgPrepare, Key: "k"}),
		"epoch 0":       EncodeMessage(Message{Type: MsgPrepare, Key: "k", Ballot: Ballot{Time: clock.Timestamp{WallTime: 1}, Node: 1}}),
		"reject below":  EncodeMessage(Message{Type: MsgReject, Key: "k", Ballot: bal(9, 2), Promised: bal(8, 2)}),
		"promise above": EncodeMessage(Message{Type: MsgPromise, Key: "k", Ballot: bal(5, 1), Accepted: prop(bal(6, 1), Ballot{}, "x")}),
		"commit above":  EncodeMessage(Message{Type: MsgPromise, Key: "k", Ballot: bal(5, 1), Committed: prop(bal(5, 1), Ballot{}, "x"), Recent: []Link{{bal(5, 1), Ballot{}}}}),
		"no links":      EncodeMessage(Message{Type: MsgPromise, Key: "k", Ballot: bal(5, 1), Committed: prop(bal(4, 1), Ballot{}, "x")}),
		"stray links":   EncodeMessage(Message{Type: MsgPromise, Key: "k", Ballot: bal(5, 1), Recent: []Link{{bal(4, 1), Ballot{}}}}),
		"link order":    EncodeMessage(Message{Type: MsgPromise, Key: "k", Ballot: bal(5, 1), Committed: prop(bal(3, 1), Ballot{}, "x"), Recent: []Link{{bal(4, 1), Ballot{}}, {bal(3, 1), Ballot{}}}}),
		"wall max":      EncodeMessage(Message{Type: MsgPrepare, Key: "k", Ballot: Ballot{Time: clock.Timestamp{WallTime: math.MaxInt64}, Epoch: 1, Node: 1}}),
	} {
		if _, err := DecodeMessage(b); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: err = %v, want ErrMalformed", name, err)
		}
	}
	badFlags := EncodeMessage(Message{Type: MsgCommit, Key: "k", Proposal: prop(bal(3, 1), Ballot{}, "")})
	badFlags[len(badFlags)-2] = 2 // flags byte before the empty data's length
	if _, err := DecodeMessage(badFlags); !errors.Is(err, ErrMalformed) {
		t.Errorf("unknown flags: %v", err)
	}
	for name, s := range map[string]AcceptorState{
		"accepted above promise": {Promised: bal(3, 1), Accepted: prop(bal(4, 1), Ballot{}, "x")},
		"stale in progress":      committedAt(AcceptorState{Promised: bal(5, 1), Accepted: prop(bal(4, 1), Ballot{}, "x")}, prop(bal(4, 1), Ballot{}, "x")),
		"too many links":         {Promised: bal(9, 1), Committed: prop(bal(9, 1), bal(5, 1), "x"), Recent: []Link{{bal(1, 1), Ballot{}}, {bal(2, 1), bal(1, 1)}, {bal(3, 1), bal(2, 1)}, {bal(5, 1), bal(3, 1)}, {bal(9, 1), bal(5, 1)}}},
	} {
		if _, err := DecodeAcceptorState(EncodeAcceptorState(s)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// withDeadline returns p with a deadline on its value.
func withDeadline(p Proposal, deadlineMs int64) Proposal {
	p.Value.DeadlineMs = deadlineMs
	return p
}

// A value without a deadline encodes as it did before deadlines existed
// (flags 1, no deadline field), so stored states stay readable; with one,
// flags 3 and the deadline's uvarint come before the data.
func TestCodecDeadlineLayout(t *testing.T) {
	c := prop(bal(3, 1), Ballot{}, "v")
	old := []byte{codecVersion, byte(MsgCommit), 1, 'k', 3, 0, 1, 1, 3, 0, 1, 1, 0, 0, 0, 0, 1, 1, 'v'}
	if got := EncodeMessage(Message{Type: MsgCommit, Key: "k", Proposal: c}); !bytes.Equal(got, old) {
		t.Fatalf("no deadline: %x, want %x", got, old)
	}
	withD := append(slices.Clone(old[:16]), 3, 0xe8, 0x07, 1, 'v') // deadline 1000
	if got := EncodeMessage(Message{Type: MsgCommit, Key: "k", Proposal: withDeadline(c, 1000)}); !bytes.Equal(got, withD) {
		t.Fatalf("deadline 1000: %x, want %x", got, withD)
	}
	m, err := DecodeMessage(withD)
	if err != nil || m.Proposal.Value.DeadlineMs != 1000 || !m.Proposal.Value.Equal(Value{Present: true, Data: []byte("v"), DeadlineMs: 1000}) {
		t.Fatalf("decode: %s, %v", m, err)
	}
	for name, b := range map[string][]byte{
		"deadline without present": append(slices.Clone(old[:16]), 2, 0xe8, 0x07),
		"deadline 0":               append(slices.Clone(old[:16]), 3, 0, 1, 'v'),
		"deadline not minimal":     append(slices.Clone(old[:16]), 3, 0x81, 0x00, 1, 'v'),
		"deadline above int64":     append(append(slices.Clone(old[:16]), 3), binary.AppendUvarint(nil, math.MaxInt64+1)...),
		"deadline truncated":       append(slices.Clone(old[:16]), 3, 0xe8),
		"unknown flag":             append(slices.Clone(old[:16]), 5, 1, 'v'),
	} {
		if _, err := DecodeMessage(b); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: err = %v, want ErrMalformed", name, err)
		}
	}
	// Message.Validate refuses what the decoder would: an absent value with
	// a deadline, a negative deadline.
	for _, v := range []Value{{DeadlineMs: 5}, {Present: true, DeadlineMs: -1}} {
		m := Message{Type: MsgAccept, Key: "k", Proposal: Proposal{Ballot: bal(3, 1), Origin: bal(3, 1), Value: v}}
		if err := m.Validate(DefaultLimits()); !errors.Is(err, ErrInvalidMessage) {
			t.Errorf("value %+v: %v", v, err)
		}
	}
}

func TestValidateLimits(t *testing.T) {
	lim := Limits{MaxKeyBytes: 2, MaxValueBytes: 3}
	if err := (Message{Type: MsgPrepare, Key: "abc", Ballot: bal(1, 1)}).Validate(lim); !errors.Is(err, ErrInvalidMessage) {
		t.Fatalf("long key: %v", err)
	}
	if err := (Message{Type: MsgAccept, Key: "k", Proposal: prop(bal(1, 1), Ballot{}, "abcd")}).Validate(lim); !errors.Is(err, ErrInvalidMessage) {
		t.Fatalf("long value: %v", err)
	}
}
