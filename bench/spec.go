package bench

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Kind names a workload. The zero value is unset.
type Kind string

// The workloads. The strong tier's go through etcd's clientv3, the
// eventual tier's through go-redis.
const (
	KindPut   Kind = "put"   // strong: Put of a key from the key space
	KindRange Kind = "range" // strong: Get (Range) of RangeKey [to RangeEnd)
	KindTxn   Kind = "txn"   // strong: Txn If(Version(key) > -1) Then(TxnOps puts)
	KindWatch Kind = "watch" // strong: Watchers watch a prefix; clients put into it; latency is put sent -> event received
	KindSet   Kind = "set"   // eventual: SET key value
	KindGet   Kind = "get"   // eventual: GET key (the key space is written first)
	KindIncr  Kind = "incr"  // eventual: INCR key
	KindSAdd  Kind = "sadd"  // eventual: SADD key member
	KindMixed Kind = "mixed" // eventual: GET with probability ReadRatio, else SET
)

// Kinds lists every workload, strong tier first.
var Kinds = []Kind{KindPut, KindRange, KindTxn, KindWatch, KindSet, KindGet, KindIncr, KindSAdd, KindMixed}

// Strong reports whether the workload speaks the etcd v3 API (else RESP).
func (k Kind) Strong() bool {
	switch k {
	case KindPut, KindRange, KindTxn, KindWatch:
		return true
	}
	return false
}

// Valid reports whether k is one of Kinds.
func (k Kind) Valid() bool {
	for _, v := range Kinds {
		if k == v {
			return true
		}
	}
	return false
}

// Bounds of a Spec, checked by Validate. Past a bound the spec is refused
// with an error that names the field.
const (
	MaxClients   = 20_000
	MaxKeySize   = 4096
	MaxValueSize = 1 << 20
	MaxKeySpace  = 1 << 30
	MaxDuration  = 24 * time.Hour
	MaxPipeline  = 10_000
	MaxTxnOps    = 128 // cairn's and etcd's default --max-txn-ops
	MaxWatchers  = 100_000
)

// Spec describes one workload run completely: what each request does, how
// many clients send, and when the run stops. It is stored in every Result,
// so a result says what produced it.
type Spec struct {
	// Name labels the workload in tables and plots (default: Kind).
	Name string `json:"name"`
	Kind Kind   `json:"kind"`
	// Clients is the number of concurrent senders (closed loop: each sends
	// its next request when the previous one is answered, unless Rate).
	Clients int `json:"clients"`
	// Conns is the number of gRPC connections (strong tier); client i uses
	// connection i mod Conns, as etcd's benchmark does. The eventual tier
	// gives every client its own connection, as redis-benchmark does.
	Conns int `json:"conns,omitempty"`
	// Total stops the run after this many requests; 0 runs for Duration.
	Total int64 `json:"total,omitempty"`
	// Duration stops the run after this long, when Total is 0.
	Duration Seconds `json:"duration_s,omitempty"`
	// Rate paces all clients together to this many requests per second
	// (open loop; latency counted from each request's due time); 0 sends
	// as fast as the clients can.
	Rate float64 `json:"rate,omitempty"`
	// KeySize, ValueSize and KeySpace shape the keys: a key is a per-kind
	// prefix and a zero-padded number in [0, KeySpace), KeySize bytes in
	// all; values are ValueSize bytes.
	KeySize   int `json:"key_size"`
	ValueSize int `json:"value_size"`
	KeySpace  int `json:"key_space"`
	// Sequential takes keys in order (wrapping at KeySpace) instead of at
	// random.
	Sequential bool `json:"sequential,omitempty"`
	// RangeKey and RangeEnd are what range reads (RangeEnd "" = one key).
	RangeKey string `json:"range_key,omitempty"`
	RangeEnd string `json:"range_end,omitempty"`
	// Serializable makes range read any member's local state instead of a
	// linearizable read (etcd's --consistency=s).
	Serializable bool `json:"serializable,omitempty"`
	// TxnOps is the number of puts in each txn.
	TxnOps int `json:"txn_ops,omitempty"`
	// Watchers is the number of watch streams of the watch workload,
	// spread over Conns connections.
	Watchers int `json:"watchers,omitempty"`
	// Pipeline sends this many commands per round trip (redis-benchmark's
	// -P); each counts as a request with the pipeline's latency.
	Pipeline int `json:"pipeline,omitempty"`
	// Consistency, when set, is sent as CAIRN.CONSISTENCY <Consistency> on
	// every new RESP connection (cairn's per-connection level: ONE, TWO,
	// QUORUM, ALL, a count, or "read write"). Leave it empty against a real
	// Redis.
	Consistency string `json:"consistency,omitempty"`
	// ReadRatio is mixed's fraction of GETs in [0, 1].
	ReadRatio float64 `json:"read_ratio,omitempty"`
	// Members is the member space of sadd.
	Members int `json:"members,omitempty"`
	// Seed makes the key sequence reproducible (client i uses Seed+i).
	Seed int64 `json:"seed"`
}

// Seconds is a duration stored in JSON as float seconds.
type Seconds float64

// D converts to a time.Duration.
func (s Seconds) D() time.Duration { return time.Duration(float64(s) * float64(time.Second)) }

// Secs converts a time.Duration to Seconds.
func Secs(d time.Duration) Seconds { return Seconds(d.Seconds()) }

// DefaultSpec returns the defaults of a workload: etcd benchmark's shape
// for the strong tier (8-byte keys over 100,000, 256-byte values) and
// redis-benchmark's for the eventual tier (50 clients, 3-byte values are
// its default but 256 keeps the two tiers comparable).
func DefaultSpec(k Kind) Spec {
	s := Spec{
		Name: string(k), Kind: k, Clients: 1, Conns: 1, Duration: 10,
		KeySize: 8, ValueSize: 256, KeySpace: 100_000, Seed: 1,
		RangeKey: "foo", TxnOps: 1, Watchers: 1, Pipeline: 1, ReadRatio: 0.9, Members: 1000,
	}
	if !k.Strong() {
		s.Clients, s.Conns = 50, 0
	}
	if k == KindWatch {
		// 50 putters keep up 1,000 puts/s while a put takes under 50 ms.
		s.Watchers, s.Clients, s.Rate = 100, 50, 1000
	}
	return s
}

// Validate checks every field against its bound and the rules between
// fields, and fills the defaults that depend on other fields (Name, Conns).
func (s *Spec) Validate() error {
	if !s.Kind.Valid() {
		return fmt.Errorf("unknown workload %q (one of %s)", s.Kind, kindList())
	}
	if s.Name == "" {
		s.Name = string(s.Kind)
	}
	if s.Clients < 1 || s.Clients > MaxClients {
		return fmt.Errorf("%s: clients %d out of [1, %d]", s.Name, s.Clients, MaxClients)
	}
	if s.Kind.Strong() {
		limit := s.Clients
		if s.Kind == KindWatch {
			limit = max(s.Clients, s.Watchers)
		}
		if s.Conns < 1 || s.Conns > limit {
			return fmt.Errorf("%s: conns %d out of [1, %d] (at most one per client or watcher)", s.Name, s.Conns, limit)
		}
	}
	if s.Total < 0 || (s.Total == 0 && (s.Duration <= 0 || s.Duration.D() > MaxDuration)) {
		return fmt.Errorf("%s: need a total > 0 or a duration in (0, %s]", s.Name, MaxDuration)
	}
	if s.Rate < 0 || s.Rate > MaxRate || math.IsNaN(s.Rate) {
		return fmt.Errorf("%s: rate %g out of [0, %d]", s.Name, s.Rate, MaxRate)
	}
	if s.KeySize < 1 || s.KeySize > MaxKeySize {
		return fmt.Errorf("%s: key size %d out of [1, %d]", s.Name, s.KeySize, MaxKeySize)
	}
	if s.ValueSize < 0 || s.ValueSize > MaxValueSize {
		return fmt.Errorf("%s: value size %d out of [0, %d]", s.Name, s.ValueSize, MaxValueSize)
	}
	if s.KeySpace < 1 || s.KeySpace > MaxKeySpace {
		return fmt.Errorf("%s: key space %d out of [1, %d]", s.Name, s.KeySpace, MaxKeySpace)
	}
	if need := len(keyPrefix(s.Kind)) + len(strconv.Itoa(s.KeySpace-1)); need > s.KeySize {
		return fmt.Errorf("%s: key size %d cannot hold %d keys (needs %d bytes)", s.Name, s.KeySize, s.KeySpace, need)
	}
	switch s.Kind {
	case KindRange:
		if s.RangeKey == "" {
			return fmt.Errorf("%s: range needs a key", s.Name)
		}
	case KindTxn:
		if s.TxnOps < 1 || s.TxnOps > MaxTxnOps {
			return fmt.Errorf("%s: txn ops %d out of [1, %d]", s.Name, s.TxnOps, MaxTxnOps)
		}
	case KindWatch:
		if s.Watchers < 1 || s.Watchers > MaxWatchers {
			return fmt.Errorf("%s: watchers %d out of [1, %d]", s.Name, s.Watchers, MaxWatchers)
		}
		if s.ValueSize < watchStampBytes {
			return fmt.Errorf("%s: watch values carry an %d-byte send time: value size must be at least %d", s.Name, watchStampBytes, watchStampBytes)
		}
	case KindMixed:
		if s.ReadRatio < 0 || s.ReadRatio > 1 || math.IsNaN(s.ReadRatio) {
			return fmt.Errorf("%s: read ratio %g out of [0, 1]", s.Name, s.ReadRatio)
		}
	case KindSAdd:
		if s.Members < 1 || s.Members > MaxKeySpace {
			return fmt.Errorf("%s: members %d out of [1, %d]", s.Name, s.Members, MaxKeySpace)
		}
	}
	if s.Kind.Strong() {
		s.Pipeline = max(s.Pipeline, 1)
		if s.Pipeline != 1 {
			return fmt.Errorf("%s: pipelining is a RESP setting", s.Name)
		}
	} else if s.Pipeline < 1 || s.Pipeline > MaxPipeline {
		return fmt.Errorf("%s: pipeline %d out of [1, %d]", s.Name, s.Pipeline, MaxPipeline)
	}
	return nil
}

// Batch is the number of requests one round trip carries.
func (s *Spec) Batch() int { return max(s.Pipeline, 1) }

func kindList() string {
	var names []string
	for _, k := range Kinds {
		names = append(names, string(k))
	}
	return strings.Join(names, ", ")
}

// ParseRatio parses mixed's read:write ratio, "9:1" or a fraction "0.9".
func ParseRatio(s string) (float64, error) {
	if r, w, ok := strings.Cut(s, ":"); ok {
		rn, err1 := strconv.ParseFloat(strings.TrimSpace(r), 64)
		wn, err2 := strconv.ParseFloat(strings.TrimSpace(w), 64)
		if err1 != nil || err2 != nil || rn < 0 || wn < 0 || rn+wn == 0 || math.IsInf(rn+wn, 0) || math.IsNaN(rn+wn) {
			return 0, fmt.Errorf("ratio %q: want reads:writes, two non-negative numbers, not both 0", s)
		}
		return rn / (rn + wn), nil
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || f < 0 || f > 1 || math.IsNaN(f) {
		return 0, fmt.Errorf("ratio %q: want reads:writes (9:1) or a read fraction in [0, 1]", s)
	}
	return f, nil
}
