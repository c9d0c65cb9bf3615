package object

import (
	"sort"
	"strconv"
)

// Get returns the value of a string or counter key at nowMs (a counter reads
// as its decimal value, as in Redis), false if the key does not exist, and
// ErrWrongType for a set or hash.
func (x Object) Get(nowMs int64) ([]byte, bool, error) {
	switch x.Kind(nowMs) {
	case None:
		return nil, false, nil
	case String:
		return x.str.Value(), true, nil
	case Counter:
		v, err := x.ctr.Value()
		if err != nil {
			return nil, false, ErrNotInteger
		}
		return strconv.AppendInt(nil, v, 10), true, nil
	default:
		return nil, false, ErrWrongType
	}
}

// Members returns the members of a set key, sorted; nil for a missing key.
func (x Object) Members(nowMs int64) ([]string, error) {
	switch x.Kind(nowMs) {
	case None:
		return nil, nil
	case Set:
		return x.set.Elements(), nil
	default:
		return nil, ErrWrongType
	}
}

// IsMember reports whether m is in the set key.
func (x Object) IsMember(nowMs int64, m string) (bool, error) {
	switch x.Kind(nowMs) {
	case None:
		return false, nil
	case Set:
		return x.set.Contains(m), nil
	default:
		return false, ErrWrongType
	}
}

// Card returns the number of members of a set key.
func (x Object) Card(nowMs int64) (int, error) {
	switch x.Kind(nowMs) {
	case None:
		return 0, nil
	case Set:
		return x.set.Len(), nil
	default:
		return 0, ErrWrongType
	}
}

// HGet returns a hash field's value (the latest of concurrent writes).
func (x Object) HGet(nowMs int64, field string) ([]byte, bool, error) {
	switch x.Kind(nowMs) {
	case None:
		return nil, false, nil
	case Hash:
		reg, ok := x.hash.Get(field)
		if !ok {
			return nil, false, nil
		}
		v, ok := reg.Last()
		return v, ok, nil
	default:
		return nil, false, ErrWrongType
	}
}

// Field is one field of a hash and its value.
type Field struct {
	Name  string
	Value []byte
}

// HGetAll returns every field of a hash key, sorted by name.
func (x Object) HGetAll(nowMs int64) ([]Field, error) {
	switch x.Kind(nowMs) {
	case None:
		return nil, nil
	case Hash:
		names := x.hash.Fields()
		sort.Strings(names)
		out := make([]Field, 0, len(names))
		for _, n := range names {
			reg, _ := x.hash.Get(n)
			if v, ok := reg.Last(); ok {
				out = append(out, Field{Name: n, Value: v})
			}
		}
		return out, nil
	default:
		return nil, ErrWrongType
	}
}

// HLen returns the number of fields of a hash key.
func (x Object) HLen(nowMs int64) (int, error) {
	switch x.Kind(nowMs) {
	case None:
		return 0, nil
	case Hash:
		return x.hash.Len(), nil
	default:
		return 0, ErrWrongType
	}
}

// TTL returns the key's remaining time to live in milliseconds at nowMs,
// with Redis's conventions: -2 if the key does not exist, -1 if it has no
// expiry.
func (x Object) TTL(nowMs int64) int64 {
	if !x.Visible(nowMs) {
		return -2
	}
	d, ok := x.Deadline()
	if !ok {
		return -1
	}
	return d - nowMs
}
