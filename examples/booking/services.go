package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/cairndb/cairn/saga"
)

// service is a fake booking service whose state lives in the cluster:
// one key per saga, /booking/<service>/<saga ID>, holding "booked <ref>
// <key>" or "cancelled <ref> <key>". Booking and cancelling are
// compare-and-swap Txns, idempotent by the saga's idempotency key, and a
// cancellation leaves a tombstone, so that a late booking (from an
// executor that lost the saga) cannot resurrect what was cancelled.
type service struct {
	cli  *clientv3.Client
	name string // flight, hotel, payment
	verb string // what booking means: "booked", "charged"
	undo string // what cancelling did: "cancelled", "refunded"
	inf  string // its infinitive: "cancel", "refund"
	ref  string // reference prefix
}

func (s *service) key(sagaID string) string { return "/booking/" + s.name + "/" + sagaID }

// refFor derives the booking reference from the idempotency key, so that a
// repeated call answers the same reference.
func (s *service) refFor(key string) string {
	h := sha256.Sum256([]byte(key))
	return s.ref + "-" + strings.ToUpper(hex.EncodeToString(h[:3]))
}

// book applies the action once per idempotency key and says whether this
// call took effect.
func (s *service) book(ctx context.Context, c *saga.Call, detail string) (ref string, effective bool, err error) {
	k := s.key(c.SagaID)
	ref = s.refFor(c.Key)
	val := fmt.Sprintf("booked %s %s", ref, c.Key)
	resp, err := s.cli.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(k), "=", 0)).
		Then(clientv3.OpPut(k, val)).
		Else(clientv3.OpGet(k)).Commit()
	if err != nil {
		return "", false, err // transient: the executor retries with the same key
	}
	if resp.Succeeded {
		return ref, true, nil
	}
	kvs := resp.Responses[0].GetResponseRange().Kvs
	if len(kvs) == 0 {
		return "", false, fmt.Errorf("%s: booking vanished; retry", s.name)
	}
	cur := string(kvs[0].Value)
	switch {
	case cur == val:
		return ref, false, nil // the same call again: absorbed
	case strings.HasPrefix(cur, "cancelled"):
		return "", false, saga.Permanentf("%s for %s was already cancelled", s.name, c.SagaID)
	default:
		return "", false, saga.Permanentf("%s for %s is held by another request: %s", s.name, c.SagaID, cur)
	}
}

// cancel undoes a booking once per idempotency key; it succeeds as a
// no-op when nothing was booked (leaving a tombstone).
func (s *service) cancel(ctx context.Context, c *saga.Call) (what string, err error) {
	k := s.key(c.SagaID)
	for range 5 {
		resp, err := s.cli.Get(ctx, k)
		if err != nil {
			return "", err
		}
		var cur string
		var rev int64
		if len(resp.Kvs) > 0 {
			cur, rev = string(resp.Kvs[0].Value), resp.Kvs[0].ModRevision
		}
		var next, said string
		switch {
		case strings.HasPrefix(cur, "cancelled"):
			return "already " + s.undo + " (repeat absorbed)", nil
		case cur == "":
			next, said = "cancelled - "+c.Key, "nothing to "+s.inf+" (tombstone left)"
		default:
			f := strings.Fields(cur)
			next, said = fmt.Sprintf("cancelled %s %s", f[1], c.Key), s.undo+" "+f[1]
		}
		tr, err := s.cli.Txn(ctx).If(clientv3.Compare(clientv3.ModRevision(k), "=", rev)).Then(clientv3.OpPut(k, next)).Commit()
		if err != nil {
			return "", err
		}
		if tr.Succeeded {
			return said, nil
		}
	}
	return "", fmt.Errorf("%s: contention on %s; retry", s.name, k)
}
