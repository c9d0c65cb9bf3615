// Package metricsutil holds what the components' Prometheus metrics share:
// registering a component's collectors all or nothing.
package metricsutil
