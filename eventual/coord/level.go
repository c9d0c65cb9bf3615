package coord

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Level is a consistency level: how many of a key's N replicas must answer
// a read (R) or acknowledge a write (W).
type Level struct {
	// Kind is ONE, TWO, QUORUM, ALL, or Explicit for a fixed count.
	Kind LevelKind
	// Count is the count of an Explicit level.
	Count int
}

// LevelKind names a level.
type LevelKind uint8

// The level kinds.
const (
	One LevelKind = iota + 1
	Two
	Quorum
	All
	Explicit
)

// Named levels.
var (
	LevelOne    = Level{Kind: One}
	LevelQuorum = Level{Kind: Quorum}
	LevelAll    = Level{Kind: All}
)

// Need returns how many of n replicas the level needs.
func (l Level) Need(n int) int {
	switch l.Kind {
	case One:
		return 1
	case Two:
		return min(2, n)
	case All:
		return n
	case Explicit:
		return min(max(l.Count, 1), n)
	default: // Quorum
		return n/2 + 1
	}
}

func (l Level) String() string {
	switch l.Kind {
	case One:
		return "ONE"
	case Two:
		return "TWO"
	case Quorum:
		return "QUORUM"
	case All:
		return "ALL"
	case Explicit:
		return strconv.Itoa(l.Count)
	}
	return "?"
}

// ParseLevel parses ONE, TWO, QUORUM, ALL (any case) or a positive count.
func ParseLevel(s string) (Level, error) {
	switch strings.ToUpper(s) {
	case "ONE", "1":
		return LevelOne, nil
	case "TWO":
		return Level{Kind: Two}, nil
	case "QUORUM":
		return LevelQuorum, nil
	case "ALL":
		return LevelAll, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 255 {
		return Level{}, fmt.Errorf("unknown consistency level %q (ONE, TWO, QUORUM, ALL or a count)", s)
	}
	return Level{Kind: Explicit, Count: n}, nil
}

// ErrUnavailable is wrapped by every *UnavailableError.
var ErrUnavailable = errors.New("consistency level not met")

// UnavailableError reports a request that could not reach its level: how
// many replicas it needed and how many answered. A write that fails this way
// may still have been applied on the replicas that answered, as in
// Cassandra; it is not undone.
type UnavailableError struct {
	Op       string // "read" or "write"
	Level    Level
	Need     int
	Answered int
	Replicas int
}

func (e *UnavailableError) Error() string {
	return fmt.Sprintf("NOQUORUM %s at consistency %s needs %d of %d replicas, %d answered",
		e.Op, e.Level, e.Need, e.Replicas, e.Answered)
}

// Unwrap makes errors.Is(err, ErrUnavailable) true.
func (e *UnavailableError) Unwrap() error { return ErrUnavailable }

// Other errors.
var (
	// ErrMalformed wraps every decoding failure of a peer message.
	ErrMalformed = errors.New("eventual: malformed message")
	// ErrClockSkew is returned when a peer's clock is further ahead than
	// the HLC's max offset allows: its writes are refused rather than
	// ordered wrongly.
	ErrClockSkew = errors.New("ERR clock skew: a replica's clock is ahead of this node's by more than the allowed offset")
	// ErrTimeout is wrapped when a replica did not answer in time: the
	// request may or may not have taken effect.
	ErrTimeout = errors.New("TIMEOUT")
	// ErrClosed is returned after Close.
	ErrClosed = errors.New("eventual: coordinator closed")
)
