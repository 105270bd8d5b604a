package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/goleak"

	"github.com/sluicehq/sluice/internal/node/nodetest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var update = flag.Bool("update", false, "rewrite golden files")

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func seeds(c *nodetest.Cluster) []kgo.Opt { return []kgo.Opt{kgo.SeedBrokers(c.Addr)} }

// What is produced is what is consumed: every acknowledged record, once, with its bytes,
// whatever the acks, keys, compression, producer and consumer counts.
func TestProduceThenConsumeCountsMatch(t *testing.T) {
	c := nodetest.Start(t)
	for _, tc := range []struct {
		name string
		p    ProduceConfig
		cons int
	}{
		{"acks all idempotent, 1 partition", ProduceConfig{Records: 3000, RecordSizeBytes: 1024, Partitions: 1, Acks: "all", Idempotent: true, Producers: 1}, 1},
		{"acks 1, keys, 4 partitions, 2 producers, 3 consumers", ProduceConfig{Records: 2500, RecordSizeBytes: 100, KeySizeBytes: 16, Partitions: 4, Acks: "1", Producers: 2, MaxInflight: 3}, 3},
		{"zstd, linger, small batches", ProduceConfig{Records: 2000, RecordSizeBytes: 300, Partitions: 2, Acks: "all", Idempotent: true, Producers: 1, Compression: "zstd", Linger: 2 * time.Millisecond, BatchMaxBytes: 16 << 10}, 1},
		{"more consumers than partitions", ProduceConfig{Records: 500, RecordSizeBytes: 10, Partitions: 1, Acks: "1", Producers: 1}, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testCtx(t)
			tc.p.Topic = strings.NewReplacer(" ", "-", ",", "").Replace(tc.name)
			ps, err := Produce(ctx, seeds(c), tc.p, Output{})
			if err != nil {
				t.Fatal(err)
			}
			wantBytes := tc.p.Records * int64(tc.p.RecordSizeBytes+tc.p.KeySizeBytes)
			if ps.Records != tc.p.Records || ps.Bytes != wantBytes || ps.Errors != 0 {
				t.Fatalf("produced %d records, %d bytes, %d errors; want %d, %d, 0", ps.Records, ps.Bytes, ps.Errors, tc.p.Records, wantBytes)
			}
			if ps.Partitions != int(tc.p.Partitions) || ps.ProduceLatency == nil || ps.ProduceLatency.P50 <= 0 || ps.ProduceLatency.Max < ps.ProduceLatency.P99 {
				t.Fatalf("summary %+v, latency %+v", ps, ps.ProduceLatency)
			}
			cs, err := Consume(ctx, seeds(c), ConsumeConfig{Topic: tc.p.Topic, Consumers: tc.cons, From: "start"}, Output{})
			if err != nil {
				t.Fatal(err)
			}
			if cs.Records != ps.Records || cs.Bytes != ps.Bytes || cs.Errors != 0 {
				t.Fatalf("consumed %d records, %d bytes, %d errors; produced %d, %d", cs.Records, cs.Bytes, cs.Errors, ps.Records, ps.Bytes)
			}
			// A second produce run appends; reading N from an offset reads exactly N.
			part, err := Consume(ctx, seeds(c), ConsumeConfig{Topic: tc.p.Topic, Consumers: tc.cons, From: "0", Records: 123}, Output{})
			if err != nil || part.Records != 123 {
				t.Fatalf("consume 123: %d records, %v", part.Records, err)
			}
		})
	}
}

func TestProduceForDuration(t *testing.T) {
	c := nodetest.Start(t)
	ctx := testCtx(t)
	p := ProduceConfig{Topic: "dur", Duration: 300 * time.Millisecond, RecordSizeBytes: 512, Partitions: 2, Acks: "1", Producers: 2}
	ps, err := Produce(ctx, seeds(c), p, Output{})
	if err != nil {
		t.Fatal(err)
	}
	if ps.Records == 0 {
		t.Fatal("nothing produced in 300 ms")
	}
	cs, err := Consume(ctx, seeds(c), ConsumeConfig{Topic: "dur", Consumers: 1, From: "start"}, Output{})
	if err != nil || cs.Records != ps.Records {
		t.Fatalf("consumed %d, produced %d (%v)", cs.Records, ps.Records, err)
	}
}

func TestE2ECountsMatch(t *testing.T) {
	c := nodetest.Start(t)
	for _, tc := range []struct {
		name string
		cfg  E2EConfig
	}{
		{"acks all", E2EConfig{Produce: ProduceConfig{Topic: "e2e-all", Records: 3000, RecordSizeBytes: 1024, Partitions: 1, Acks: "all", Idempotent: true, Producers: 1}, Consumers: 1}},
		{"rate-limited", E2EConfig{Produce: ProduceConfig{Topic: "e2e-rate", Records: 400, RecordSizeBytes: 100, Partitions: 1, Acks: "all", Idempotent: true, Producers: 2, RatePerSec: 2000}, Consumers: 1}},
		{"acks 1, 3 partitions, 2 and 2", E2EConfig{Produce: ProduceConfig{Topic: "e2e-one", Records: 3000, RecordSizeBytes: 64, KeySizeBytes: 8, Partitions: 3, Acks: "1", Producers: 2}, Consumers: 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testCtx(t)
			// Records already in the topic are not part of the run.
			if _, err := Produce(ctx, seeds(c), tc.cfg.Produce, Output{}); err != nil {
				t.Fatal(err)
			}
			s, err := E2E(ctx, seeds(c), tc.cfg, Output{})
			if err != nil {
				t.Fatal(err)
			}
			if s.Records != tc.cfg.Produce.Records || s.RecordsReceived == nil || *s.RecordsReceived != s.Records {
				t.Fatalf("sent %d, received %v, want %d", s.Records, s.RecordsReceived, tc.cfg.Produce.Records)
			}
			if s.E2ELatency == nil || s.E2ELatency.P50 <= 0 || s.ProduceLatency == nil {
				t.Fatalf("latencies missing: %+v %+v", s.E2ELatency, s.ProduceLatency)
			}
		})
	}
}

// The commands as a script runs them: flags, --json output that parses, counts that match.
func TestCommandJSON(t *testing.T) {
	c := nodetest.Start(t)
	run := func(args ...string) Summary {
		t.Helper()
		cmd := Command(func(k string) string {
			if k == "SLUICE_BROKERS" {
				return c.Addr
			}
			return ""
		})
		var out, errb bytes.Buffer
		cmd.SetOut(&out)
		cmd.SetErr(&errb)
		cmd.SetArgs(append(args, "--json", "--timeout", "40s"))
		if err := cmd.ExecuteContext(testCtx(t)); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, errb.String())
		}
		var s Summary
		dec := json.NewDecoder(&out)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&s); err != nil {
			t.Fatalf("%v: output is not one JSON summary: %v\n%s", args, err, out.String())
		}
		return s
	}
	p := run("produce", "--topic", "cmd", "--records", "1500", "--record-size", "200", "--partitions", "3", "--acks", "1")
	if p.Mode != "produce" || p.Records != 1500 || p.Bytes != 300000 || p.Partitions != 3 || p.RecordsPerSec <= 0 || p.MBPerSec <= 0 {
		t.Fatalf("produce summary %+v", p)
	}
	cs := run("consume", "--topic", "cmd", "--consumers", "2")
	if cs.Mode != "consume" || cs.Records != 1500 || cs.Bytes != 300000 {
		t.Fatalf("consume summary %+v", cs)
	}
	e := run("e2e", "--topic", "cmd-e2e", "-n", "800", "--record-size", "100", "--acks", "all")
	if e.Mode != "e2e" || e.Records != 800 || e.RecordsReceived == nil || *e.RecordsReceived != 800 || e.E2ELatency == nil {
		t.Fatalf("e2e summary %+v", e)
	}
}

func TestInvalidFlagsAreUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"produce", "--acks", "2"},
		{"produce", "--compression", "brotli"},
		{"produce", "--acks", "1", "--idempotent"},
		{"produce", "--max-inflight", "10"}, // idempotent by default
		{"produce", "--partitions", "0"},
		{"produce", "--rate", "-5"},
		{"consume", "--from", "middle"},
		{"consume", "--from", "end"},
		{"e2e", "--record-size", "4"},
		{"produce", "-b", "nohostport"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			cmd := Command(nil)
			cmd.SetOut(new(bytes.Buffer))
			cmd.SetErr(new(bytes.Buffer))
			cmd.SetArgs(args)
			err := cmd.Execute()
			if err == nil {
				t.Fatal("accepted")
			}
			if !errors.Is(err, ErrUsage) && !strings.Contains(err.Error(), "connect:") {
				t.Fatalf("error %v is not a usage error", err)
			}
		})
	}
}

// The text summary's layout is stable: scripts that scrape it and people who compare runs
// rely on it.
func TestSummaryTextGolden(t *testing.T) {
	recv := int64(99_998)
	s := Summary{Mode: "e2e", Topic: "golden", Partitions: 8, Records: 100_000, RecordsReceived: &recv,
		Bytes: 102_400_000, Errors: 2, FirstError: "NOT_LEADER_OR_FOLLOWER",
		ProduceLatency: &Latency{Mean: 1.5, P50: 1.25, P99: 4.5, P999: 9.75, Max: 20},
		E2ELatency:     &Latency{Mean: 2, P50: 1.75, P99: 6, P999: 12.5, Max: 31.125}}
	s.fill(2500 * time.Millisecond)
	var buf bytes.Buffer
	if err := s.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	buf.WriteString("---\n")
	if err := s.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "summary.golden")
	if *update {
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if buf.String() != string(want) {
		t.Fatalf("summary differs from %s (go test -update rewrites it):\n%s", path, buf.String())
	}
}

func TestKeyAndStamp(t *testing.T) {
	for _, tc := range []struct {
		seq  int64
		n    int
		want string
	}{{7, 4, "0007"}, {12345, 3, "345"}, {1, 1, "1"}} {
		if got := string(appendKey(nil, tc.seq, tc.n)); got != tc.want {
			t.Errorf("appendKey(%d,%d) = %q, want %q", tc.seq, tc.n, got, tc.want)
		}
	}
	now := time.Now()
	v := make([]byte, 16)
	putStamp(v, now)
	got, ok := getStamp(v)
	if !ok || got.UnixNano() != now.UnixNano() {
		t.Fatalf("stamp round trip %v, want %v", got, now)
	}
	if _, ok := getStamp(v[:7]); ok {
		t.Fatal("short value has a stamp")
	}
}
