package bench

import (
	"bytes"
	"os"
	"testing"
	"time"
)

// The progress line shows the rate since the previous line, not the average since the start.
func TestProgressLineShowsCurrentRate(t *testing.T) {
	var rl rateLine
	first := rl.format("sent", time.Second, time.Second, 1000, 1_000_000, "")
	if want := "   1.0s  sent 1000 records  1000 records/s  1.00 MB/s"; first != want {
		t.Fatalf("first line %q, want %q", first, want)
	}
	second := rl.format("sent", 3*time.Second, 2*time.Second, 5000, 5_000_000, "  x")
	if want := "   3.0s  sent 5000 records  2000 records/s  2.00 MB/s  x"; second != want {
		t.Fatalf("second line %q, want %q", second, want)
	}
}

// No progress line goes to a pipe, a file or a buffer: only to a terminal.
func TestIsTerminal(t *testing.T) {
	if IsTerminal(new(bytes.Buffer)) {
		t.Fatal("a buffer is a terminal")
	}
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if IsTerminal(f) {
		t.Fatal("a file is a terminal")
	}
	// With nothing to draw on, startProgress starts no goroutine (goleak checks) and stop
	// returns at once.
	startProgress(nil, func(time.Duration, time.Duration) string { return "" }).stop()
}
