package txn

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
)

// RecordKind says what a log record means.
type RecordKind uint8

const (
	// RecordBegin (coordinator): the transaction and its participants.
	// Never forced: presumed abort makes a lost Begin harmless.
	RecordBegin RecordKind = iota + 1
	// RecordVote (participant): it voted yes for Txn, whose coordinator and
	// participants it names. Forced before the vote is sent.
	RecordVote
	// RecordPromise (3PC participant, register acceptor): it will ignore
	// proposals of ballots below Ballot. Forced before the answer.
	RecordPromise
	// RecordPreCommit (3PC participant): it accepted the pre-commit of
	// Ballot. Forced before the acknowledgement.
	RecordPreCommit
	// RecordAccept (register acceptor): it accepted Outcome at Ballot.
	// Forced before the answer.
	RecordAccept
	// RecordDecision (every role): Txn's outcome. Forced before the outcome
	// is applied, announced or acknowledged.
	RecordDecision
	// RecordEnd (coordinator): every participant acknowledged the decision;
	// the coordinator forgets the transaction. Never forced.
	RecordEnd
)

// String returns the kind's name.
func (k RecordKind) String() string {
	switch k {
	case RecordBegin:
		return "begin"
	case RecordVote:
		return "vote"
	case RecordPromise:
		return "promise"
	case RecordPreCommit:
		return "precommit"
	case RecordAccept:
		return "accept"
	case RecordDecision:
		return "decision"
	case RecordEnd:
		return "end"
	}
	return fmt.Sprintf("RecordKind(%d)", uint8(k))
}

// MaxRecordParticipants bounds the participant list a record may hold, so
// that decoding a corrupt record cannot allocate without bound.
const MaxRecordParticipants = 1024

// recordVersion is the first byte of every encoded record.
const recordVersion = 1

// Record is one entry of a node's durable log. The cores emit records in a
// Ready; the application encodes them with MarshalBinary, appends them in
// order and hands them back, decoded, to the core's constructor after a
// restart. Which fields a kind uses is listed at each kind.
type Record struct {
	Kind RecordKind
	Txn  ID
	// Outcome: RecordDecision and RecordAccept.
	Outcome Outcome
	// Ballot: RecordPromise, RecordPreCommit and RecordAccept.
	Ballot Ballot
	// Coordinator: RecordVote and (participants, when known)
	// RecordDecision.
	Coordinator NodeID
	// Participants: RecordBegin, RecordVote and (when known) RecordDecision.
	Participants []NodeID
}

// String formats the record for logs and traces.
func (r Record) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s t%d", r.Kind, r.Txn)
	if r.Outcome != 0 {
		fmt.Fprintf(&b, " %s", r.Outcome)
	}
	if !r.Ballot.IsZero() {
		fmt.Fprintf(&b, " b=%s", r.Ballot)
	}
	if r.Coordinator != 0 {
		fmt.Fprintf(&b, " coord=n%d", r.Coordinator)
	}
	if len(r.Participants) > 0 {
		fmt.Fprintf(&b, " parts=%v", r.Participants)
	}
	return b.String()
}

// Validate reports whether r has the fields its kind needs.
func (r Record) Validate() error {
	if r.Txn == 0 {
		return fmt.Errorf("%w: %s: zero transaction", ErrCorruptRecord, r)
	}
	if len(r.Participants) > MaxRecordParticipants {
		return fmt.Errorf("%w: %d participants, at most %d", ErrCorruptRecord, len(r.Participants), MaxRecordParticipants)
	}
	switch r.Kind {
	case RecordBegin:
		if err := CheckParticipants(r.Participants, MaxRecordParticipants); err != nil {
			return fmt.Errorf("%w: %s: %v", ErrCorruptRecord, r, err)
		}
	case RecordVote:
		if r.Coordinator == 0 {
			return fmt.Errorf("%w: %s: no coordinator", ErrCorruptRecord, r)
		}
		if err := CheckParticipants(r.Participants, MaxRecordParticipants); err != nil {
			return fmt.Errorf("%w: %s: %v", ErrCorruptRecord, r, err)
		}
	case RecordPromise, RecordPreCommit:
		if r.Ballot.IsZero() {
			return fmt.Errorf("%w: %s: zero ballot", ErrCorruptRecord, r)
		}
	case RecordAccept:
		if r.Ballot.IsZero() || !r.Outcome.Valid() {
			return fmt.Errorf("%w: %s: needs a ballot and an outcome", ErrCorruptRecord, r)
		}
	case RecordDecision:
		if !r.Outcome.Valid() {
			return fmt.Errorf("%w: %s: no outcome", ErrCorruptRecord, r)
		}
	case RecordEnd:
	default:
		return fmt.Errorf("%w: unknown kind %d", ErrCorruptRecord, uint8(r.Kind))
	}
	return nil
}

// MarshalBinary encodes r: a version byte, the kind, the outcome, then
// uvarints for the transaction, the ballot, the coordinator and the
// participant list.
func (r Record) MarshalBinary() ([]byte, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	buf := make([]byte, 0, 16+binary.MaxVarintLen64*(5+len(r.Participants)))
	buf = append(buf, recordVersion, byte(r.Kind), byte(r.Outcome))
	buf = binary.AppendUvarint(buf, uint64(r.Txn))
	buf = binary.AppendUvarint(buf, r.Ballot.Round)
	buf = binary.AppendUvarint(buf, uint64(r.Ballot.Node))
	buf = binary.AppendUvarint(buf, uint64(r.Coordinator))
	buf = binary.AppendUvarint(buf, uint64(len(r.Participants)))
	for _, p := range r.Participants {
		buf = binary.AppendUvarint(buf, uint64(p))
	}
	return buf, nil
}

// UnmarshalRecord decodes a record written by MarshalBinary. Every error
// wraps ErrCorruptRecord.
func UnmarshalRecord(data []byte) (Record, error) {
	if len(data) < 3 {
		return Record{}, fmt.Errorf("%w: %d bytes", ErrCorruptRecord, len(data))
	}
	if data[0] != recordVersion {
		return Record{}, fmt.Errorf("%w: version %d", ErrCorruptRecord, data[0])
	}
	r := Record{Kind: RecordKind(data[1]), Outcome: Outcome(data[2])}
	d := decoder{buf: data[3:]}
	r.Txn = ID(d.uvarint())
	r.Ballot.Round = d.uvarint()
	r.Ballot.Node = NodeID(d.uvarint())
	r.Coordinator = NodeID(d.uvarint())
	n := d.uvarint()
	if d.err == nil && n > MaxRecordParticipants {
		return Record{}, fmt.Errorf("%w: %d participants, at most %d", ErrCorruptRecord, n, MaxRecordParticipants)
	}
	for i := uint64(0); i < n && d.err == nil; i++ {
		r.Participants = append(r.Participants, NodeID(d.uvarint()))
	}
	if d.err != nil {
		return Record{}, d.err
	}
	if len(d.buf) != 0 {
		return Record{}, fmt.Errorf("%w: %d trailing bytes", ErrCorruptRecord, len(d.buf))
	}
	if err := r.Validate(); err != nil {
		return Record{}, err
	}
	return r, nil
}

type decoder struct {
	buf []byte
	err error
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.buf)
	if n <= 0 {
		d.err = fmt.Errorf("%w: bad varint", ErrCorruptRecord)
		return 0
	}
	d.buf = d.buf[n:]
	return v
}

// CheckParticipants reports whether ps is a usable participant list: 1 to
// max IDs, none zero, none repeated.
func CheckParticipants(ps []NodeID, max int) error {
	if len(ps) == 0 || len(ps) > max {
		return fmt.Errorf("%w: %d participants, want 1..%d", ErrBadParticipants, len(ps), max)
	}
	for i, p := range ps {
		if p == 0 {
			return fmt.Errorf("%w: participant 0", ErrBadParticipants)
		}
		if slices.Contains(ps[:i], p) {
			return fmt.Errorf("%w: n%d listed twice", ErrBadParticipants, p)
		}
	}
	return nil
}
