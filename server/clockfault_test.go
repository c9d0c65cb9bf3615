package server

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cairndb/cairn/clock"
)

// TestClockHandler: PUT moves the clock, GET reports the offset, DELETE
// clears it, and bad input is refused without changing anything.
func TestClockHandler(t *testing.T) {
	base := clock.NewManualClock(1_000_000_000)
	c := clock.NewSkewedClock(base)
	srv := httptest.NewServer(clockHandler(c, slog.New(slog.NewTextHandler(io.Discard, nil))))
	defer srv.Close()
	do := func(method, body string) (int, string) {
		req, _ := http.NewRequest(method, srv.URL, strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := do(http.MethodPut, `{"offset":"-750ms"}`); code != http.StatusNoContent {
		t.Fatalf("PUT: %d", code)
	}
	if got := c.Now(); got != 1_000_000_000-int64(750*time.Millisecond) {
		t.Fatalf("clock reads %d after a -750ms offset", got)
	}
	if code, body := do(http.MethodGet, ""); code != http.StatusOK || !strings.Contains(body, `"-750ms"`) {
		t.Fatalf("GET: %d %s", code, body)
	}
	for _, bad := range []string{`{"offset":"soon"}`, `{"offset":"48h"}`, `not json`} {
		if code, _ := do(http.MethodPut, bad); code != http.StatusBadRequest {
			t.Fatalf("PUT %s: %d, want 400", bad, code)
		}
	}
	if c.Offset() != -750*time.Millisecond {
		t.Fatalf("a refused PUT changed the offset to %v", c.Offset())
	}
	if code, _ := do(http.MethodDelete, ""); code != http.StatusNoContent || c.Offset() != 0 {
		t.Fatalf("DELETE: %d, offset %v", code, c.Offset())
	}
	if code, _ := do(http.MethodPatch, ""); code != http.StatusMethodNotAllowed {
		t.Fatalf("PATCH: %d", code)
	}
}
