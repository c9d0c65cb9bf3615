package server

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/cairndb/cairn/clock"
)

// clockHandler is the admin endpoint of the clock-skew fault, mounted
// only with --enable-fault-injection (the verification harness's clock
// nemesis): GET returns the offset added to this node's wall clock, PUT
// sets it ({"offset": "250ms"}, within ±clock.MaxSkew), DELETE sets it
// back to 0. The offset moves what the eventual tier reads as physical
// time (its HLC: last-writer-wins order, Paxos ballots, expiry); the strong
// tier times leases and elections on the monotonic clock and is not moved.
func clockHandler(c *clock.SkewedClock, log *slog.Logger) http.Handler {
	type body struct {
		Offset string `json:"offset"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var d time.Duration
		switch r.Method {
		case http.MethodGet:
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(body{Offset: c.Offset().String()})
			return
		case http.MethodPut, http.MethodPost:
			var b body
			if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<10)).Decode(&b); err != nil {
				http.Error(w, "bad body: "+err.Error(), http.StatusBadRequest)
				return
			}
			var err error
			if d, err = time.ParseDuration(b.Offset); err != nil {
				http.Error(w, "bad offset: "+err.Error(), http.StatusBadRequest)
				return
			}
		case http.MethodDelete:
		default:
			http.Error(w, "use GET, PUT or DELETE", http.StatusMethodNotAllowed)
			return
		}
		if err := c.SetOffset(d); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		log.Warn("wall clock offset injected", "offset", d)
		w.WriteHeader(http.StatusNoContent)
	})
}
