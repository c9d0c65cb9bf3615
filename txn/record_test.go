package txn

import (
	"errors"
	"reflect"
	"testing"
)

func sampleRecords() []Record {
	return []Record{
		{Kind: RecordBegin, Txn: 1, Participants: []NodeID{2, 3}},
		{Kind: RecordVote, Txn: 1, Coordinator: 1, Participants: []NodeID{2, 3}},
		{Kind: RecordPromise, Txn: 1, Ballot: Ballot{Round: 2, Node: 3}},
		{Kind: RecordPreCommit, Txn: 1, Ballot: Ballot{Round: 0, Node: 1}},
		{Kind: RecordAccept, Txn: 7, Ballot: Ballot{Round: 9, Node: 5}, Outcome: Abort},
		{Kind: RecordDecision, Txn: 1 << 40, Outcome: Commit, Coordinator: 1, Participants: []NodeID{2, 3, 4}},
		{Kind: RecordDecision, Txn: 2, Outcome: Abort},
		{Kind: RecordEnd, Txn: 1},
	}
}

func TestRecordRoundTrip(t *testing.T) {
	for _, r := range sampleRecords() {
		b, err := r.MarshalBinary()
		if err != nil {
			t.Fatalf("%s: %v", r, err)
		}
		got, err := UnmarshalRecord(b)
		if err != nil {
			t.Fatalf("%s: %v", r, err)
		}
		if !reflect.DeepEqual(got, r) {
			t.Fatalf("round trip: got %s, want %s", got, r)
		}
	}
}

func TestRecordValidateRejects(t *testing.T) {
	for _, r := range []Record{
		{Kind: RecordEnd},           // zero transaction
		{Kind: RecordBegin, Txn: 1}, // no participants
		{Kind: RecordBegin, Txn: 1, Participants: []NodeID{2, 2}},
		{Kind: RecordVote, Txn: 1, Participants: []NodeID{2}}, // no coordinator
		{Kind: RecordPromise, Txn: 1},                         // zero ballot
		{Kind: RecordAccept, Txn: 1, Ballot: Ballot{Round: 1, Node: 1}},
		{Kind: RecordDecision, Txn: 1, Outcome: 9},
		{Kind: 99, Txn: 1},
	} {
		if _, err := r.MarshalBinary(); !errors.Is(err, ErrCorruptRecord) {
			t.Errorf("%s: marshal gave %v, want ErrCorruptRecord", r, err)
		}
	}
}

func TestUnmarshalRecordRejectsDamage(t *testing.T) {
	good, _ := Record{Kind: RecordVote, Txn: 5, Coordinator: 1, Participants: []NodeID{2, 3}}.MarshalBinary()
	for n := 0; n < len(good); n++ {
		if _, err := UnmarshalRecord(good[:n]); !errors.Is(err, ErrCorruptRecord) {
			t.Errorf("truncated to %d bytes: %v, want ErrCorruptRecord", n, err)
		}
	}
	if _, err := UnmarshalRecord(append(good, 0)); !errors.Is(err, ErrCorruptRecord) {
		t.Errorf("trailing byte: %v", err)
	}
	bad := append([]byte{}, good...)
	bad[0] = 2
	if _, err := UnmarshalRecord(bad); !errors.Is(err, ErrCorruptRecord) {
		t.Errorf("version 2: %v", err)
	}
	huge := []byte{recordVersion, byte(RecordBegin), 0, 1, 0, 0, 0, 0xff, 0xff, 0x03}
	if _, err := UnmarshalRecord(huge); !errors.Is(err, ErrCorruptRecord) {
		t.Errorf("65535 participants: %v", err)
	}
}

// FuzzUnmarshalRecord: decoding never panics, and whatever decodes
// re-encodes to the same bytes.
func FuzzUnmarshalRecord(f *testing.F) {
	for _, r := range sampleRecords() {
		b, _ := r.MarshalBinary()
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := UnmarshalRecord(data)
		if err != nil {
			return
		}
		b, err := r.MarshalBinary()
		if err != nil {
			t.Fatalf("%s decoded but does not encode: %v", r, err)
		}
		r2, err := UnmarshalRecord(b)
		if err != nil || !reflect.DeepEqual(r, r2) {
			t.Fatalf("re-decode: %s vs %s (%v)", r, r2, err)
		}
	})
}

func TestBallotOrder(t *testing.T) {
	ordered := []Ballot{{}, {Round: 0, Node: 1}, {Round: 0, Node: 9}, {Round: 1, Node: 1}, {Round: 1, Node: 2}, {Round: 7, Node: 1}}
	for i := range ordered {
		for j := range ordered {
			if got, want := ordered[i].Less(ordered[j]), i < j; got != want {
				t.Errorf("%s < %s = %t, want %t", ordered[i], ordered[j], got, want)
			}
		}
	}
	if !(Ballot{}).IsZero() || (Ballot{Node: 1}).IsZero() {
		t.Error("IsZero")
	}
}

func TestCheckParticipants(t *testing.T) {
	for _, tc := range []struct {
		ps []NodeID
		ok bool
	}{
		{[]NodeID{1}, true},
		{[]NodeID{3, 1, 2}, true},
		{nil, false},
		{[]NodeID{1, 0}, false},
		{[]NodeID{1, 2, 1}, false},
		{[]NodeID{1, 2, 3, 4}, false}, // over max
	} {
		err := CheckParticipants(tc.ps, 3)
		if (err == nil) != tc.ok {
			t.Errorf("%v: %v", tc.ps, err)
		}
		if err != nil && !errors.Is(err, ErrBadParticipants) {
			t.Errorf("%v: %v is not ErrBadParticipants", tc.ps, err)
		}
	}
}

func TestReadyPersistForces(t *testing.T) {
	var rd Ready[int]
	if !rd.IsEmpty() {
		t.Fatal("new Ready not empty")
	}
	rd.Persist(Record{Kind: RecordBegin, Txn: 1, Participants: []NodeID{2}}, false)
	if rd.MustSync {
		t.Fatal("an unforced record set MustSync")
	}
	rd.Persist(Record{Kind: RecordEnd, Txn: 1}, true)
	rd.Persist(Record{Kind: RecordEnd, Txn: 2}, false)
	if !rd.MustSync || len(rd.Records) != 3 || rd.IsEmpty() {
		t.Fatalf("got %+v", rd)
	}
}
