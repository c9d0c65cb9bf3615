package paxos

import (
	"bytes"
	"testing"

	"github.com/cairndb/cairn/clock"
)

// FuzzDecodeMessage: the decoder never panics, and what it accepts is
// canonical (re-encodes to the same bytes) and valid.
func FuzzDecodeMessage(f *testing.F) {
	for _, m := range sampleMessages() {
		f.Add(EncodeMessage(m))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := DecodeMessage(b)
		if err != nil {
			return
		}
		if err := m.validateShape(); err != nil {
			t.Fatalf("decoded an invalid message %s: %v", m, err)
		}
		if again := EncodeMessage(m); !bytes.Equal(again, b) {
			t.Fatalf("not canonical: %x decodes to %s, which encodes to %x", b, m, again)
		}
	})
}

// FuzzDecodeAcceptorState: as FuzzDecodeMessage, for stored states.
func FuzzDecodeAcceptorState(f *testing.F) {
	for _, s := range sampleStates() {
		f.Add(EncodeAcceptorState(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := DecodeAcceptorState(b)
		if err != nil {
			return
		}
		if err := s.Validate(); err != nil {
			t.Fatalf("decoded an invalid state %+v: %v", s, err)
		}
		if again := EncodeAcceptorState(s); !bytes.Equal(again, b) {
			t.Fatalf("not canonical: %x -> %x", b, again)
		}
	})
}

// fuzzBallot maps a byte to a small, colliding ballot (0 is none).
func fuzzBallot(x byte) Ballot {
	if x%8 == 0 {
		return Ballot{}
	}
	return Ballot{Time: clock.Timestamp{WallTime: int64(x % 8)}, Epoch: 1, Node: NodeID(1 + x/8%3)}
}

// fuzzMessage builds a message to an acceptor from 4 bytes.
func fuzzMessage(b []byte) Message {
	bb := fuzzBallot(b[1] | 1)
	origin := fuzzBallot(b[2]%8 | 1)
	if bb.Less(origin) {
		origin = bb
	}
	p := Proposal{Ballot: bb, Origin: origin, Value: Value{Present: b[3]%2 == 0, Data: nil}}
	if p.Value.Present {
		p.Value.Data = []byte{b[3]}
		p.Value.DeadlineMs = int64(b[3] / 64) // 0 (none) a quarter of the time
	}
	switch b[0] % 3 {
	case 0:
		return Message{Type: MsgPrepare, Key: "k", Ballot: bb}
	case 1:
		return Message{Type: MsgAccept, Key: "k", Proposal: p}
	}
	return Message{Type: MsgCommit, Key: "k", Proposal: p}
}

// FuzzAcceptor feeds an acceptor sequences of prepares, accepts and
// commits. Its state stays valid, its promise and commit never go back,
// every Promise and Accepted it sends is consistent with the state it asks
// to persist, and it never accepts below its promise.
func FuzzAcceptor(f *testing.F) {
	f.Add([]byte{0, 3, 0, 0, 1, 3, 3, 0, 2, 3, 3, 1, 0, 2, 0, 0})
	f.Add([]byte{1, 5, 2, 2, 0, 7, 0, 0, 1, 6, 1, 0, 2, 5, 2, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		var s AcceptorState
		for len(data) >= 4 {
			m := fuzzMessage(data[:4])
			data = data[4:]
			out, err := StepAcceptor(s, m)
			if err != nil {
				continue // fuzzMessage may build an invalid proposal
			}
			n := out.State
			if err := n.Validate(); err != nil {
				t.Fatalf("after %s: %v", m, err)
			}
			if n.Promised.Less(s.Promised) || n.Committed.Ballot.Less(s.Committed.Ballot) {
				t.Fatalf("%s moved the state back: %+v -> %+v", m, s, n)
			}
			changed := n.Promised != s.Promised || !n.Accepted.Equal(s.Accepted) || !n.Committed.Equal(s.Committed)
			if changed != out.Persist {
				t.Fatalf("%s: changed=%v but Persist=%v", m, changed, out.Persist)
			}
			switch out.Reply.Type {
			case MsgPromise:
				if n.Promised != m.Ballot || !out.Persist && s.Promised != m.Ballot {
					t.Fatalf("promise of %s with state %+v", m.Ballot, n)
				}
			case MsgAccepted:
				if m.Proposal.Ballot.Less(s.Promised) {
					t.Fatalf("accepted %s below the promise %s", m.Proposal.Ballot, s.Promised)
				}
				if !n.Accepted.Equal(m.Proposal) && n.Committed.Ballot != m.Proposal.Ballot {
					t.Fatalf("acknowledged %s without holding it: %+v", m.Proposal, n)
				}
			}
			s = n
		}
	})
}

// FuzzProposer feeds a proposer with operations, arbitrary replies and
// ticks. It never panics, answers each operation at most once, and every
// message it sends is valid.
func FuzzProposer(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15})
	f.Add([]byte{9, 9, 9, 9, 1, 1, 1, 1, 200, 3, 4, 5, 250, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := NewProposer(testConfig(10, 1))
		if err != nil {
			t.Fatal(err)
		}
		replicas := []NodeID{1, 2, 3}
		answered := map[uint64]bool{}
		var nextID uint64
		var ballots []Ballot
		var offers []Proposal
		for len(data) >= 4 {
			b := data[:4]
			data = data[4:]
			switch b[0] % 8 {
			case 0:
				nextID++
				now := int64(b[3] % 8)
				op := []Op{
					get, setNX("a"), cas("a", "b"), {Kind: OpDelete},
					{Kind: OpGet, NowMs: now},
					{Kind: OpSetNX, Value: []byte("c"), NowMs: now + 1, DeadlineMs: now + 3},
					{Kind: OpCAS, Expected: []byte{b[3]}, Value: []byte("d"), NowMs: now, KeepTTL: true},
					{Kind: OpSetXX, Value: []byte("e"), NowMs: now + 1, DeadlineMs: 2},
				}[b[1]%8]
				_ = p.Propose(nextID, string('k'+rune(b[2]%2)), replicas, op)
			case 1, 2:
				p.Tick()
			default:
				from := NodeID(1 + b[1]%4) // 4 is a stranger
				var round Ballot
				if len(ballots) > 0 {
					round = ballots[int(b[2])%len(ballots)]
				} else {
					round = fuzzBallot(b[2])
				}
				key := string('k' + rune(b[3]%2))
				var m Message
				switch b[0] % 8 {
				case 3, 4:
					m = Message{Type: MsgPromise, Key: key, Ballot: round}
					c := fuzzBallot(b[3])
					if !c.IsZero() && c.Less(round) {
						m.Committed = Proposal{Ballot: c, Origin: c, Value: Value{Present: true, Data: []byte{b[3]}, DeadlineMs: int64(b[2] % 6)}}
						m.Recent = []Link{{Origin: c}}
					}
					// Sometimes a proposal in progress above the commit,
					// computed on it, or one of the proposer's own offers.
					if a := fuzzBallot(b[1] ^ b[3]); c.Less(a) && !round.Less(a) && b[1]&8 != 0 {
						m.Accepted = Proposal{Ballot: a, Origin: a, Base: m.Committed.Origin, Value: Value{Present: true, Data: []byte{b[1]}}}
					}
					if b[1]&16 != 0 && len(offers) > 0 {
						if o := offers[int(b[2])%len(offers)]; c.Less(o.Ballot) && !round.Less(o.Ballot) {
							m.Accepted = o
						}
					}
				case 5, 6:
					m = Message{Type: MsgAccepted, Key: key, Ballot: round}
				default:
					m = Message{Type: MsgReject, Key: key, Ballot: round, Promised: maxBallot(round, fuzzBallot(b[3]))}
				}
				_ = p.Step(from, m)
			}
			rd := p.Ready()
			for _, e := range rd.Messages {
				if err := e.Msg.Validate(DefaultLimits()); err != nil {
					t.Fatalf("sent an invalid message %s: %v", e.Msg, err)
				}
				if !e.Msg.Round().IsZero() {
					ballots = append(ballots, e.Msg.Round())
				}
				if e.Msg.Type == MsgAccept {
					offers = append(offers, e.Msg.Proposal)
				}
			}
			for _, o := range rd.Outcomes {
				if answered[o.ID] {
					t.Fatalf("operation %d answered twice", o.ID)
				}
				answered[o.ID] = true
			}
		}
	})
}
