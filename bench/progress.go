package bench

import (
	"fmt"
	"os"
	"strings"
	"time"
)

// progressInterval is how often the bar is redrawn.
const progressInterval = 250 * time.Millisecond

// progressWidth is the bar's width in characters.
const progressWidth = 30

// IsTerminal reports whether f is a character device (a terminal), where a
// carriage-return progress bar makes sense; a file or pipe would fill up
// with redraws.
func IsTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// progress redraws the bar until the clients are done, then clears it.
func (r *run) progress(clients <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(progressInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			fmt.Fprint(r.opts.Progress, "\r"+r.progressLine(time.Now()))
		case <-clients:
			fmt.Fprint(r.opts.Progress, "\r"+strings.Repeat(" ", progressWidth+70)+"\r")
			return
		}
	}
}

// progressLine is one frame: the bar (share of Total requests or of the
// Duration), requests, errors, the mean rate so far and the time.
func (r *run) progressLine(now time.Time) string {
	el := now.Sub(r.start)
	done, failed := r.done.Load(), r.failed.Load()
	var frac float64
	if r.spec.Total > 0 {
		frac = float64(done+failed) / float64(r.spec.Total)
	} else {
		frac = el.Seconds() / r.spec.Duration.D().Seconds()
	}
	return renderProgress(r.spec.Name, frac, done, failed, el)
}

// renderProgress draws a bar for frac in [0, 1] (clamped).
func renderProgress(name string, frac float64, done, failed int64, el time.Duration) string {
	frac = min(max(frac, 0), 1)
	full := int(frac * progressWidth)
	bar := strings.Repeat("=", full)
	if full < progressWidth {
		bar += ">" + strings.Repeat(" ", progressWidth-full-1)
	}
	rate := 0.0
	if el > 0 {
		rate = float64(done) / el.Seconds()
	}
	return fmt.Sprintf("%-12.12s [%s] %3.0f%% %9d ok %6d err %9.0f req/s %6.1fs", name, bar, frac*100, done, failed, rate, el.Seconds())
}
