package check

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairndb/cairn/sim/porcupinekv"
	"github.com/cairndb/cairn/verify/history"
)

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

func put(c, call, ret int, key, val string) RegisterOp {
	return RegisterOp{Client: c, Call: ms(call), Return: ms(ret), Outcome: history.OK,
		Input: porcupinekv.Input{Kind: porcupinekv.OpPut, Key: key, Value: val}}
}

func get(c, call, ret int, key, val string, found bool) RegisterOp {
	return RegisterOp{Client: c, Call: ms(call), Return: ms(ret), Outcome: history.OK,
		Input: porcupinekv.Input{Kind: porcupinekv.OpGet, Key: key}, Output: porcupinekv.Output{Value: val, Found: found}}
}

func TestRegistersPassALinearizableHistoryWithUnknowns(t *testing.T) {
	unknownPut := put(2, 5, 6, "x", "b")
	unknownPut.Outcome = history.Unknown
	ops := []RegisterOp{
		put(0, 0, 10, "x", "a"),
		get(1, 11, 20, "x", "a", true),
		unknownPut,
		// The unknown put may land any time after its call.
		get(1, 30, 40, "x", "b", true),
		get(0, 1, 2, "y", "", false),
	}
	r := CheckRegisters(ops, RegisterConfig{Timeout: 10 * time.Second})
	if r.Verdict != Pass {
		t.Fatalf("%v", r)
	}
}

// A write acknowledged before a read began, and the read still sees the
// old value: a stale read, or a lost write.
func TestRegistersCatchAStaleRead(t *testing.T) {
	ops := []RegisterOp{
		put(0, 0, 10, "x", "a"),
		put(0, 20, 30, "x", "b"),
		get(1, 40, 50, "x", "a", true),
	}
	viz := filepath.Join(t.TempDir(), "viz.html")
	r := CheckRegisters(ops, RegisterConfig{Timeout: 10 * time.Second, VisualizePath: viz})
	if r.Verdict != Fail || !strings.Contains(r.Summary, "NOT linearizable") || !strings.Contains(r.Details[0], `"x"`) {
		t.Fatalf("stale read not caught: %v", r)
	}
	if st, err := os.Stat(viz); err != nil || st.Size() == 0 {
		t.Fatalf("no visualization: %v", err)
	}
}

// A put acknowledged, then every later read finds the key missing.
func TestRegistersCatchALostWrite(t *testing.T) {
	ops := []RegisterOp{
		put(0, 0, 10, "k", "v"),
		get(1, 20, 30, "k", "", false),
	}
	if r := CheckRegisters(ops, RegisterConfig{Timeout: 10 * time.Second}); r.Verdict != Fail {
		t.Fatalf("lost write not caught: %v", r)
	}
}

// A CAS that reports success although the register held another value.
func TestRegistersCatchABadCAS(t *testing.T) {
	cas := RegisterOp{Client: 1, Call: ms(20), Return: ms(30), Outcome: history.OK,
		Input:  porcupinekv.Input{Kind: porcupinekv.OpCAS, Key: "k", Expected: "old", Value: "new"},
		Output: porcupinekv.Output{OK: true}}
	ops := []RegisterOp{put(0, 0, 10, "k", "cur"), cas}
	if r := CheckRegisters(ops, RegisterConfig{Timeout: 10 * time.Second}); r.Verdict != Fail {
		t.Fatalf("bad CAS not caught: %v", r)
	}
}
