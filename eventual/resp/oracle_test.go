package resp

import (
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cairndb/cairn/internal/testutil"
)

// The oracle test sends the same bytes to redis-server and to this
// package's server (with the toy GET/SET/INCR/DEL/MGET table) and requires
// the same bytes back: replies, error texts, protocol errors, and whether
// the connection is closed. Scripts avoid what legitimately differs
// (client ids, the version, SELECT 1..15, which exist in Redis, and the
// deviations listed in the package comment).

type oracleScript struct {
	name, in string
	closes   bool // the server closes the connection (QUIT, protocol error)
}

func oracleScripts() []oracleScript {
	long := func(s string) string { return strings.Repeat(s, 70000) }
	scripts := []oracleScript{
		{"ping", "PING\r\nPING hello\r\nPING a b\r\nPING \"\"\r\npInG\r\n*1\r\n$4\r\nping\r\n", false},
		{"echo", "ECHO\r\nECHO x\r\nECHO a b\r\n*2\r\n$4\r\nECHO\r\n$0\r\n\r\n", false},
		{"select", "SELECT 0\r\nSELECT 16\r\nSELECT -1\r\nSELECT x\r\nSELECT 01\r\nSELECT 99999999999999999999\r\nSELECT 2147483648\r\nSELECT -2147483649\r\nSELECT\r\nSELECT 0 1\r\n", false},
		{"unknown", "foo\r\nfoo a b\r\n" + cmd("foo", "a\r\nb", "c\nd") + cmd("foo", strings.Repeat("x", 200)) +
			cmd("foo", strings.Repeat("x", 100), strings.Repeat("y", 100), "zzz") + cmd(strings.Repeat("n", 200)) + "*1\r\n$0\r\n\r\n\"\"\r\n", false},
		{"data", "GET\r\nSET a\r\nget a b\r\nGET o:k\r\nSET o:k v\r\nGET o:k\r\nINCR o:k\r\nINCR o:n\r\nINCR o:n\r\nMGET o:k o:nosuch o:n\r\nDEL o:k o:n o:nosuch\r\nGET o:k\r\n", false},
		{"client", "CLIENT\r\nCLIENT foo\r\nCLIENT SETNAME\r\nCLIENT SETNAME \"a b\"\r\nCLIENT SETNAME x\r\nCLIENT GETNAME\r\n" +
			"CLIENT SETNAME \"\"\r\nCLIENT GETNAME\r\nCLIENT GETNAME x\r\nCLIENT LIST TYPE foo\r\nCLIENT LIST ID x\r\nCLIENT LIST ID 1.5\r\n" +
			"CLIENT LIST ID -1\r\nCLIENT LIST ID 0\r\nCLIENT LIST x\r\nCLIENT LIST TYPE NORMAL x\r\nCLIENT LIST TYPE pubsub\r\n" +
			"CLIENT NO-EVICT x\r\nCLIENT NO-EVICT on\r\nCLIENT HELP x\r\nclient setname \x01\r\n", false},
		{"hello", "HELLO 4\r\nHELLO 1\r\nHELLO x\r\nHELLO 3 FOO\r\nHELLO 3 SETNAME\r\nhello 3 setname\r\nHELLO 3 SETNAME \"a b\"\r\n" +
			"HELLO 3 AUTH bob x\r\nHELLO 3 AUTH default\r\nHELLO 2 setname x extra\r\n", false},
		{"auth", "AUTH x\r\nAUTH default x\r\nAUTH bob x\r\nAUTH\r\nAUTH a b c\r\n", false},
		{"reset", "CLIENT SETNAME n\r\nRESET\r\nCLIENT GETNAME\r\nRESET x\r\n", false},
		{"command", "COMMAND FOO\r\nCOMMAND COUNT x\r\nCOMMAND LIST FILTERBY\r\nCOMMAND LIST FILTERBY MODULE x\r\nCOMMAND DOCS nosuch\r\nCOMMAND INFO nosuch\r\nCOMMAND HELP x\r\n", false},
		{"inline quoting", "ECHO \"a\\x41\\n\"\r\nECHO 'it\\'s'\r\nECHO foo\"bar baz\"\r\nECHO 'a\\nb'\r\nECHO \"\\x4g\"\r\nPING\rx\r\n  \t\r\n\r\n\n PING\n", false},
		{"empty commands", "*0\r\n*-5\r\nPING\r\n", false},
		{"quit", "PING\r\nQUIT\r\nPING\r\n", true},
		{"quit with args", "QUIT a b\r\n", true},
		{"http post", "POST / HTTP/1.1\r\nHost: x\r\n\r\n", true},
		{"http host", "Host: x\r\n", true},
		{"too big mbulk count", "*" + long("1"), true},
		{"too big bulk count", "*1\r\n$" + long("1"), true},
		{"too big inline", long("a"), true},
	}
	for i, bad := range []string{
		"PING\r\n*2147483648\r\n", "*abc\r\n", "*01\r\n", "*+1\r\n", "*-0\r\n", "*\r\n",
		"*1\r\n$-1\r\n", "*1\r\n$01\r\n", "*1\r\n$+1\r\n", "*1\r\n$1 \r\n", "*1\r\n$abc\r\n",
		"PING\r\n*1\r\nx\r\n", "*1\r\n\r\n", "*2\r\n$4\r\nPING\r\n:1\r\n",
		"PING \"a\r\n", "PING \"a\"b\r\n", "PING 'a\r\n", "ECHO 'it's'\r\n",
	} {
		scripts = append(scripts, oracleScript{"protocol error " + strconv.Itoa(i), bad, true})
	}
	return scripts
}

func oracleAuthScripts() []oracleScript {
	return []oracleScript{
		{"auth flow", "PING\r\nGET a\r\nfoo\r\nGET\r\nAUTH wrong\r\nAUTH bob secret\r\nAUTH default wrong\r\nAUTH secret\r\n" +
			"PING\r\nRESET\r\nPING\r\nAUTH default secret\r\nPING\r\n", false},
		{"before auth", "HELLO 3\r\nHELLO 3 AUTH default wrong\r\nCLIENT ID\r\nSELECT 0\r\nECHO x\r\nCOMMAND COUNT\r\nAUTH\r\nHELLO 4\r\nHELLO 3 SETNAME \"a b\"\r\n", false},
		{"quit before auth", "QUIT\r\n", true},
		{"unauthenticated multibulk", "*11\r\n", true},
		{"unauthenticated bulk", "*2\r\n$4\r\nAUTH\r\n$16385\r\n", true},
	}
}

func TestOracleRedisServer(t *testing.T) {
	redisAddr := testutil.StartRedisServer(t)
	ours := startServer(t, nil)
	runOracle(t, oracleScripts(), redisAddr, ours.addr)
}

func TestOracleRedisServerWithPassword(t *testing.T) {
	redisAddr := testutil.StartRedisServer(t, "--requirepass", "secret")
	ours := startServer(t, func(c *Config) { c.Password = "secret" })
	runOracle(t, oracleAuthScripts(), redisAddr, ours.addr)
}

func runOracle(t *testing.T, scripts []oracleScript, redisAddr, oursAddr string) {
	for _, sc := range scripts {
		in := sc.in
		if !sc.closes {
			in += cmd("QUIT") // so that both servers end the exchange
		}
		want, err := exchange(redisAddr, in)
		if err != nil {
			t.Fatalf("%s: redis-server: %v", sc.name, err)
		}
		got, err := exchange(oursAddr, in)
		if err != nil {
			t.Fatalf("%s: %v", sc.name, err)
		}
		if got != want {
			t.Errorf("%s: sent %.200q\n got: %.500q\nwant: %.500q (redis-server)", sc.name, sc.in, got, want)
		}
	}
}

// exchange sends in and returns everything read until the server closes
// the connection.
func exchange(addr, in string) (string, error) {
	nc, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return "", err
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.WriteString(nc, in); err != nil {
		return "", err
	}
	out, err := io.ReadAll(nc)
	if err != nil && !isReset(err) {
		return string(out), fmt.Errorf("after %q: %w", out, err)
	}
	return string(out), nil
}
