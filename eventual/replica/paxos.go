package replica

import (
	"errors"
	"fmt"

	"github.com/cairndb/cairn/eventual/object"
	"github.com/cairndb/cairn/ring"
	"github.com/cockroachdb/pebble/v2"
)

// Paxos acceptor states live beside the objects:
//
//	"\x04ep" | key → the key's encoded acceptor state (package paxos)
//
// and the proposer's epoch counter in the store's metadata.
const prefixPaxos = "\x04ep"

var metaPaxosEpoch = []byte(prefixMeta + "paxos-epoch")

// PaxosStep is what a Paxos acceptor step asks the store to write.
type PaxosStep struct {
	// State is the key's new encoded acceptor state; nil keeps the old one.
	State []byte
	// Sync makes the write durable before PaxosUpdate returns.
	Sync bool
	// Delta, if not zero, is a change to the key's Object made in the same
	// atomic write (a commit installs its chosen value).
	Delta object.Object
}

// PaxosUpdate runs fn on key's acceptor state under the key's lock: fn gets
// the encoded state (nil if none) and the key's Object (which it may change,
// returning the change as Delta), and says what to write. The state and the
// Object are written in one atomic batch, durable before PaxosUpdate returns
// when Sync is set.
func (s *Store) PaxosUpdate(key []byte, fn func(state []byte, o *object.Object) (PaxosStep, error)) error {
	sync, err := s.paxosUpdate(key, fn)
	if err == nil && sync {
		if err = s.db.LogData(nil, pebble.Sync); err != nil {
			s.m.errors.WithLabelValues("sync").Inc()
		}
	}
	return err
}

func (s *Store) paxosUpdate(key []byte, fn func(state []byte, o *object.Object) (PaxosStep, error)) (bool, error) {
	t := ring.HashKey(key)
	pk := objectKey(nil, t, key)
	sk := append([]byte(prefixPaxos), key...)
	mu := s.stripe(t)
	mu.Lock()
	defer mu.Unlock()
	var state []byte
	v, closer, err := s.db.Get(sk)
	switch {
	case err == nil:
		state = append([]byte(nil), v...)
		closer.Close()
	case !errors.Is(err, pebble.ErrNotFound):
		return false, fmt.Errorf("replica: read paxos state: %w", err)
	}
	o, before, err := s.get(key, pk, true)
	if err != nil {
		return false, err
	}
	step, err := fn(state, &o)
	if err != nil {
		return false, err
	}
	if step.State == nil && step.Delta.IsZero() {
		return false, nil
	}
	b := s.db.NewBatch()
	defer b.Close()
	if step.State != nil {
		_ = b.Set(sk, step.State, nil)
	}
	var after []byte
	if !step.Delta.IsZero() {
		after = o.AppendBinary(nil)
		_ = b.Set(pk, after, nil)
		s.indexNew(pk, before)
	}
	var done func(key, before, after []byte, ok bool)
	if after != nil && s.cfg.Observer != nil {
		done = s.cfg.Observer.BeginWrite(t)
	}
	err = b.Commit(pebble.NoSync)
	if after != nil {
		if err == nil {
			s.cache.put(key, after)
		} else {
			s.cache.drop(key)
		}
	}
	if done != nil {
		done(key, before, after, err == nil)
	}
	if err != nil {
		s.m.errors.WithLabelValues("write").Inc()
		return false, fmt.Errorf("replica: write paxos state: %w", err)
	}
	if after != nil {
		s.m.writes.WithLabelValues("paxos").Inc()
	}
	// A commit (a Delta without Sync) need not be durable: a replica that
	// loses it is repaired by the next round on the key.
	return step.Sync, nil
}

// NextPaxosEpoch raises and returns the store's Paxos proposer epoch,
// durably: every start of a proposer must use a new epoch (see package
// paxos).
func (s *Store) NextPaxosEpoch() (uint64, error) {
	var epoch uint64
	v, closer, err := s.db.Get(metaPaxosEpoch)
	switch {
	case err == nil:
		if len(v) == 8 {
			for _, c := range v {
				epoch = epoch<<8 | uint64(c)
			}
		}
		closer.Close()
	case !errors.Is(err, pebble.ErrNotFound):
		return 0, err
	}
	epoch++
	var b [8]byte
	for i := range 8 {
		b[i] = byte(epoch >> (56 - 8*i))
	}
	if err := s.db.Set(metaPaxosEpoch, b[:], pebble.Sync); err != nil {
		return 0, err
	}
	return epoch, nil
}
