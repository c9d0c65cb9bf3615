package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newRootCommand()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), err
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		out, err := run(t, args...)
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		if !strings.HasPrefix(out, "cairn "+version+" ") {
			t.Fatalf("%v printed %q", args, out)
		}
	}
}

func TestHelpListsCommands(t *testing.T) {
	out, err := run(t, "--help")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"version", "dev"} {
		if !strings.Contains(out, want) {
			t.Errorf("help does not mention %q:\n%s", want, out)
		}
	}
}

func TestDevSaysWhatIsMissing(t *testing.T) {
	if _, err := run(t, "dev"); !errors.Is(err, errNoServerYet) {
		t.Fatalf("dev returned %v, want errNoServerYet", err)
	}
	if _, err := run(t, "dev", "--nodes", "9"); err == nil || errors.Is(err, errNoServerYet) {
		t.Fatalf("dev --nodes 9 returned %v, want a flag validation error", err)
	}
}

func TestUnknownCommandFails(t *testing.T) {
	if _, err := run(t, "no-such-command"); err == nil {
		t.Fatal("unknown command succeeded")
	}
}
