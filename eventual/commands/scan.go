package commands

import (
	"context"
	"strconv"
	"strings"

	"github.com/cairndb/cairn/eventual/resp"
)

// KeyScanner is the key listing of package coord: a scan across the ring.
type KeyScanner interface {
	ScanKeys(ctx context.Context, cursor uint64, pattern string, count int) ([][]byte, uint64, error)
}

// maxKeysReply bounds what KEYS and DBSIZE gather (they walk the whole
// keyspace; SCAN is the way past it).
const maxKeysReply = 1 << 20

func (s *Service) scanner() (KeyScanner, bool) {
	ks, ok := s.cfg.Coordinator.(KeyScanner)
	return ks, ok
}

// scanCmd serves SCAN cursor [MATCH pattern] [COUNT count].
func (s *Service) scanCmd(w *resp.Writer, r *resp.Request) {
	cursor, err := strconv.ParseUint(string(r.Args[1]), 10, 64)
	if err != nil {
		w.Error(resp.MsgInvalidCursor)
		return
	}
	pattern, count := "", 10
	for i := 2; i < len(r.Args); i += 2 {
		if i+1 >= len(r.Args) {
			w.Error(resp.MsgSyntax)
			return
		}
		switch strings.ToUpper(string(r.Args[i])) {
		case "MATCH":
			pattern = string(r.Args[i+1])
		case "COUNT":
			n, ok := parseInt(r.Args[i+1])
			if !ok || n < 1 {
				w.Error(resp.MsgSyntax)
				return
			}
			count = int(min(n, 100000))
		default:
			w.Error(resp.MsgSyntax)
			return
		}
	}
	ks, ok := s.scanner()
	if !ok {
		w.Error("ERR this node cannot list keys")
		return
	}
	ctx, cancel := s.ctx(r)
	defer cancel()
	keys, next, err := ks.ScanKeys(ctx, cursor, pattern, count)
	if err != nil {
		replyErr(w, err)
		return
	}
	w.ArrayLen(2)
	w.BulkString(strconv.FormatUint(next, 10))
	w.ArrayLen(len(keys))
	for _, k := range keys {
		w.Bulk(k)
	}
}

// allKeys walks the whole scan, up to maxKeysReply keys.
func (s *Service) allKeys(r *resp.Request, pattern string) ([][]byte, error) {
	ks, ok := s.scanner()
	if !ok {
		return nil, errNoScan
	}
	ctx, cancel := context.WithTimeout(r.Conn.Context(), 10*s.cfg.Timeout)
	defer cancel()
	var out [][]byte
	cursor := uint64(0)
	for {
		keys, next, err := ks.ScanKeys(ctx, cursor, pattern, 1000)
		if err != nil {
			return nil, err
		}
		out = append(out, keys...)
		if len(out) > maxKeysReply {
			return nil, errTooManyKeys
		}
		if next == 0 {
			return out, nil
		}
		cursor = next
	}
}

type cmdError string

func (e cmdError) Error() string { return string(e) }

const (
	errNoScan      = cmdError("ERR this node cannot list keys")
	errTooManyKeys = cmdError("ERR more than 1048576 keys: use SCAN")
)

// keys serves KEYS pattern.
func (s *Service) keys(w *resp.Writer, r *resp.Request) {
	keys, err := s.allKeys(r, string(r.Args[1]))
	if err != nil {
		replyErr(w, err)
		return
	}
	w.ArrayLen(len(keys))
	for _, k := range keys {
		w.Bulk(k)
	}
}

// dbsize serves DBSIZE by counting through a scan (O(keys), unlike Redis).
func (s *Service) dbsize(w *resp.Writer, r *resp.Request) {
	keys, err := s.allKeys(r, "")
	if err != nil {
		replyErr(w, err)
		return
	}
	w.Integer(int64(len(keys)))
}
