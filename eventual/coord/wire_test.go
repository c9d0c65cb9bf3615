package coord

import (
	"errors"
	"testing"

	"github.com/cairndb/cairn/clock"
	"github.com/cairndb/cairn/eventual/object"
)

func sampleMessages() []message {
	ts := clock.Timestamp{WallTime: 1234, Logical: 5}
	return []message{
		{typ: msgMutate, id: 1, clock: ts, key: []byte("k"), level: LevelQuorum,
			op: Op{Code: OpHSet, Fields: []object.Field{{Name: "f", Value: []byte("v")}}}},
		{typ: msgMutate, id: 2, clock: ts, key: []byte("k"), level: Level{Kind: Explicit, Count: 2},
			op: Op{Code: OpSet, Value: []byte("v"), SetOpts: object.SetOptions{DeadlineMs: 99, KeepTTL: true}}},
		{typ: msgMutate, id: 2, clock: ts, key: []byte("k"), level: LevelOne,
			op: Op{Code: OpSRem, Members: []string{"m"}}, obj: []byte{1, 0}},
		{typ: msgMutateResp, id: 3, clock: ts, err: "boom", result: wireResult{N: -4, OK: true}},
		{typ: msgApply, id: 4, clock: ts, key: []byte("k"), hintFor: 7, obj: []byte{1, 0}},
		{typ: msgApplyResp, id: 5, clock: ts},
		{typ: msgRead, id: 6, clock: ts, key: []byte("k")},
		{typ: msgReadResp, id: 7, clock: ts, obj: []byte{1, 0}},
	}
}

func TestMessagesRoundTrip(t *testing.T) {
	for _, m := range sampleMessages() {
		enc := m.appendBinary(nil)
		got, err := decodeMessage(enc)
		if err != nil {
			t.Fatalf("type %d: %v", m.typ, err)
		}
		if string(got.appendBinary(nil)) != string(enc) {
			t.Fatalf("type %d does not round-trip", m.typ)
		}
		for cut := range enc {
			if _, err := decodeMessage(enc[:cut]); !errors.Is(err, ErrMalformed) {
				t.Fatalf("type %d cut at %d: %v", m.typ, cut, err)
			}
		}
	}
}

func FuzzDecodeMessage(f *testing.F) {
	for _, m := range sampleMessages() {
		f.Add(m.appendBinary(nil))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeMessage(b)
		if err != nil {
			return
		}
		again, err := decodeMessage(m.appendBinary(nil))
		if err != nil || string(again.appendBinary(nil)) != string(m.appendBinary(nil)) {
			t.Fatalf("a decoded message does not survive re-encoding: %v", err)
		}
	})
}
