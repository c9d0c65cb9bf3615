package server

import (
	"encoding/json"
	"net/http"

	"github.com/cairndb/cairn/transport"
)

// faultsHandler is the admin endpoint of the transport's fault hook,
// mounted only with --enable-fault-injection: GET lists the rules, POST
// adds one (a transport.Rule as JSON), DELETE heals every link.
func faultsHandler(f *transport.Faults) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet:
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(f.Rules())
		case http.MethodPost:
			var rule transport.Rule
			if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&rule); err != nil {
				http.Error(w, "bad rule: "+err.Error(), http.StatusBadRequest)
				return
			}
			if err := f.Set(rule); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			w.WriteHeader(http.StatusNoContent)
		case http.MethodDelete:
			f.Heal()
			w.WriteHeader(http.StatusNoContent)
		default:
			http.Error(w, "use GET, POST or DELETE", http.StatusMethodNotAllowed)
		}
	})
}
