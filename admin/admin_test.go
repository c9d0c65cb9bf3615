package admin

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestEndpoints(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "cairn_test_total", Help: "test"})
	reg.MustRegister(c)
	c.Inc()
	var healthErr, readyErr error
	s, err := Start(Config{
		Addr:     "127.0.0.1:0",
		Gatherer: reg,
		Checks: Checks{
			Health: func(context.Context) error { return healthErr },
			Ready:  func(context.Context) error { return readyErr },
		},
		Version: map[string]string{"etcdserver": "3.7.3"},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	base := "http://" + s.Addr()

	code, body := get(t, base+"/health")
	var h map[string]string
	if err := json.Unmarshal([]byte(body), &h); err != nil || code != 200 || h["health"] != "true" {
		t.Fatalf("/health = %d %q", code, body)
	}
	healthErr = errors.New("no leader")
	code, body = get(t, base+"/health")
	if err := json.Unmarshal([]byte(body), &h); err != nil || code != 503 || h["health"] != "false" || h["reason"] != "no leader" {
		t.Fatalf("unhealthy /health = %d %q", code, body)
	}

	if code, body := get(t, base+"/ready"); code != 200 || body != "ok\n" {
		t.Fatalf("/ready = %d %q", code, body)
	}
	readyErr = errors.New("joining the cluster")
	if code, body := get(t, base+"/readyz"); code != 503 || !strings.Contains(body, "joining the cluster") {
		t.Fatalf("not ready /readyz = %d %q", code, body)
	}
	if code, _ := get(t, base+"/livez"); code != 200 {
		t.Fatalf("/livez = %d", code)
	}
	if code, body := get(t, base+"/metrics"); code != 200 || !strings.Contains(body, "cairn_test_total 1") {
		t.Fatalf("/metrics = %d %q", code, body)
	}
	if code, body := get(t, base+"/version"); code != 200 || !strings.Contains(body, `"etcdserver":"3.7.3"`) {
		t.Fatalf("/version = %d %q", code, body)
	}
	if code, _ := get(t, base+"/debug/pprof/"); code != 200 {
		t.Fatalf("/debug/pprof/ = %d", code)
	}
}

func TestStartFailsOnBusyPort(t *testing.T) {
	s, err := Start(Config{Addr: "127.0.0.1:0", Gatherer: prometheus.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := Start(Config{Addr: s.Addr(), Gatherer: prometheus.NewRegistry()}); err == nil {
		t.Fatal("second server on the same port started")
	}
}
