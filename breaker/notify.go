package breaker

// mustDeliverLocked reports whether transitions are waiting for
// OnStateChange and no goroutine is delivering them.
func (b *Breaker) mustDeliverLocked() bool { return len(b.mu.pending) > 0 && !b.mu.delivering }

// deliver passes pending transitions to OnStateChange, in order, until
// none is left. Only one goroutine delivers at a time; transitions made
// meanwhile (even by the callback itself) are delivered by the same loop.
func (b *Breaker) deliver() {
	b.mu.Lock()
	if !b.mustDeliverLocked() {
		b.mu.Unlock()
		return
	}
	b.mu.delivering = true
	done := false
	defer func() {
		if !done { // the callback panicked: let the next caller deliver
			b.mu.Lock()
			b.mu.delivering = false
			b.mu.Unlock()
		}
	}()
	for len(b.mu.pending) > 0 {
		batch := b.mu.pending
		b.mu.pending = nil
		b.mu.Unlock()
		for _, t := range batch {
			b.cfg.OnStateChange(t)
		}
		b.mu.Lock()
	}
	b.mu.delivering = false
	done = true
	b.mu.Unlock()
}
