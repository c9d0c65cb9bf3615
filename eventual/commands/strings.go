package commands

import (
	"bytes"
	"strings"

	"github.com/cairndb/cairn/eventual/coord"
	"github.com/cairndb/cairn/eventual/object"
	"github.com/cairndb/cairn/eventual/resp"
	"github.com/cairndb/cairn/paxos"
)

// msgNeedsCAS refuses conditional writes where there is no Paxos path.
const msgNeedsCAS = "ERR this node does not serve compare-and-set (NX, XX, SETNX, CAS)"

func (s *Service) get(w *resp.Writer, r *resp.Request) {
	o, err := s.read(r, r.Args[1])
	if err != nil {
		replyErr(w, err)
		return
	}
	v, ok, err := o.Get(s.nowMs())
	switch {
	case err != nil:
		replyErr(w, err)
	case !ok:
		w.Null()
	default:
		w.Bulk(v)
	}
}

// set serves SET key value [NX|XX] [GET] [EX s|PX ms|EXAT s|PXAT ms|KEEPTTL].
func (s *Service) set(w *resp.Writer, r *resp.Request) {
	op := coord.Op{Code: coord.OpSet, Value: r.Args[2]}
	var get, expirySet bool
	var cond paxos.OpKind
	for i := 3; i < len(r.Args); i++ {
		a := strings.ToUpper(string(r.Args[i]))
		switch a {
		case "NX", "XX":
			if cond != 0 {
				w.Error(resp.MsgSyntax)
				return
			}
			cond = paxos.OpSetNX
			if a == "XX" {
				cond = paxos.OpSetXX
			}
		case "GET":
			get = true
		case "KEEPTTL":
			if expirySet {
				w.Error(resp.MsgSyntax)
				return
			}
			op.SetOpts.KeepTTL, expirySet = true, true
		case "EX", "PX", "EXAT", "PXAT":
			if expirySet || i+1 >= len(r.Args) {
				w.Error(resp.MsgSyntax)
				return
			}
			n, ok := parseInt(r.Args[i+1])
			if !ok {
				w.Error(resp.MsgNotInteger)
				return
			}
			i++
			expirySet = true
			d, ok := s.deadline(a, n)
			if !ok {
				w.Error("ERR invalid expire time in 'set' command")
				return
			}
			op.SetOpts.DeadlineMs = d
		default:
			w.Error(resp.MsgSyntax)
			return
		}
	}
	if cond != 0 {
		s.setCond(w, r, paxos.Op{Kind: cond, Value: copyBytes(r.Args[2]), NowMs: s.nowMs(),
			DeadlineMs: op.SetOpts.DeadlineMs, KeepTTL: op.SetOpts.KeepTTL}, get)
		return
	}
	var old []byte
	var had bool
	if get {
		o, err := s.read(r, r.Args[1])
		if err != nil {
			replyErr(w, err)
			return
		}
		if old, had, err = o.Get(s.nowMs()); err != nil {
			replyErr(w, err)
			return
		}
	}
	if _, err := s.write(r, r.Args[1], op); err != nil {
		replyErr(w, err)
		return
	}
	switch {
	case !get:
		w.SimpleString("OK")
	case had:
		w.Bulk(old)
	default:
		w.Null()
	}
}

// deadline turns an EX/PX/EXAT/PXAT argument into Unix milliseconds.
func (s *Service) deadline(unit string, n int64) (int64, bool) {
	if n <= 0 && (unit == "EX" || unit == "PX") || n < 0 {
		return 0, false
	}
	const maxSec = 1 << 40
	switch unit {
	case "EX":
		if n > maxSec {
			return 0, false
		}
		return s.nowMs() + n*1000, true
	case "PX":
		if n > maxSec*1000 {
			return 0, false
		}
		return s.nowMs() + n, true
	case "EXAT":
		if n > maxSec {
			return 0, false
		}
		return max(n*1000, 1), true
	default: // PXAT
		return max(n, 1), true
	}
}

// setex serves SETEX key seconds value and PSETEX key ms value.
func (s *Service) setex(unit string) resp.HandlerFunc {
	return func(w *resp.Writer, r *resp.Request) {
		n, ok := parseInt(r.Args[2])
		if !ok {
			w.Error(resp.MsgNotInteger)
			return
		}
		d, ok := s.deadline(unit, n)
		if !ok {
			w.Error("ERR invalid expire time in '" + strings.ToLower(string(r.Args[0])) + "' command")
			return
		}
		if _, err := s.write(r, r.Args[1], coord.Op{Code: coord.OpSet, Value: r.Args[3], SetOpts: object.SetOptions{DeadlineMs: d}}); err != nil {
			replyErr(w, err)
			return
		}
		w.SimpleString("OK")
	}
}

// getThen serves GETSET (SET after the read) and GETDEL (DEL after it).
func (s *Service) getThen(code coord.OpCode) resp.HandlerFunc {
	return func(w *resp.Writer, r *resp.Request) {
		o, err := s.read(r, r.Args[1])
		if err != nil {
			replyErr(w, err)
			return
		}
		old, had, err := o.Get(s.nowMs())
		if err != nil {
			replyErr(w, err)
			return
		}
		op := coord.Op{Code: code}
		if code == coord.OpSet {
			op.Value = r.Args[2]
		}
		if code == coord.OpSet || had {
			if _, err := s.write(r, r.Args[1], op); err != nil {
				replyErr(w, err)
				return
			}
		}
		if had {
			w.Bulk(old)
		} else {
			w.Null()
		}
	}
}

func (s *Service) mget(w *resp.Writer, r *resp.Request) {
	keys := r.Args[1:]
	vals := make([][]byte, len(keys))
	found := make([]bool, len(keys))
	for i, k := range keys {
		o, err := s.read(r, k)
		if err != nil {
			replyErr(w, err)
			return
		}
		if v, ok, err := o.Get(s.nowMs()); err == nil && ok {
			vals[i], found[i] = v, true
		}
	}
	w.ArrayLen(len(keys))
	for i := range keys {
		if found[i] {
			w.Bulk(vals[i])
		} else {
			w.Null()
		}
	}
}

// mset writes each pair at the write level; it is not atomic across keys.
func (s *Service) mset(w *resp.Writer, r *resp.Request) {
	if len(r.Args)%2 != 1 {
		w.Error(resp.MsgWrongArgs("mset"))
		return
	}
	for i := 1; i < len(r.Args); i += 2 {
		if _, err := s.write(r, r.Args[i], coord.Op{Code: coord.OpSet, Value: r.Args[i+1]}); err != nil {
			replyErr(w, err)
			return
		}
	}
	w.SimpleString("OK")
}

// incr serves INCR, DECR (by = ±1) and INCRBY, DECRBY (sign = ±1).
func (s *Service) incr(by, sign int64) resp.HandlerFunc {
	return func(w *resp.Writer, r *resp.Request) {
		n := by
		if by == 0 {
			v, ok := parseInt(r.Args[2])
			if !ok || (sign < 0 && v == -1<<63) {
				w.Error(resp.MsgNotInteger)
				return
			}
			n = sign * v
		}
		res, err := s.write(r, r.Args[1], coord.Op{Code: coord.OpIncr, N: n})
		if err != nil {
			replyErr(w, err)
			return
		}
		w.Integer(res.N)
	}
}

func (s *Service) strlen(w *resp.Writer, r *resp.Request) {
	o, err := s.read(r, r.Args[1])
	if err != nil {
		replyErr(w, err)
		return
	}
	v, _, err := o.Get(s.nowMs())
	if err != nil {
		replyErr(w, err)
		return
	}
	w.Integer(int64(len(v)))
}

// appendCmd reads, appends and writes back: concurrent APPENDs to one key
// keep only the later one (LWW).
func (s *Service) appendCmd(w *resp.Writer, r *resp.Request) {
	o, err := s.read(r, r.Args[1])
	if err != nil {
		replyErr(w, err)
		return
	}
	v, _, err := o.Get(s.nowMs())
	if err != nil {
		replyErr(w, err)
		return
	}
	nv := bytes.Join([][]byte{v, r.Args[2]}, nil)
	if _, err := s.write(r, r.Args[1], coord.Op{Code: coord.OpSet, Value: nv, SetOpts: object.SetOptions{KeepTTL: true}}); err != nil {
		replyErr(w, err)
		return
	}
	w.Integer(int64(len(nv)))
}
