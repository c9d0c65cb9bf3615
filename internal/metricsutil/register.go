package metricsutil

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Register registers every collector with reg, or none: on an error it
// unregisters those it had registered. A nil reg registers nothing. The
// error names the component, and when a collector is already registered
// it says how to give each instance its own labels.
func Register(reg prometheus.Registerer, component string, cs ...prometheus.Collector) error {
	if reg == nil {
		return nil
	}
	for i, c := range cs {
		if err := reg.Register(c); err != nil {
			for _, done := range cs[:i] {
				reg.Unregister(done)
			}
			if are := (prometheus.AlreadyRegisteredError{}); errors.As(err, &are) {
				return fmt.Errorf("%s: metrics already registered (label each instance with prometheus.WrapRegistererWith): %w", component, err)
			}
			return fmt.Errorf("%s: register metrics: %w", component, err)
		}
	}
	return nil
}
