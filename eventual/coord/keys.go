package coord

import (
	"context"
	"encoding/binary"
	"fmt"
	"path"
	"sort"

	"github.com/cairndb/cairn/eventual/object"
	"github.com/cairndb/cairn/eventual/replica"
	"github.com/cairndb/cairn/ring"
)

// Key listing across the ring (SCAN, KEYS, DBSIZE). The token line [0, max]
// is cut at the ring's arc ends into segments [0, e1], (e1, e2], ...,
// (ek, max]; every key of a segment lives on the segment's replicas, so
// asking one live replica per segment, in order, lists every key once
// (those it holds: a key not yet replicated there is missed, as an
// eventually consistent scan may). A cursor is the end of the last segment
// (or token) listed; 0 starts and ends a scan.

// scanPageBytes bounds one page of keys from a replica.
const scanPageBytes = 1 << 20

// ScanKeys lists up to about count visible keys matching pattern (Redis's
// glob syntax; "" matches all) after cursor, and returns the cursor to
// continue from (0 when the scan is complete).
func (c *Coordinator) ScanKeys(ctx context.Context, cursor uint64, pattern string, count int) ([][]byte, uint64, error) {
	r := c.cfg.Membership.Ring()
	if r == nil {
		return nil, 0, &UnavailableError{Op: "scan", Level: LevelOne, Need: 1}
	}
	ends := segmentEnds(r)
	count = max(count, 1)
	var out [][]byte
	for {
		seg := nextSegment(ends, cursor)
		keys, last, more, err := c.scanSegment(ctx, r, seg, pattern, count-len(out))
		if err != nil {
			return nil, 0, err
		}
		out = append(out, keys...)
		if more {
			cursor = uint64(last)
		} else {
			cursor = uint64(seg.End)
		}
		if cursor == ^uint64(0) && !more {
			return out, 0, nil
		}
		if len(out) >= count {
			return out, cursor, nil
		}
	}
}

// segmentEnds returns the ring's arc ends, sorted.
func segmentEnds(r *ring.Ring) []ring.Token {
	arcs := r.Ranges()
	ends := make([]ring.Token, 0, len(arcs))
	for _, a := range arcs {
		ends = append(ends, a.End)
	}
	sort.Slice(ends, func(i, j int) bool { return ends[i] < ends[j] })
	return ends
}

// nextSegment returns the token range after cursor up to the next arc end
// (or the top of the token line). Cursor 0 is the start: its segment
// includes token 0.
func nextSegment(ends []ring.Token, cursor uint64) ring.TokenRange {
	i := sort.Search(len(ends), func(i int) bool { return uint64(ends[i]) > cursor })
	end := ^ring.Token(0)
	if i < len(ends) {
		end = ends[i]
	}
	start := ring.Token(cursor)
	if cursor == 0 {
		start = ^ring.Token(0) // (max, end] wraps to [0, end]
		if end == start {
			end = start - 1 // a ring whose only end is max: list [0, max-1] first
		}
	}
	return ring.TokenRange{Start: start, End: end}
}

// scanSegment lists a segment's visible keys on one live replica.
func (c *Coordinator) scanSegment(ctx context.Context, r *ring.Ring, seg ring.TokenRange, pattern string, limit int) ([][]byte, ring.Token, bool, error) {
	var lastErr error
	for _, id := range r.AppendReplicasToken(nil, seg.End, c.cfg.Replicas) {
		node, err := ParseNodeID(id)
		if err != nil || !c.alive(node) {
			continue
		}
		req := appendKeysRequest(nil, seg, limit, pattern, timeNow().UnixMilli())
		var page []byte
		if node == c.cfg.LocalID {
			m := c.serveKeys(req)
			page, err = m.obj, errFromText(m.err)
		} else {
			ans := c.wait(ctx, c.start(node, message{typ: msgKeys, obj: req}))
			if ans.typ != msgKeysResp || ans.err != "" {
				lastErr = fmt.Errorf("replica %x: %s", node, ans.err)
				continue
			}
			page = ans.obj
		}
		if err != nil {
			lastErr = err
			continue
		}
		return decodeKeysPage(page)
	}
	if lastErr == nil {
		lastErr = &UnavailableError{Op: "scan", Level: LevelOne, Need: 1, Replicas: c.cfg.Replicas}
	}
	return nil, 0, false, lastErr
}

// serveKeys answers a key listing from this node's store.
func (c *Coordinator) serveKeys(b []byte) message {
	d := &decoder{b: b}
	seg := ring.TokenRange{Start: ring.Token(d.uint64()), End: ring.Token(d.uint64())}
	limit := int(d.uvarint())
	pattern := string(d.bytes())
	now := d.varint()
	if d.err != nil {
		return message{err: errText(d.err)}
	}
	page := make([]byte, 9, 4096) // more flag, last token
	var last ring.Token
	n, more := 0, false
	err := c.cfg.Store.Scan(seg, func(e replica.Entry) bool {
		if (n >= limit || len(page) > scanPageBytes) && e.Token != last {
			more = true
			return false
		}
		last = e.Token
		if pattern != "" && pattern != "*" {
			if ok, _ := path.Match(pattern, string(e.Key)); !ok {
				return true
			}
		}
		o, err := object.Decode(e.Encoded)
		if err != nil || !o.Visible(now) {
			return true
		}
		page = appendBytes(page, e.Key)
		n++
		return true
	})
	if err != nil {
		return message{err: errText(err)}
	}
	if more {
		page[0] = 1
	}
	binary.BigEndian.PutUint64(page[1:9], uint64(last))
	return message{obj: page}
}

func appendKeysRequest(b []byte, seg ring.TokenRange, limit int, pattern string, nowMs int64) []byte {
	b = appendTokenRange(b, seg)
	b = binary.AppendUvarint(b, uint64(limit))
	b = appendBytes(b, []byte(pattern))
	return binary.AppendVarint(b, nowMs)
}

func decodeKeysPage(b []byte) ([][]byte, ring.Token, bool, error) {
	d := &decoder{b: b}
	more := d.byte() == 1
	last := ring.Token(d.uint64())
	var keys [][]byte
	for d.err == nil && len(d.b) > 0 {
		keys = append(keys, append([]byte(nil), d.bytes()...))
	}
	return keys, last, more, d.err
}
