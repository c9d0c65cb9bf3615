package resp

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

func TestCommandTableRegister(t *testing.T) {
	ok := Command{Name: "GET", Arity: 2, FirstKey: 1, LastKey: 1, KeyStep: 1}
	for name, c := range map[string]Command{
		"empty name":         {Arity: 1},
		"long name":          {Name: strings.Repeat("x", 65), Arity: 1},
		"space in name":      {Name: "a b", Arity: 1},
		"control in name":    {Name: "a\nb", Arity: 1},
		"arity 0":            {Name: "x"},
		"write and read":     {Name: "x", Arity: 1, Flags: FlagWrite | FlagReadOnly},
		"unknown flag":       {Name: "x", Arity: 1, Flags: flagEnd},
		"negative first":     {Name: "x", Arity: 1, FirstKey: -1},
		"last without first": {Name: "x", Arity: 1, LastKey: 1},
		"no step":            {Name: "x", Arity: 2, FirstKey: 1, LastKey: 1},
		"last before first":  {Name: "x", Arity: 3, FirstKey: 2, LastKey: 1, KeyStep: 1},
		"connection cmd":     {Name: "PING", Arity: 1},
		"client":             {Name: "client", Arity: -2},
	} {
		if err := NewCommandTable().Register(c); err == nil {
			t.Errorf("%s: Register accepted %+v", name, c)
		}
	}
	tab := NewCommandTable()
	if err := tab.Register(ok); err != nil {
		t.Fatal(err)
	}
	if err := tab.Register(Command{Name: "get", Arity: 2}); err == nil {
		t.Error("a second GET was accepted")
	}
	if c := tab.Lookup([]byte("get")); c == nil || c.Name != "get" {
		t.Fatalf("the name was not stored in lower case: %+v", c)
	}
	tab.freeze()
	if err := tab.Register(Command{Name: "set", Arity: -3}); err != errFrozen {
		t.Errorf("Register on a frozen table: %v", err)
	}
}

func TestCommandTableLookup(t *testing.T) {
	tab, _ := newToyTable(t)
	for _, name := range []string{"get", "GET", "gEt", "set", "SET", "Mget"} {
		if tab.Lookup([]byte(name)) == nil {
			t.Errorf("Lookup(%q) = nil", name)
		}
	}
	for _, name := range []string{"", "ge", "gett", "ping", strings.Repeat("g", 100), "g\x00et"} {
		if c := tab.Lookup([]byte(name)); c != nil {
			t.Errorf("Lookup(%q) = %s", name, c.Name)
		}
	}
	name := []byte("GeT")
	if n := testing.AllocsPerRun(100, func() { tab.Lookup(name) }); n != 0 {
		t.Errorf("Lookup allocates %v times", n)
	}
	if names := commandNames(tab.Commands()); !slices.Equal(names, []string{"del", "get", "incr", "mget", "set"}) {
		t.Errorf("Commands() = %v", names)
	}
	if tab.Len() != 5 {
		t.Errorf("Len() = %d", tab.Len())
	}
}

func commandNames(cmds []*Command) []string {
	var out []string
	for _, c := range cmds {
		out = append(out, c.Name)
	}
	return out
}

func TestCommandTableServeRESP(t *testing.T) {
	tab, _ := newToyTable(t)
	tab.MustRegister(Command{Name: "nofunc", Arity: 1})
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"SET", "k", "v"}, "+OK\r\n"},
		{[]string{"get", "k"}, "$1\r\nv\r\n"},
		{[]string{"get"}, "-ERR wrong number of arguments for 'get' command\r\n"},
		{[]string{"foo", "a"}, "-ERR unknown command 'foo', with args beginning with: 'a' \r\n"},
		{[]string{"nofunc"}, "-ERR unknown command 'nofunc', with args beginning with: \r\n"},
	} {
		var b bytes.Buffer
		w := NewWriter(&b, 64)
		args := make([][]byte, len(tc.args))
		for i, a := range tc.args {
			args[i] = []byte(a)
		}
		tab.ServeRESP(w, &Request{Args: args})
		w.Flush()
		if b.String() != tc.want {
			t.Errorf("%q: %q, want %q", tc.args, b.String(), tc.want)
		}
	}
}

func TestMessages(t *testing.T) {
	args := func(s ...string) [][]byte {
		out := make([][]byte, len(s))
		for i, a := range s {
			out[i] = []byte(a)
		}
		return out
	}
	x200, x100, y100 := strings.Repeat("x", 200), strings.Repeat("x", 100), strings.Repeat("y", 100)
	for _, tc := range []struct {
		args [][]byte
		want string
	}{
		// Redis 7.0's texts, from the live server (see oracle_test.go).
		{args("foo"), "ERR unknown command 'foo', with args beginning with: "},
		{args("foo", "a", "b"), "ERR unknown command 'foo', with args beginning with: 'a' 'b' "},
		{args("foo", x200), "ERR unknown command 'foo', with args beginning with: '" + strings.Repeat("x", 128) + "' "},
		{args("foo", x100, y100, "zzz"), "ERR unknown command 'foo', with args beginning with: '" + x100 + "' '" + strings.Repeat("y", 25) + "' "},
		{args(x200), "ERR unknown command '" + strings.Repeat("x", 128) + "', with args beginning with: "},
	} {
		if got := MsgUnknownCommand(tc.args); got != tc.want {
			t.Errorf("MsgUnknownCommand(%.30q) = %q, want %q", tc.args, got, tc.want)
		}
	}
	if got := MsgWrongArgs("client|setname"); got != "ERR wrong number of arguments for 'client|setname' command" {
		t.Errorf("MsgWrongArgs: %q", got)
	}
	if got := MsgUnknownSubcommand("client", []byte("foo")); got != "ERR unknown subcommand 'foo'. Try CLIENT HELP." {
		t.Errorf("MsgUnknownSubcommand: %q", got)
	}
	for _, tc := range []struct {
		arity, argc int
		ok          bool
	}{
		{2, 2, true}, {2, 1, false}, {2, 3, false}, {-2, 1, false}, {-2, 2, true}, {-2, 9, true}, {-1, 1, true},
	} {
		if ArityOK(tc.arity, tc.argc) != tc.ok {
			t.Errorf("ArityOK(%d, %d) != %v", tc.arity, tc.argc, tc.ok)
		}
	}
	if got := (FlagWrite | FlagFast | FlagNoAuth).Names(); !slices.Equal(got, []string{"write", "fast", "no_auth"}) {
		t.Errorf("Names() = %v", got)
	}
	if len(flagNames) != bitLen(flagEnd)-1 {
		t.Errorf("%d flag names for %d flags", len(flagNames), bitLen(flagEnd)-1)
	}
}

func bitLen(f Flags) int {
	n := 0
	for ; f != 0; f >>= 1 {
		n++
	}
	return n
}

func TestCommandKeys(t *testing.T) {
	args := func(s string) [][]byte {
		var out [][]byte
		for _, a := range strings.Fields(s) {
			out = append(out, []byte(a))
		}
		return out
	}
	for _, tc := range []struct {
		cmd  Command
		args string
		want string
	}{
		{Command{FirstKey: 1, LastKey: 1, KeyStep: 1}, "GET k", "k"},
		{Command{FirstKey: 1, LastKey: -1, KeyStep: 1}, "DEL a b c", "a b c"},
		{Command{FirstKey: 1, LastKey: -1, KeyStep: 2}, "MSET a 1 b 2", "a b"},
		{Command{FirstKey: 1, LastKey: -2, KeyStep: 1}, "BLPOP a b 0", "a b"},
		{Command{FirstKey: 2, LastKey: 3, KeyStep: 1}, "X y a b c", "a b"},
		{Command{FirstKey: 2, LastKey: 5, KeyStep: 1}, "X y a", "a"},
		{Command{}, "PING", ""},
		{Command{FirstKey: 1, LastKey: 1, KeyStep: 1}, "GET", ""},
	} {
		var got []string
		for _, k := range tc.cmd.Keys(nil, args(tc.args)) {
			got = append(got, string(k))
		}
		if strings.Join(got, " ") != tc.want {
			t.Errorf("Keys of %q with %d,%d,%d: %q, want %q", tc.args, tc.cmd.FirstKey, tc.cmd.LastKey, tc.cmd.KeyStep, got, tc.want)
		}
	}
}
