package merkle

import (
	"math/rand/v2"
)

// netConfig is the in-memory network's behaviour: each message is lost
// with probability drop, delivered twice with probability dup, and held
// back for up to delay rounds (so messages overtake each other).
type netConfig struct {
	drop, dup float64
	delay     int
	seed      uint64
}

// netRun is what one run of the in-memory network observed.
type netRun struct {
	ranges []Range
	err    error
	stats  Stats
	// rounds counts lockstep rounds: one round delivers every request to
	// the responder and every reply back, so a lossless run takes one
	// round per round trip.
	rounds int
	// The largest request (nodes, bytes) and reply (bytes) seen, and the
	// most requests in flight at once.
	maxReqNodes, maxReqBytes, maxReplyBytes, maxInFlight int
	// wire counts the bytes that crossed the network.
	wire int
}

type inFlightMsg struct {
	b   []byte
	due int
}

// runExchange runs a Session of tree a against a responder holding b (nil:
// no tree) over an in-memory network, encoding and decoding every message.
// It fails the test if the session has not ended after maxRounds.
func runExchange(tb fataler, a, b *Tree, cfg, respCfg ExchangeConfig, nc netConfig, maxRounds int) netRun {
	tb.Helper()
	rng := rand.New(rand.NewPCG(nc.seed, 0x6d65726b6c65))
	s, err := NewSession(a, 7, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	var res netRun
	var toResp, toInit []inFlightMsg
	send := func(q []inFlightMsg, b []byte, round int) []inFlightMsg {
		res.wire += len(b)
		if rng.Float64() < nc.drop {
			return q
		}
		copies := 1
		if rng.Float64() < nc.dup {
			copies = 2
		}
		for range copies {
			d := 0
			if nc.delay > 0 {
				d = rng.IntN(nc.delay + 1)
			}
			q = append(q, inFlightMsg{b: b, due: round + d})
		}
		return q
	}
	// take removes and returns the messages due by round, shuffled when
	// the network reorders.
	take := func(q []inFlightMsg, round int) (due [][]byte, rest []inFlightMsg) {
		for _, m := range q {
			if m.due <= round {
				due = append(due, m.b)
			} else {
				rest = append(rest, m)
			}
		}
		if nc.delay > 0 {
			rng.Shuffle(len(due), func(i, j int) { due[i], due[j] = due[j], due[i] })
		}
		return due, rest
	}
	for round := 0; !s.Done(); round++ {
		if round >= maxRounds {
			tb.Fatalf("session not done after %d rounds: %+v", maxRounds, s.Stats())
		}
		res.rounds++
		for _, q := range s.Poll() {
			enc := q.Encode()
			if len(enc) != q.EncodedLen() {
				tb.Fatalf("request encodes to %d bytes, EncodedLen says %d", len(enc), q.EncodedLen())
			}
			res.maxReqNodes = max(res.maxReqNodes, len(q.Nodes))
			res.maxReqBytes = max(res.maxReqBytes, len(enc))
			toResp = send(toResp, enc, round)
		}
		res.maxInFlight = max(res.maxInFlight, len(s.inflight))
		var due [][]byte
		due, toResp = take(toResp, round)
		for _, enc := range due {
			q, err := DecodeRequest(enc)
			if err != nil {
				tb.Fatalf("responder cannot decode a request: %v", err)
			}
			var rep Reply
			if b == nil {
				rep = RespondNoTree(&q)
			} else {
				rep = Respond(b, &q, respCfg)
			}
			renc := rep.Encode()
			if len(renc) != rep.EncodedLen() {
				tb.Fatalf("reply encodes to %d bytes, EncodedLen says %d", len(renc), rep.EncodedLen())
			}
			res.maxReplyBytes = max(res.maxReplyBytes, len(renc))
			toInit = send(toInit, renc, round)
		}
		due, toInit = take(toInit, round)
		for _, enc := range due {
			rep, err := DecodeReply(enc)
			if err != nil {
				tb.Fatalf("initiator cannot decode a reply: %v", err)
			}
			s.Handle(&rep)
			if s.potential() > cfg.MaxRanges && !s.Done() {
				tb.Fatalf("potential %d over MaxRanges %d", s.potential(), cfg.MaxRanges)
			}
		}
		s.Tick()
	}
	res.ranges, res.err, res.stats = s.Ranges(), s.Err(), s.Stats()
	return res
}
