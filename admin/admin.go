package admin

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Checks is what the node reports about itself. Each returns nil when
// fine, or an error that says why not.
type Checks struct {
	// Health is etcd's /health: the member has a leader and no alarm.
	Health func(ctx context.Context) error
	// Ready: the node can serve client requests.
	Ready func(ctx context.Context) error
}

// Config configures the admin server.
type Config struct {
	// Addr is the listen address, host:port.
	Addr string
	// Gatherer is the metrics registry served on /metrics.
	Gatherer prometheus.Gatherer
	// Checks answer /health and /ready.
	Checks Checks
	// Version is served on /version, with the etcd versions cairn speaks.
	Version map[string]string
	// Handlers are extra endpoints, path to handler.
	Handlers map[string]http.Handler
	// Logger; nil means slog.Default().
	Logger *slog.Logger
}

// Server is a running admin endpoint.
type Server struct {
	srv *http.Server
	ln  net.Listener
	log *slog.Logger
}

// checkTimeout bounds a health or readiness check.
const checkTimeout = 2 * time.Second

// Start listens on cfg.Addr and serves until Close.
func Start(cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(cfg.Gatherer, promhttp.HandlerOpts{}))
	mux.HandleFunc("/health", etcdHealth(cfg.Checks.Health))
	mux.HandleFunc("/livez", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	ready := probe(cfg.Checks.Ready)
	mux.HandleFunc("/readyz", ready)
	mux.HandleFunc("/ready", ready)
	mux.HandleFunc("/version", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(cfg.Version)
	})
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	for path, h := range cfg.Handlers {
		mux.Handle(path, h)
	}
	s := &Server{
		srv: &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second},
		ln:  ln,
		log: cfg.Logger,
	}
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("admin server stopped", "addr", ln.Addr().String(), "err", err)
		}
	}()
	s.log.Info("admin endpoints serving", "addr", ln.Addr().String())
	return s, nil
}

// Addr returns the address the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops the server, waiting briefly for requests in flight.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return s.srv.Shutdown(ctx)
}

// etcdHealth answers like etcd's /health: {"health":"true","reason":""},
// with status 503 when unhealthy.
func etcdHealth(check func(context.Context) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body := map[string]string{"health": "true", "reason": ""}
		code := http.StatusOK
		if err := run(r.Context(), check); err != nil {
			body["health"], body["reason"] = "false", err.Error()
			code = http.StatusServiceUnavailable
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(body)
	}
}

// probe answers a Kubernetes-style probe: "ok" or 503 and the reason.
func probe(check func(context.Context) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := run(r.Context(), check); err != nil {
			http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	}
}

func run(ctx context.Context, check func(context.Context) error) error {
	if check == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	return check(ctx)
}
