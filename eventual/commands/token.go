package commands

import (
	"encoding/base64"
	"encoding/binary"
	"errors"

	"github.com/cairndb/cairn/eventual/object"
	"github.com/cairndb/cairn/eventual/resp"
)

// Causal tokens carry a session's context to another connection:
// CAIRN.TOKEN returns what this connection has written and read (the states
// in its session window, most recent first, up to maxTokenBytes), and
// CAIRN.AFTER token merges them into another connection's window, so that
// its reads of those keys are causally after everything the first one saw.
// The token is opaque to clients: base64 of a version byte and (key,
// object state) pairs.

const (
	tokenVersion  = 1
	maxTokenBytes = 64 << 10
)

var errBadToken = errors.New("ERR invalid CAIRN token")

// token serves CAIRN.TOKEN.
func (s *Service) token(w *resp.Writer, r *resp.Request) {
	se := s.session(r.Conn)
	b := []byte{tokenVersion}
	if se.seen != nil {
		se.seen.mu.Lock()
		defer se.seen.mu.Unlock()
		for e := se.seen.order.Front(); e != nil; e = e.Next() {
			ent := e.Value.(*seenEntry)
			enc := ent.obj.AppendBinary(nil)
			if len(b)+len(ent.key)+len(enc)+20 > maxTokenBytes {
				break
			}
			b = binary.AppendUvarint(b, uint64(len(ent.key)))
			b = append(b, ent.key...)
			b = binary.AppendUvarint(b, uint64(len(enc)))
			b = append(b, enc...)
		}
	}
	w.BulkString(base64.RawURLEncoding.EncodeToString(b))
}

// after serves CAIRN.AFTER token.
func (s *Service) after(w *resp.Writer, r *resp.Request) {
	if base64.RawURLEncoding.DecodedLen(len(r.Args[1])) > maxTokenBytes {
		w.Error(errBadToken.Error())
		return
	}
	b, err := base64.RawURLEncoding.DecodeString(string(r.Args[1]))
	if err != nil || len(b) == 0 || b[0] != tokenVersion {
		w.Error(errBadToken.Error())
		return
	}
	type entry struct {
		key []byte
		obj object.Object
	}
	var entries []entry
	for b = b[1:]; len(b) > 0; {
		kl, n := binary.Uvarint(b)
		if n <= 0 || kl > uint64(len(b)-n) {
			w.Error(errBadToken.Error())
			return
		}
		key := b[n : n+int(kl)]
		b = b[n+int(kl):]
		ol, n := binary.Uvarint(b)
		if n <= 0 || ol > uint64(len(b)-n) {
			w.Error(errBadToken.Error())
			return
		}
		o, err := object.Decode(b[n : n+int(ol)])
		if err != nil {
			w.Error(errBadToken.Error())
			return
		}
		b = b[n+int(ol):]
		entries = append(entries, entry{key, o})
	}
	se := s.session(r.Conn)
	// Oldest first, so that the token's most recent keys stay in the window.
	for i := len(entries) - 1; i >= 0; i-- {
		se.seen.merge(entries[i].key, entries[i].obj)
	}
	w.SimpleString("OK")
}
