package detector_test

import (
	"math"
	"math/rand/v2"
	"time"
)

// regime describes the heartbeat delays of one period of a node's life.
type regime struct {
	// jitterMean is the mean of the exponential network delay added to
	// every heartbeat.
	jitterMean time.Duration
	// pauseProb is the chance that the sender stalls before a heartbeat
	// (a collector pause, a descheduled virtual machine). Pause lengths
	// are heavy-tailed: Pareto with scale pauseMin and shape 3 (the
	// median is 1.26·pauseMin; one pause in 27 exceeds 3·pauseMin), cut
	// at pauseMax.
	pauseProb          float64
	pauseMin, pauseMax time.Duration
	// meanLength is the mean length of the period (exponential).
	meanLength time.Duration
}

// scenario is a node whose life alternates between a calm and a stormy
// regime (a node under load: collector pauses and a congested link).
type scenario struct {
	interval  time.Duration // heartbeat period of the sender
	baseDelay time.Duration // fixed part of the network delay
	calm      regime
	storm     regime
	runLength time.Duration
	// warmup is the start of the run during which no crash is simulated.
	warmup time.Duration
	// crashEvery is the spacing, in heartbeats, of the simulated crashes.
	crashEvery int
}

// paretoShape is the tail index of pause lengths.
const paretoShape = 3

// defaultScenario is the simulation of the issue: 1 s heartbeats with
// jitter, heavy-tailed GC-like pauses of 2–3 s typically that come in
// bursts while the node is under load, about one hour in five.
func defaultScenario() scenario {
	return scenario{
		interval:  time.Second,
		baseDelay: 500 * time.Microsecond,
		calm: regime{
			jitterMean: 5 * time.Millisecond,
			pauseProb:  1.0 / 3600,
			pauseMin:   200 * time.Millisecond,
			pauseMax:   10 * time.Second,
			meanLength: 40 * time.Minute,
		},
		storm: regime{
			jitterMean: 60 * time.Millisecond,
			pauseProb:  1.0 / 40,
			pauseMin:   2 * time.Second,
			pauseMax:   20 * time.Second,
			meanLength: 10 * time.Minute,
		},
		runLength:  4 * time.Hour,
		warmup:     30 * time.Minute,
		crashEvery: 300,
	}
}

// trace is one simulated run of heartbeats.
type trace struct {
	sends    []time.Time // when the node sent each heartbeat
	arrivals []time.Time // when each heartbeat reached the detector
	// crashes are the indexes of the heartbeats after which the node is
	// made to crash: for each, the detector's state after that heartbeat
	// is asked when it starts suspecting a node that sends nothing more.
	crashes []int
	// stormCrashes counts the crashes that fall in a stormy period.
	stormCrashes int
}

// generate simulates the scenario with a seeded generator: the same seed
// always yields the same trace.
func (s scenario) generate(seed uint64, start time.Time) trace {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	exp := func(mean time.Duration) time.Duration {
		return time.Duration(rng.ExpFloat64() * float64(mean))
	}
	pause := func(r regime) time.Duration {
		u := 1 - rng.Float64() // in (0, 1]
		return min(time.Duration(float64(r.pauseMin)*math.Pow(u, -1.0/paretoShape)), r.pauseMax)
	}
	cur, other := s.calm, s.storm
	inStorm := false
	regimeEnd := start.Add(exp(cur.meanLength))
	end := start.Add(s.runLength)
	var tr trace
	for send := start; send.Before(end); {
		for !send.Before(regimeEnd) {
			cur, other, inStorm = other, cur, !inStorm
			regimeEnd = regimeEnd.Add(exp(cur.meanLength))
		}
		i := len(tr.sends)
		tr.sends = append(tr.sends, send)
		tr.arrivals = append(tr.arrivals, send.Add(s.baseDelay+exp(cur.jitterMean)))
		if send.Sub(start) >= s.warmup && i%s.crashEvery == 0 {
			tr.crashes = append(tr.crashes, i)
			if inStorm {
				tr.stormCrashes++
			}
		}
		gap := s.interval
		if rng.Float64() < cur.pauseProb {
			gap += pause(cur)
		}
		send = send.Add(gap)
	}
	return tr
}
