package bench

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// IsTerminal reports whether w is a terminal (a progress line makes sense there only).
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// progress redraws one status line on w once a second until stop is called.
type progress struct {
	w     io.Writer
	start time.Time
	line  func(elapsed, interval time.Duration) string
	done  chan struct{}
	wg    sync.WaitGroup
}

// startProgress starts the redraw loop; with w nil it does nothing. line returns the text
// for the time since the start and since the previous line.
func startProgress(w io.Writer, line func(elapsed, interval time.Duration) string) *progress {
	p := &progress{w: w, start: time.Now(), line: line, done: make(chan struct{})}
	if w == nil {
		return p
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(time.Second)
		defer t.Stop()
		last := p.start
		for {
			select {
			case <-p.done:
				fmt.Fprint(p.w, "\r\033[K") // clear the line for the summary
				return
			case now := <-t.C:
				fmt.Fprintf(p.w, "\r\033[K%s", p.line(now.Sub(p.start), now.Sub(last)))
				last = now
			}
		}
	}()
	return p
}

// stop ends the loop, clears the line and waits for the goroutine.
func (p *progress) stop() {
	select {
	case <-p.done:
	default:
		close(p.done)
	}
	p.wg.Wait()
}

// rateLine formats a progress line from running totals; prev holds the totals at the last
// call so the line shows the current rate, not the average.
type rateLine struct {
	prevRecords, prevBytes int64
}

func (r *rateLine) format(label string, elapsed, interval time.Duration, records, bytes int64, extra string) string {
	dr, db := records-r.prevRecords, bytes-r.prevBytes
	r.prevRecords, r.prevBytes = records, bytes
	sec := interval.Seconds()
	if sec <= 0 {
		sec = 1
	}
	return fmt.Sprintf("%6.1fs  %s %d records  %.0f records/s  %.2f MB/s%s",
		elapsed.Seconds(), label, records, float64(dr)/sec, float64(db)/1e6/sec, extra)
}
