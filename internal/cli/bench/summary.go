package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// Summary is the result of one run, as printed (text or JSON). MB are 10^6 bytes of record
// payload (keys and values, as Kafka's perf tools count), not wire or disk bytes.
type Summary struct {
	Mode            string   `json:"mode"` // produce, consume or e2e
	Topic           string   `json:"topic"`
	Partitions      int      `json:"partitions"`
	Records         int64    `json:"records"`                    // acknowledged (produce, e2e) or consumed (consume)
	RecordsReceived *int64   `json:"records_received,omitempty"` // e2e only
	Bytes           int64    `json:"bytes"`
	Errors          int64    `json:"errors"`
	FirstError      string   `json:"first_error,omitempty"`
	ElapsedSeconds  float64  `json:"elapsed_seconds"`
	RecordsPerSec   float64  `json:"records_per_sec"`
	MBPerSec        float64  `json:"mb_per_sec"`
	ProduceLatency  *Latency `json:"produce_latency_ms,omitempty"`
	E2ELatency      *Latency `json:"e2e_latency_ms,omitempty"`
}

// Latency is a latency distribution in milliseconds.
type Latency struct {
	Mean float64 `json:"mean"`
	P50  float64 `json:"p50"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p99.9"`
	Max  float64 `json:"max"`
}

func latencyOf(h *Histogram) *Latency {
	if h.Count() == 0 {
		return nil
	}
	return &Latency{Mean: ms(h.Mean()), P50: ms(h.Quantile(0.5)), P99: ms(h.Quantile(0.99)),
		P999: ms(h.Quantile(0.999)), Max: ms(h.Max())}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// fill computes the rates from the counts and elapsed time.
func (s *Summary) fill(elapsed time.Duration) {
	s.ElapsedSeconds = elapsed.Seconds()
	if elapsed > 0 {
		s.RecordsPerSec = float64(s.Records) / elapsed.Seconds()
		s.MBPerSec = float64(s.Bytes) / 1e6 / elapsed.Seconds()
	}
}

// WriteJSON writes s as one JSON object and a newline.
func (s *Summary) WriteJSON(w io.Writer) error {
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// WriteText writes s for a person, one fact a line.
func (s *Summary) WriteText(w io.Writer) error {
	var b strings.Builder
	parts := "partitions"
	if s.Partitions == 1 {
		parts = "partition"
	}
	fmt.Fprintf(&b, "%s: topic %s, %d %s\n", s.Mode, s.Topic, s.Partitions, parts)
	fmt.Fprintf(&b, "  records     %d", s.Records)
	if s.RecordsReceived != nil {
		fmt.Fprintf(&b, " sent, %d received", *s.RecordsReceived)
	}
	b.WriteByte('\n')
	fmt.Fprintf(&b, "  elapsed     %.3f s\n", s.ElapsedSeconds)
	fmt.Fprintf(&b, "  throughput  %.0f records/s, %.2f MB/s\n", s.RecordsPerSec, s.MBPerSec)
	writeLatency(&b, "produce latency", s.ProduceLatency)
	writeLatency(&b, "e2e latency", s.E2ELatency)
	fmt.Fprintf(&b, "  errors      %d", s.Errors)
	if s.FirstError != "" {
		fmt.Fprintf(&b, " (first: %s)", s.FirstError)
	}
	b.WriteByte('\n')
	_, err := io.WriteString(w, b.String())
	return err
}

func writeLatency(b *strings.Builder, name string, l *Latency) {
	if l == nil {
		return
	}
	fmt.Fprintf(b, "  %s ms: p50 %.3f  p99 %.3f  p99.9 %.3f  max %.3f  mean %.3f\n",
		name, l.P50, l.P99, l.P999, l.Max, l.Mean)
}
