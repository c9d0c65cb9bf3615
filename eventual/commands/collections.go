package commands

import (
	"github.com/cairndb/cairn/eventual/coord"
	"github.com/cairndb/cairn/eventual/object"
	"github.com/cairndb/cairn/eventual/resp"
)

func stringsOf(args [][]byte) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = string(a)
	}
	return out
}

// countWrite serves a write whose reply is Result.N (SADD, SREM, HDEL).
func (s *Service) countWrite(code coord.OpCode) resp.HandlerFunc {
	return func(w *resp.Writer, r *resp.Request) {
		res, err := s.write(r, r.Args[1], coord.Op{Code: code, Members: stringsOf(r.Args[2:])})
		if err != nil {
			replyErr(w, err)
			return
		}
		w.Integer(res.N)
	}
}

func (s *Service) smembers(w *resp.Writer, r *resp.Request) {
	o, err := s.read(r, r.Args[1])
	if err != nil {
		replyErr(w, err)
		return
	}
	m, err := o.Members(s.nowMs())
	if err != nil {
		replyErr(w, err)
		return
	}
	w.SetLen(len(m))
	for _, e := range m {
		w.BulkString(e)
	}
}

func (s *Service) sismember(w *resp.Writer, r *resp.Request) {
	o, err := s.read(r, r.Args[1])
	if err != nil {
		replyErr(w, err)
		return
	}
	ok, err := o.IsMember(s.nowMs(), string(r.Args[2]))
	if err != nil {
		replyErr(w, err)
		return
	}
	w.Integer(b2i(ok))
}

func (s *Service) smismember(w *resp.Writer, r *resp.Request) {
	o, err := s.read(r, r.Args[1])
	if err != nil {
		replyErr(w, err)
		return
	}
	if _, err := o.Members(s.nowMs()); err != nil {
		replyErr(w, err)
		return
	}
	w.ArrayLen(len(r.Args) - 2)
	for _, m := range r.Args[2:] {
		ok, _ := o.IsMember(s.nowMs(), string(m))
		w.Integer(b2i(ok))
	}
}

func (s *Service) scard(w *resp.Writer, r *resp.Request) {
	o, err := s.read(r, r.Args[1])
	if err != nil {
		replyErr(w, err)
		return
	}
	n, err := o.Card(s.nowMs())
	if err != nil {
		replyErr(w, err)
		return
	}
	w.Integer(int64(n))
}

// hset serves HSET (the number of new fields) and HMSET ("OK").
func (s *Service) hset(ok bool) resp.HandlerFunc {
	return func(w *resp.Writer, r *resp.Request) {
		if len(r.Args)%2 != 0 {
			w.Error(resp.MsgWrongArgs(string(r.Args[0])))
			return
		}
		fields := make([]object.Field, 0, (len(r.Args)-2)/2)
		for i := 2; i < len(r.Args); i += 2 {
			fields = append(fields, object.Field{Name: string(r.Args[i]), Value: r.Args[i+1]})
		}
		res, err := s.write(r, r.Args[1], coord.Op{Code: coord.OpHSet, Fields: fields})
		if err != nil {
			replyErr(w, err)
			return
		}
		if ok {
			w.SimpleString("OK")
		} else {
			w.Integer(res.N)
		}
	}
}

func (s *Service) hget(w *resp.Writer, r *resp.Request) {
	o, err := s.read(r, r.Args[1])
	if err != nil {
		replyErr(w, err)
		return
	}
	v, ok, err := o.HGet(s.nowMs(), string(r.Args[2]))
	switch {
	case err != nil:
		replyErr(w, err)
	case !ok:
		w.Null()
	default:
		w.Bulk(v)
	}
}

func (s *Service) hmget(w *resp.Writer, r *resp.Request) {
	o, err := s.read(r, r.Args[1])
	if err != nil {
		replyErr(w, err)
		return
	}
	if _, err := o.HLen(s.nowMs()); err != nil {
		replyErr(w, err)
		return
	}
	w.ArrayLen(len(r.Args) - 2)
	for _, f := range r.Args[2:] {
		if v, ok, _ := o.HGet(s.nowMs(), string(f)); ok {
			w.Bulk(v)
		} else {
			w.Null()
		}
	}
}

// hgetall serves HGETALL (names and values), HKEYS and HVALS.
func (s *Service) hgetall(names, values bool) resp.HandlerFunc {
	return func(w *resp.Writer, r *resp.Request) {
		o, err := s.read(r, r.Args[1])
		if err != nil {
			replyErr(w, err)
			return
		}
		fields, err := o.HGetAll(s.nowMs())
		if err != nil {
			replyErr(w, err)
			return
		}
		if names && values {
			w.MapLen(len(fields))
		} else {
			w.ArrayLen(len(fields))
		}
		for _, f := range fields {
			if names {
				w.BulkString(f.Name)
			}
			if values {
				w.Bulk(f.Value)
			}
		}
	}
}

func (s *Service) hlen(w *resp.Writer, r *resp.Request) {
	o, err := s.read(r, r.Args[1])
	if err != nil {
		replyErr(w, err)
		return
	}
	n, err := o.HLen(s.nowMs())
	if err != nil {
		replyErr(w, err)
		return
	}
	w.Integer(int64(n))
}

func (s *Service) hexists(w *resp.Writer, r *resp.Request) {
	o, err := s.read(r, r.Args[1])
	if err != nil {
		replyErr(w, err)
		return
	}
	_, ok, err := o.HGet(s.nowMs(), string(r.Args[2]))
	if err != nil {
		replyErr(w, err)
		return
	}
	w.Integer(b2i(ok))
}
