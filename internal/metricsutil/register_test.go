package metricsutil

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestRegisterIsAllOrNothing(t *testing.T) {
	reg := prometheus.NewRegistry()
	taken := prometheus.NewCounter(prometheus.CounterOpts{Name: "taken_total", Help: "h"})
	if err := Register(reg, "x", taken); err != nil {
		t.Fatal(err)
	}
	fresh := prometheus.NewCounter(prometheus.CounterOpts{Name: "fresh_total", Help: "h"})
	again := prometheus.NewCounter(prometheus.CounterOpts{Name: "taken_total", Help: "h"})
	err := Register(reg, "comp", fresh, again)
	if err == nil || !strings.Contains(err.Error(), "comp: metrics already registered") {
		t.Fatalf("Register of a taken name: %v", err)
	}
	// fresh was rolled back: it can be registered again.
	if err := reg.Register(fresh); err != nil {
		t.Fatalf("the first collector was left registered: %v", err)
	}
	if err := Register(nil, "x", fresh); err != nil {
		t.Fatalf("nil registerer: %v", err)
	}
}
