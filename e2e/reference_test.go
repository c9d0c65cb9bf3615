package e2e

import (
	"os"
	"testing"
)

// referenceEtcd, when set from $CAIRN_E2E_ETCD to the path of an etcd
// binary, makes every test run against etcd itself instead of cairn:
// the way to check that an expectation here is etcd's behaviour and not
// merely cairn's. The same command lines are translated to etcd's flags.
var referenceEtcd = os.Getenv("CAIRN_E2E_ETCD")

// serverCommand returns the binary and arguments that run one member
// with the given `cairn server` arguments (without the subcommand).
func serverCommand(args []string) (string, []string) {
	if referenceEtcd == "" {
		return cairnBin, append([]string{"server"}, args...)
	}
	var out []string
	for i := 0; i < len(args); i++ {
		switch args[i] {
		case "--listen-http":
			i++
			out = append(out, "--listen-metrics-urls", "http://"+args[i])
		case "--listen-redis":
			i++ // etcd has no eventual tier
		default:
			out = append(out, args[i])
		}
	}
	return referenceEtcd, out
}

// cairnOnly skips what only cairn does (its log lines), when the tests
// run against etcd.
func cairnOnly(t *testing.T, what string) bool {
	t.Helper()
	if referenceEtcd != "" {
		t.Logf("running against etcd (CAIRN_E2E_ETCD): not checking %s", what)
		return false
	}
	return true
}
