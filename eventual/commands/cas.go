package commands

import (
	"context"
	"errors"
	"fmt"

	"github.com/cairndb/cairn/eventual/resp"
	"github.com/cairndb/cairn/paxos"
)

// CASCoordinator is the compare-and-set path of package coord: linearizable
// operations on a key's register through Paxos among its replicas.
type CASCoordinator interface {
	CAS(ctx context.Context, key []byte, op paxos.Op) (paxos.Result, error)
}

// cas runs op through Paxos, or reports that this node has no CAS path.
func (s *Service) cas(r *resp.Request, key []byte, op paxos.Op) (paxos.Result, error) {
	cc, ok := s.cfg.Coordinator.(CASCoordinator)
	if !ok {
		return paxos.Result{}, errors.New(msgNeedsCAS)
	}
	ctx, cancel := s.ctx(r)
	defer cancel()
	return cc.CAS(ctx, key, op)
}

// replyCASErr writes a Paxos failure in a form a client can act on.
func replyCASErr(w *resp.Writer, err error) {
	var pe *paxos.Error
	if !errors.As(err, &pe) {
		replyErr(w, err)
		return
	}
	effect := "it had no effect"
	if pe.MaybeApplied {
		effect = "it may or may not take effect"
	}
	switch {
	case errors.Is(err, paxos.ErrNoQuorum):
		w.Error(fmt.Sprintf("NOQUORUM compare-and-set needs %d of %d replicas, %d answered; %s", pe.Needed, pe.Replicas, pe.Answered, effect))
	case errors.Is(err, paxos.ErrContention):
		w.Error(fmt.Sprintf("CONTENTION compare-and-set lost to concurrent writers after %d attempts; %s", pe.Attempts, effect))
	default:
		w.Error(fmt.Sprintf("TIMEOUT compare-and-set did not complete after %d attempts; %s", pe.Attempts, effect))
	}
}

// setCond serves SET key value NX|XX [GET] [expiry]: reply OK or nil (with
// GET, the old value or nil).
func (s *Service) setCond(w *resp.Writer, r *resp.Request, op paxos.Op, get bool) {
	res, err := s.cas(r, r.Args[1], op)
	if err != nil {
		replyCASErr(w, err)
		return
	}
	switch {
	case get && res.Prev.Present:
		w.Bulk(res.Prev.Data)
	case get, !res.Applied:
		w.Null()
	default:
		w.SimpleString("OK")
	}
}

// setnx serves SETNX key value: 1 if set, 0 if the key existed.
func (s *Service) setnx(w *resp.Writer, r *resp.Request) {
	res, err := s.cas(r, r.Args[1], paxos.Op{Kind: paxos.OpSetNX, Value: copyBytes(r.Args[2])})
	if err != nil {
		replyCASErr(w, err)
		return
	}
	w.Integer(b2i(res.Applied))
}

// casCmd serves CAIRN.CAS key expected new (cairn): 1 if the key held expected
// and now holds new, 0 otherwise.
func (s *Service) casCmd(w *resp.Writer, r *resp.Request) {
	res, err := s.cas(r, r.Args[1], paxos.Op{Kind: paxos.OpCAS, Expected: copyBytes(r.Args[2]), Value: copyBytes(r.Args[3])})
	if err != nil {
		replyCASErr(w, err)
		return
	}
	w.Integer(b2i(res.Applied))
}

// cad serves CAIRN.CAD key expected (cairn): delete if the key holds expected.
func (s *Service) cad(w *resp.Writer, r *resp.Request) {
	res, err := s.cas(r, r.Args[1], paxos.Op{Kind: paxos.OpDeleteIf, Expected: copyBytes(r.Args[2])})
	if err != nil {
		replyCASErr(w, err)
		return
	}
	w.Integer(b2i(res.Applied))
}

// lget serves CAIRN.LGET key (cairn): a linearizable read of the key's register.
func (s *Service) lget(w *resp.Writer, r *resp.Request) {
	res, err := s.cas(r, r.Args[1], paxos.Op{Kind: paxos.OpGet})
	if err != nil {
		replyCASErr(w, err)
		return
	}
	if res.Prev.Present {
		w.Bulk(res.Prev.Data)
	} else {
		w.Null()
	}
}
