package merkle

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

func TestMetricsObserve(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewMetrics(reg); err == nil {
		t.Fatal("registering twice succeeded")
	}
	a, _ := New(Config{Depth: 4}, FullRange)
	b, _ := New(Config{Depth: 4}, FullRange)
	_ = a.Add(1, digestOf(1, 0))
	ec := DefaultExchangeConfig()

	run := func(b *Tree) *Session {
		s, _ := NewSession(a, 1, ec)
		for !s.Done() {
			for _, q := range s.Poll() {
				var rep Reply
				if b == nil {
					rep = RespondNoTree(&q)
				} else {
					rep = Respond(b, &q, ec)
				}
				s.Handle(&rep)
			}
		}
		return s
	}
	s := run(b)
	m.Observe(s)
	m.Observe(run(a.Clone()))
	m.Observe(run(nil))
	st := s.Stats()
	for _, c := range []struct {
		got  float64
		want float64
		name string
	}{
		{counterValue(t, m.exchanges.WithLabelValues(resultDiffer)), 1, "differ"},
		{counterValue(t, m.exchanges.WithLabelValues(resultEqual)), 1, "equal"},
		{counterValue(t, m.exchanges.WithLabelValues(resultNoTree)), 1, "no_tree"},
		{counterValue(t, m.ranges), 1, "ranges"},
		{counterValue(t, m.leaves), float64(st.LeavesCovered), "leaves"},
		{counterValue(t, m.requests), 3, "requests"},
	} {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	var nilM *Metrics
	nilM.Observe(s) // must not panic
	if _, err := NewMetrics(nil); err != nil {
		t.Fatal(err)
	}
}

// counterValue reads a counter (prometheus/testutil would pull a module
// that go.mod does not have).
func counterValue(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}
