package saga

import (
	"fmt"
	"strconv"
	"strings"
)

// keyspace lays the saga log out under one prefix (default
// "/cairn/saga/"):
//
//	<p>state/<id>       the saga record (JSON stateRecord), small and rewritten on status changes
//	<p>input/<id>       the input payload, written once by Start
//	<p>step/<id>/<nnn>  one record per step that has begun (JSON StepRecord), nnn = index, 3 digits
//	<p>active/<id>      present while the saga is not terminal; value = definition name
//	<p>owner/<id>       the owner's executor ID, attached to the owner's lease
//
// active/ and owner/ are separate prefixes so that a recovery scan reads
// only the live sagas and one watch per prefix sees new sagas (puts under
// active/) and lost owners (deletes under owner/). IDs cannot hold '/', so
// no key of one saga is a prefix of another's.
type keyspace struct{ prefix string }

func (k keyspace) state(id string) string  { return k.prefix + "state/" + id }
func (k keyspace) input(id string) string  { return k.prefix + "input/" + id }
func (k keyspace) active(id string) string { return k.prefix + "active/" + id }
func (k keyspace) owner(id string) string  { return k.prefix + "owner/" + id }

// steps is the prefix of one saga's step records; the trailing slash
// keeps saga "a" from matching saga "ab".
func (k keyspace) steps(id string) string { return k.prefix + "step/" + id + "/" }

func (k keyspace) step(id string, i int) string { return fmt.Sprintf("%s%03d", k.steps(id), i) }

func (k keyspace) statePrefix() string  { return k.prefix + "state/" }
func (k keyspace) activePrefix() string { return k.prefix + "active/" }
func (k keyspace) ownerPrefix() string  { return k.prefix + "owner/" }

// idFrom returns the saga ID that ends key under prefix p, or false.
func idFrom(p, key string) (string, bool) {
	id, ok := strings.CutPrefix(key, p)
	if !ok || validID(id) != nil {
		return "", false
	}
	return id, true
}

// stepIndex parses the index that ends a step key.
func (k keyspace) stepIndex(id, key string) (int, bool) {
	rest, ok := strings.CutPrefix(key, k.steps(id))
	if !ok || len(rest) != 3 {
		return 0, false
	}
	i, err := strconv.Atoi(rest)
	return i, err == nil && i >= 0
}

// Name bounds. IDs and names go into keys and idempotency keys, so they
// are restricted to characters that need no escaping and hold no '/'.
const (
	// MaxIDBytes bounds a saga ID.
	MaxIDBytes = 128
	// MaxNameBytes bounds a definition or step name.
	MaxNameBytes = 64
)

func validID(id string) error  { return validToken("saga ID", id, MaxIDBytes) }
func validName(n string) error { return validToken("name", n, MaxNameBytes) }
func validToken(what, s string, max int) error {
	if s == "" || len(s) > max {
		return fmt.Errorf("%w: %s %q must be 1 to %d bytes", ErrInvalid, what, s, max)
	}
	for _, c := range []byte(s) {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_', c == '.', c == ':':
		default:
			return fmt.Errorf("%w: %s %q may hold only letters, digits and - _ . :", ErrInvalid, what, s)
		}
	}
	return nil
}

// IdempotencyKey is the key the executor passes to a step call: the same
// for every attempt of the same call, by any executor, and different for
// the action and the compensation of a step.
func IdempotencyKey(sagaID, step string, k Kind) string {
	return sagaID + "/" + step + "/" + k.String()
}
