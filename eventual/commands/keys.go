package commands

import (
	"github.com/cairndb/cairn/eventual/coord"
	"github.com/cairndb/cairn/eventual/resp"
)

// del serves DEL and UNLINK: the number of keys that existed.
func (s *Service) del(w *resp.Writer, r *resp.Request) {
	var n int64
	for _, k := range r.Args[1:] {
		res, err := s.write(r, k, coord.Op{Code: coord.OpDel})
		if err != nil {
			replyErr(w, err)
			return
		}
		if res.OK {
			n++
		}
	}
	w.Integer(n)
}

func (s *Service) exists(w *resp.Writer, r *resp.Request) {
	var n int64
	for _, k := range r.Args[1:] {
		o, err := s.read(r, k)
		if err != nil {
			replyErr(w, err)
			return
		}
		if o.Visible(s.nowMs()) {
			n++
		}
	}
	w.Integer(n)
}

func (s *Service) typeCmd(w *resp.Writer, r *resp.Request) {
	o, err := s.read(r, r.Args[1])
	if err != nil {
		replyErr(w, err)
		return
	}
	w.SimpleString(o.Kind(s.nowMs()).String())
}

// expire serves EXPIRE (unit "EX"), PEXPIRE ("PX"), EXPIREAT ("EXAT") and
// PEXPIREAT ("PXAT").
func (s *Service) expire(unit string) resp.HandlerFunc {
	return func(w *resp.Writer, r *resp.Request) {
		if len(r.Args) > 3 {
			w.Error("ERR the NX, XX, GT and LT options of EXPIRE are not supported")
			return
		}
		n, ok := parseInt(r.Args[2])
		if !ok {
			w.Error(resp.MsgNotInteger)
			return
		}
		var d int64
		switch unit {
		case "EX":
			d = s.nowMs() + n*1000
		case "PX":
			d = s.nowMs() + n
		case "EXAT":
			d = n * 1000
		default:
			d = n
		}
		if n > 1<<44 || n < -(1<<44) {
			w.Error("ERR invalid expire time in '" + string(r.Args[0]) + "' command")
			return
		}
		res, err := s.write(r, r.Args[1], coord.Op{Code: coord.OpExpire, N: d})
		if err != nil {
			replyErr(w, err)
			return
		}
		w.Integer(b2i(res.OK))
	}
}

// ttl serves TTL (seconds) and PTTL (milliseconds).
func (s *Service) ttl(ms bool) resp.HandlerFunc {
	return func(w *resp.Writer, r *resp.Request) {
		o, err := s.read(r, r.Args[1])
		if err != nil {
			replyErr(w, err)
			return
		}
		t := o.TTL(s.nowMs())
		if t >= 0 && !ms {
			t = (t + 500) / 1000 // Redis rounds to the nearest second
		}
		w.Integer(t)
	}
}

func (s *Service) persist(w *resp.Writer, r *resp.Request) {
	res, err := s.write(r, r.Args[1], coord.Op{Code: coord.OpPersist})
	if err != nil {
		replyErr(w, err)
		return
	}
	w.Integer(b2i(res.OK))
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
