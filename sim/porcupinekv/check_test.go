package porcupinekv_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/cairndb/cairn/sim"
	"github.com/cairndb/cairn/sim/porcupinekv"
)

const ms = time.Millisecond

// op is a compact way to write a history entry.
type op struct {
	client    int
	call, ret time.Duration // ret < 0: outcome unknown
	in        porcupinekv.Input
	out       porcupinekv.Output
	discarded bool
}

func get(k string) porcupinekv.Input { return porcupinekv.Input{Kind: porcupinekv.OpGet, Key: k} }
func put(k, v string) porcupinekv.Input {
	return porcupinekv.Input{Kind: porcupinekv.OpPut, Key: k, Value: v}
}
func cas(k, e, v string) porcupinekv.Input {
	return porcupinekv.Input{Kind: porcupinekv.OpCAS, Key: k, Expected: e, Value: v}
}
func found(v string) porcupinekv.Output { return porcupinekv.Output{Value: v, Found: true} }

var (
	none    = porcupinekv.Output{}
	swapped = porcupinekv.Output{OK: true}
	unknown = time.Duration(-1)
)

// history records ops through sim.History, so that the recorder is tested
// together with the model.
func history(ops ...op) []porcupine.Operation {
	var h sim.History
	type pending struct {
		id sim.OpID
		op op
	}
	var ps []pending
	for _, o := range ops {
		ps = append(ps, pending{h.Invoke(o.client, o.call, o.in), o})
	}
	for _, p := range ps {
		switch {
		case p.op.discarded:
			h.Discard(p.id)
		case p.op.ret >= 0:
			h.Complete(p.id, p.op.ret, p.op.out)
		}
	}
	return h.Operations(porcupinekv.Unknown())
}

func TestCheckLinearizable(t *testing.T) {
	for _, tc := range []struct {
		name string
		ops  []op
		ok   bool
	}{
		{"sequential put then get", []op{
			{0, 0, 10 * ms, put("x", "1"), none, false},
			{1, 20 * ms, 30 * ms, get("x"), found("1"), false},
		}, true},
		{"concurrent read may see either", []op{
			{0, 0, 10 * ms, put("x", "1"), none, false},
			{0, 20 * ms, 40 * ms, put("x", "2"), none, false},
			{1, 25 * ms, 30 * ms, get("x"), found("1"), false},
		}, true},
		{"stale read after a completed write", []op{
			{0, 0, 10 * ms, put("x", "1"), none, false},
			{0, 20 * ms, 30 * ms, put("x", "2"), none, false},
			{1, 40 * ms, 50 * ms, get("x"), found("1"), false},
		}, false},
		{"read of a never-written key finds nothing", []op{
			{0, 0, 10 * ms, get("x"), none, false},
		}, true},
		{"read of a value nobody wrote", []op{
			{0, 0, 10 * ms, put("x", "1"), none, false},
			{1, 20 * ms, 30 * ms, get("x"), found("7"), false},
		}, false},
		{"CAS chain", []op{
			{0, 0, 10 * ms, put("x", "1"), none, false},
			{1, 20 * ms, 30 * ms, cas("x", "1", "2"), swapped, false},
			{2, 40 * ms, 50 * ms, cas("x", "1", "3"), none, false},
			{0, 60 * ms, 70 * ms, get("x"), found("2"), false},
		}, true},
		{"lost CAS: acknowledged swap not visible", []op{
			{0, 0, 10 * ms, put("x", "1"), none, false},
			{1, 20 * ms, 30 * ms, cas("x", "1", "2"), swapped, false},
			{0, 40 * ms, 50 * ms, get("x"), found("1"), false},
		}, false},
		{"two CAS from the same value both succeed", []op{
			{0, 0, 10 * ms, put("x", "1"), none, false},
			{1, 20 * ms, 30 * ms, cas("x", "1", "2"), swapped, false},
			{2, 20 * ms, 30 * ms, cas("x", "1", "3"), swapped, false},
		}, false},
		{"CAS on a missing key fails", []op{
			{0, 0, 10 * ms, cas("x", "", "1"), swapped, false},
		}, false},
		{"timed-out write that took effect", []op{
			{0, 0, unknown, put("x", "1"), none, false},
			{1, 20 * ms, 30 * ms, get("x"), found("1"), false},
		}, true},
		{"timed-out write that did not take effect", []op{
			{0, 0, unknown, put("x", "1"), none, false},
			{1, 20 * ms, 30 * ms, get("x"), none, false},
		}, true},
		{"timed-out write seen then unseen", []op{
			{0, 0, unknown, put("x", "1"), none, false},
			{1, 20 * ms, 30 * ms, get("x"), found("1"), false},
			{1, 40 * ms, 50 * ms, get("x"), none, false},
		}, false},
		{"timed-out CAS that swapped", []op{
			{0, 0, 10 * ms, put("x", "1"), none, false},
			{1, 20 * ms, unknown, cas("x", "1", "2"), none, false},
			{0, 40 * ms, 50 * ms, get("x"), found("2"), false},
		}, true},
		{"discarded write is not in the history", []op{
			{0, 0, 0, put("x", "1"), none, true},
			{1, 20 * ms, 30 * ms, get("x"), found("1"), false},
		}, false},
		{"keys are independent", []op{
			{0, 0, 10 * ms, put("x", "1"), none, false},
			{1, 0, 10 * ms, put("y", "2"), none, false},
			{0, 20 * ms, 30 * ms, get("y"), found("2"), false},
			{1, 20 * ms, 30 * ms, get("x"), found("1"), false},
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ok, details := porcupinekv.CheckLinearizable(history(tc.ops...), time.Minute, "")
			if ok != tc.ok {
				t.Fatalf("CheckLinearizable = %v, want %v; details:\n%s", ok, tc.ok, details)
			}
			if !ok && !strings.Contains(details, `failing keys: "x"`) {
				t.Fatalf("details do not name the failing key:\n%s", details)
			}
		})
	}
}

func TestCheckLinearizableWritesVisualization(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.html")
	ok, details := porcupinekv.CheckLinearizable(history(
		op{0, 0, 10 * ms, put("x", "1"), none, false},
		op{1, 20 * ms, 30 * ms, get("x"), none, false},
	), time.Minute, path)
	if ok {
		t.Fatal("stale read passed")
	}
	for _, want := range []string{"NOT linearizable", `get("x") -> <none>`, `put("x", "1")`, "longest linearizable prefix (1 of 2", path} {
		if !strings.Contains(details, want) {
			t.Fatalf("details lack %q:\n%s", want, details)
		}
	}
	html, err := os.ReadFile(path)
	if err != nil || !strings.Contains(string(html), "<html") {
		t.Fatalf("no HTML visualization written: %v", err)
	}
}

func TestModelDescribes(t *testing.T) {
	for _, tc := range []struct {
		in   porcupinekv.Input
		out  porcupinekv.Output
		want string
	}{
		{get("k"), found("v"), `get("k") -> "v"`},
		{get("k"), none, `get("k") -> <none>`},
		{put("k", "v"), none, `put("k", "v")`},
		{cas("k", "a", "b"), swapped, `cas("k", "a" -> "b") -> true`},
		{put("k", "v"), porcupinekv.Unknown(), `put("k", "v") -> ?`},
	} {
		if got := porcupinekv.Model.DescribeOperation(tc.in, tc.out); got != tc.want {
			t.Errorf("describe = %s, want %s", got, tc.want)
		}
	}
	if porcupinekv.OpCAS.String() != "cas" || porcupinekv.OpKind(9).String() != "OpKind(9)" {
		t.Error("OpKind.String is wrong")
	}
}

func TestCheckLinearizableRejectsZeroTimeout(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("a zero timeout did not panic")
		}
	}()
	porcupinekv.CheckLinearizable(nil, 0, "")
}

// TestPartitionEvent checks the event partition: events of two keys with
// interleaved IDs split by key and stay linearizable.
func TestPartitionEvent(t *testing.T) {
	ev := func(client int, kind porcupine.EventKind, v any, id int) porcupine.Event {
		return porcupine.Event{ClientId: client, Kind: kind, Value: v, Id: id}
	}
	events := []porcupine.Event{
		ev(0, porcupine.CallEvent, put("x", "1"), 0),
		ev(1, porcupine.CallEvent, put("y", "2"), 1),
		ev(1, porcupine.ReturnEvent, none, 1),
		ev(0, porcupine.ReturnEvent, none, 0),
		ev(0, porcupine.CallEvent, get("y"), 2),
		ev(0, porcupine.ReturnEvent, found("2"), 2),
	}
	if parts := porcupinekv.Model.PartitionEvent(events); len(parts) != 2 || len(parts[0]) != 2 || len(parts[1]) != 4 {
		t.Fatalf("partitions = %v", parts)
	}
	if !porcupine.CheckEvents(porcupinekv.Model, events) {
		t.Fatal("linearizable event history rejected")
	}
	events[5] = ev(0, porcupine.ReturnEvent, found("1"), 2)
	if porcupine.CheckEvents(porcupinekv.Model, events) {
		t.Fatal("read of y returning x's value accepted")
	}
}
