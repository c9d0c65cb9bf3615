package raftpb

import (
	"errors"
	"reflect"
	"testing"
)

func TestConfChangeRoundTrip(t *testing.T) {
	ccs := []ConfChange{
		{Transition: TransitionAuto},
		{Transition: TransitionAuto, Changes: []ConfChangeSingle{{ConfChangeAddNode, 2}}},
		{Transition: TransitionJointExplicit, Changes: []ConfChangeSingle{{ConfChangeAddNode, 1 << 60}, {ConfChangeRemoveNode, 3}, {ConfChangeAddLearnerNode, 9}}, Context: []byte("ctx")},
	}
	for _, cc := range ccs {
		got, err := UnmarshalConfChange(MarshalConfChange(cc))
		if err != nil {
			t.Fatalf("%v: %v", cc, err)
		}
		if !reflect.DeepEqual(got, cc) {
			t.Fatalf("round trip: got %+v want %+v", got, cc)
		}
	}
}

func TestConfChangeRejectsBadInput(t *testing.T) {
	good := MarshalConfChange(ConfChange{Transition: TransitionAuto, Changes: []ConfChangeSingle{{ConfChangeAddNode, 2}}})
	cases := map[string][]byte{
		"empty":           nil,
		"version":         append([]byte{9}, good[1:]...),
		"transition":      append([]byte{1, 0}, good[2:]...),
		"truncated":       good[:len(good)-1],
		"trailing":        append(append([]byte(nil), good...), 0),
		"huge count":      {1, 1, 0xff, 0xff, 0xff, 0xff, 0x0f},
		"node zero":       {1, 1, 1, 1, 0, 0},
		"bad change type": {1, 1, 1, 7, 2, 0},
	}
	for name, b := range cases {
		if _, err := UnmarshalConfChange(b); !errors.Is(err, ErrBadConfChange) {
			t.Errorf("%s: got %v, want ErrBadConfChange", name, err)
		}
	}
}

func TestEnterJoint(t *testing.T) {
	single := ConfChange{Transition: TransitionAuto, Changes: []ConfChangeSingle{{ConfChangeAddNode, 2}}}
	if _, ok := single.EnterJoint(); ok {
		t.Fatal("single auto change must not be joint")
	}
	double := ConfChange{Transition: TransitionAuto, Changes: []ConfChangeSingle{{ConfChangeAddNode, 2}, {ConfChangeAddNode, 3}}}
	if auto, ok := double.EnterJoint(); !ok || !auto {
		t.Fatal("two changes must be joint with auto leave")
	}
	explicit := ConfChange{Transition: TransitionJointExplicit, Changes: single.Changes}
	if auto, ok := explicit.EnterJoint(); !ok || auto {
		t.Fatal("explicit must be joint without auto leave")
	}
}

func FuzzUnmarshalConfChange(f *testing.F) {
	f.Add(MarshalConfChange(ConfChange{Transition: TransitionAuto, Changes: []ConfChangeSingle{{ConfChangeAddNode, 2}}}))
	f.Add(MarshalConfChange(ConfChange{Transition: TransitionJointImplicit, Context: []byte("x")}))
	f.Add([]byte{1, 1, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		cc, err := UnmarshalConfChange(b)
		if err != nil {
			return
		}
		again, err := UnmarshalConfChange(MarshalConfChange(cc))
		if err != nil || !reflect.DeepEqual(again, cc) {
			t.Fatalf("re-encode of %+v: %+v, %v", cc, again, err)
		}
	})
}

func TestDescribeMessage(t *testing.T) {
	m := Message{Type: MsgApp, From: 1, To: 2, Term: 2, LogTerm: 1, Index: 5, Commit: 5,
		Entries: []Entry{{Term: 2, Index: 6, Type: EntryNormal, Data: []byte("x")}}}
	want := `1->2 MsgApp Term:2 Log:1/5 Commit:5 Entries:[2/6 EntryNormal "x"]`
	if got := m.String(); got != want {
		t.Fatalf("got %s\nwant %s", got, want)
	}
	for typ := MsgHup; typ <= MsgPreVoteResp; typ++ {
		if !typ.Valid() || typ.String() == "" || typ.String()[0:3] != "Msg" {
			t.Fatalf("type %d has name %q", typ, typ.String())
		}
	}
	if MessageType(0).Valid() || MessageType(0).String() != "MessageType(0)" {
		t.Fatal("zero message type must be invalid")
	}
}
