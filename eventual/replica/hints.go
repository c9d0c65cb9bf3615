package replica

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/cairndb/cairn/eventual/object"
	"github.com/cockroachdb/pebble/v2"
)

// Hint is a write held for a replica that could not take it: a sloppy
// quorum's stand-in keeps it and replays it when the owner is back.
type Hint struct {
	// Seq orders the hints for one target.
	Seq uint64
	// Key and Delta are the write.
	Key   []byte
	Delta object.Object
	// Created is when the hint was stored.
	Created time.Time
}

// ErrHintsFull is returned by AddHint when the target already has
// MaxHintsPerTarget hints.
var ErrHintsFull = errors.New("replica: hint queue for the target is full")

func hintKey(target, seq uint64) []byte {
	k := make([]byte, 0, len(prefixHint)+16)
	k = append(k, prefixHint...)
	k = binary.BigEndian.AppendUint64(k, target)
	return binary.BigEndian.AppendUint64(k, seq)
}

// loadHints counts the stored hints per target and finds the last sequence.
func (s *Store) loadHints() error {
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: []byte(prefixHint), UpperBound: prefixEnd(prefixHint)})
	if err != nil {
		return err
	}
	defer it.Close()
	for it.First(); it.Valid(); it.Next() {
		k := it.Key()[len(prefixHint):]
		if len(k) != 16 {
			continue
		}
		target, seq := binary.BigEndian.Uint64(k), binary.BigEndian.Uint64(k[8:])
		s.hints[target]++
		s.hintSeq = max(s.hintSeq, seq)
	}
	for target, n := range s.hints {
		s.m.hintsHeld.WithLabelValues(nodeLabel(target)).Set(float64(n))
	}
	return it.Error()
}

// AddHint stores a write for target, as durably as the store's writes: a
// hint stands in for an acknowledged replica write, so it is synced in
// SyncAlways mode, and left to the periodic sync otherwise, like the
// write it stands in for. (Every hint was synced before: under overload,
// where applies time out by the thousand, that turned into one fsync per
// hint on top of the overload.)
func (s *Store) AddHint(target uint64, key []byte, delta object.Object, now time.Time) error {
	s.hintMu.Lock()
	if s.hints[target] >= s.cfg.MaxHintsPerTarget {
		s.hintMu.Unlock()
		s.m.hints.WithLabelValues("dropped_full").Inc()
		return ErrHintsFull
	}
	s.hintSeq++
	seq := s.hintSeq
	s.hints[target]++
	n := s.hints[target]
	s.hintMu.Unlock()
	v := binary.AppendUvarint(nil, uint64(now.UnixMilli()))
	v = binary.AppendUvarint(v, uint64(len(key)))
	v = append(v, key...)
	v = delta.AppendBinary(v)
	opt := pebble.NoSync
	if s.cfg.Sync == SyncAlways {
		opt = pebble.Sync
	}
	if err := s.db.Set(hintKey(target, seq), v, opt); err != nil {
		s.hintMu.Lock()
		s.hints[target]--
		s.hintMu.Unlock()
		s.m.errors.WithLabelValues("hint").Inc()
		return fmt.Errorf("replica: store hint: %w", err)
	}
	s.m.hints.WithLabelValues("stored").Inc()
	s.m.hintsHeld.WithLabelValues(nodeLabel(target)).Set(float64(n))
	return nil
}

// HintTargets returns the nodes this store holds hints for.
func (s *Store) HintTargets() []uint64 {
	s.hintMu.Lock()
	defer s.hintMu.Unlock()
	out := make([]uint64, 0, len(s.hints))
	for t, n := range s.hints {
		if n > 0 {
			out = append(out, t)
		}
	}
	return out
}

// Hints returns up to max of target's oldest hints.
func (s *Store) Hints(target uint64, max int) ([]Hint, error) {
	lo := hintKey(target, 0)
	hi := hintKey(target+1, 0)
	if target == ^uint64(0) {
		hi = prefixEnd(prefixHint)
	}
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var out []Hint
	for it.First(); it.Valid() && len(out) < max; it.Next() {
		h, err := decodeHint(it.Key(), it.Value())
		if err != nil {
			s.m.errors.WithLabelValues("decode").Inc()
			s.log.Error("dropping a corrupt hint", "err", err)
			_ = s.db.Delete(it.Key(), pebble.NoSync)
			continue
		}
		out = append(out, h)
	}
	return out, it.Error()
}

func decodeHint(k, v []byte) (Hint, error) {
	if len(k) != len(prefixHint)+16 {
		return Hint{}, errors.New("bad hint key")
	}
	created, n := binary.Uvarint(v)
	if n <= 0 {
		return Hint{}, errors.New("bad hint time")
	}
	v = v[n:]
	kl, n := binary.Uvarint(v)
	if n <= 0 || kl > uint64(len(v)-n) {
		return Hint{}, errors.New("bad hint key length")
	}
	key := append([]byte(nil), v[n:n+int(kl)]...)
	d, err := object.Decode(v[n+int(kl):])
	if err != nil {
		return Hint{}, err
	}
	return Hint{Seq: binary.BigEndian.Uint64(k[len(prefixHint)+8:]), Key: key, Delta: d,
		Created: time.UnixMilli(int64(created))}, nil
}

// DeleteHint removes one of target's hints, once replayed (result
// "replayed") or given up on (result "expired").
func (s *Store) DeleteHint(target, seq uint64, result string) error {
	if err := s.db.Delete(hintKey(target, seq), pebble.NoSync); err != nil {
		return err
	}
	s.hintMu.Lock()
	s.hints[target]--
	n := s.hints[target]
	if n <= 0 {
		delete(s.hints, target)
	}
	s.hintMu.Unlock()
	s.m.hints.WithLabelValues(result).Inc()
	s.m.hintsHeld.WithLabelValues(nodeLabel(target)).Set(float64(max(n, 0)))
	return nil
}

// prefixEnd is the first key after every key that starts with p.
func prefixEnd(p string) []byte {
	b := []byte(p)
	b[len(b)-1]++
	return b
}
