package node_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/node"
	"github.com/sluicehq/sluice/internal/node/nodetest"
	"github.com/sluicehq/sluice/internal/server"
)

// scrape is one parsed /metrics answer.
type scrape map[string]*dto.MetricFamily

func scrapeMetrics(t *testing.T, addr string) scrape {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: %s", resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("/metrics does not parse: %v", err)
	}
	return fams
}

// value returns the value of the series of name whose labels include want (counter, gauge,
// or a histogram's sample count), and whether there is one.
func (s scrape) value(name string, want ...string) (float64, bool) {
	f := s[name]
	if f == nil {
		return 0, false
	}
next:
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		for i := 0; i+1 < len(want); i += 2 {
			if have[want[i]] != want[i+1] {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		case m.Untyped != nil:
			return m.Untyped.GetValue(), true
		}
	}
	return 0, false
}

func (s scrape) get(name string, labels ...string) float64 {
	v, _ := s.value(name, labels...)
	return v
}

// TestMetricsScrape drives a node with franz-go and checks that the scraped counters moved
// by what the traffic implies.
func TestMetricsScrape(t *testing.T) {
	c := nodetest.Start(t)
	addr := c.Node.MetricsAddr().String()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	adm := c.Admin(t)
	if _, err := adm.CreateTopic(ctx, 1, 1, nil, "m"); err != nil {
		t.Fatal(err)
	}
	before := scrapeMetrics(t, addr)

	// Ten produce requests of one record each (ProduceSync waits for each).
	const n = 10
	value := bytes.Repeat([]byte("v"), 1000)
	p := c.Client(t, kgo.DefaultProduceTopic("m"), kgo.ProducerLinger(0), kgo.ProducerBatchCompression(kgo.NoCompression()))
	for i := range n {
		if err := p.ProduceSync(ctx, &kgo.Record{Key: fmt.Appendf(nil, "k%d", i), Value: value}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	// A deliberate error: a partition that does not exist.
	bad := kmsg.NewPtrProduceRequest()
	bad.Acks, bad.TimeoutMillis = 1, 5000
	bt := kmsg.NewProduceRequestTopic()
	bt.Topic = "no-such-topic"
	bp := kmsg.NewProduceRequestTopicPartition()
	bt.Partitions = append(bt.Partitions, bp)
	bad.Topics = append(bad.Topics, bt)
	resp, err := bad.RequestWith(ctx, p.Broker(1))
	if err != nil {
		t.Fatal(err)
	}
	if code := resp.Topics[0].Partitions[0].ErrorCode; code != 3 {
		t.Fatalf("produce to a missing topic: error %d, want 3", code)
	}

	// Consume everything in a group and commit.
	cons := c.Client(t, kgo.ConsumeTopics("m"), kgo.ConsumerGroup("mg"), kgo.DisableAutoCommit(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	var recs []*kgo.Record
	for len(recs) < n && ctx.Err() == nil {
		recs = append(recs, cons.PollFetches(ctx).Records()...)
	}
	if len(recs) != n {
		t.Fatalf("consumed %d of %d", len(recs), n)
	}
	if err := cons.CommitRecords(ctx, recs[len(recs)-1]); err != nil {
		t.Fatal(err)
	}

	// A request is counted after its response is written, so the client may be quicker
	// than the counter: scrape until the last request (the commit) shows, bounded.
	var after scrape
	delta := func(name string, labels ...string) float64 {
		return after.get(name, labels...) - before.get(name, labels...)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		after = scrapeMetrics(t, addr)
		if delta("sluice_requests_total", "api", "OffsetCommit") > 0 || time.Now().After(deadline) {
			break
		}
	}
	size := after.get("sluice_log_size_bytes", "topic", "m", "partition", "0")
	for _, tc := range []struct {
		what      string
		got, want float64
	}{
		{"records in", delta("sluice_topic_records_in_total", "topic", "m"), n},
		// The log holds exactly what was produced into it.
		{"bytes in vs log size", delta("sluice_topic_bytes_in_total", "topic", "m"), size},
		{"bytes out vs log size (each record fetched once)", delta("sluice_topic_bytes_out_total", "topic", "m"), size},
		{"produce requests", delta("sluice_requests_total", "api", "Produce"), n + 1},
		{"produce total-time samples", delta("sluice_request_total_time_seconds", "api", "Produce"), n + 1},
		{"produce NONE codes", delta("sluice_responses_total", "api", "Produce", "error", "NONE"), n},
		{"produce UNKNOWN_TOPIC_OR_PARTITION", delta("sluice_responses_total", "api", "Produce", "error", "UNKNOWN_TOPIC_OR_PARTITION"), 1},
		{"offset commits", delta("sluice_requests_total", "api", "OffsetCommit"), 1},
		{"log end offset", after.get("sluice_log_end_offset", "topic", "m", "partition", "0"), n},
		{"segments", after.get("sluice_log_segments", "topic", "m", "partition", "0"), 1},
		{"active controller", after.get("sluice_controller_active"), 1},
		{"raft leader id", after.get("sluice_raft_leader_id"), 1},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: %v, want %v", tc.what, tc.got, tc.want)
		}
	}
	if size < n*1000 {
		t.Errorf("log size %v for %d records of 1000 bytes", size, n)
	}
	for _, tc := range []struct {
		what string
		ok   bool
	}{
		{"fetches counted", delta("sluice_requests_total", "api", "Fetch") > 0},
		{"client connections open", after.get("sluice_connections_open", "listener", "PLAINTEXT") >= 2},
		{"client connections accepted", delta("sluice_connections_accepted_total", "listener", "PLAINTEXT") >= 2},
		{"log flushes (group commit)", delta("sluice_log_flush_seconds") >= 1},
		{"a group with a member", after.get("sluice_group_members") >= 1},
		{"raft term", after.get("sluice_raft_term") >= 1},
		{"raft applied ≤ commit ≤ last", after.get("sluice_raft_applied_index") > 0 &&
			after.get("sluice_raft_applied_index") <= after.get("sluice_raft_commit_index") &&
			after.get("sluice_raft_commit_index") <= after.get("sluice_raft_last_log_index")},
		{"metadata offset applied", after.get("sluice_metadata_applied_offset") > 0},
		{"go runtime", after.get("go_goroutines") > 0},
		{"process", after.get("process_resident_memory_bytes") > 0},
	} {
		if !tc.ok {
			t.Errorf("%s: no", tc.what)
		}
	}
	if _, ok := after.value("sluice_groups", "type", "classic"); !ok {
		t.Error("no sluice_groups series for the classic group")
	}
	if t.Failed() {
		for _, m := range after["sluice_requests_total"].GetMetric() {
			t.Logf("requests %v: %v", m.GetLabel(), m.GetCounter().GetValue())
		}
	}
}

// TestMetricsListenerOff: an empty sluice.metrics.listener binds nothing.
func TestMetricsListenerOff(t *testing.T) {
	c := nodetest.Start(t, nodetest.Override("sluice.metrics.listener", ""))
	if a := c.Node.MetricsAddr(); a != nil {
		t.Fatalf("metrics listener bound at %v while off", a)
	}
}

// syncBuffer is a log sink safe for the node's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// TestHealthAndReady: /healthz answers 200 from the start, /readyz 503 with the reason
// until the node serves, then 200; the listener closes with the node.
func TestHealthAndReady(t *testing.T) {
	dir := t.TempDir()
	props := config.SingleNodeDefaults()
	props["listeners"] = "PLAINTEXT://127.0.0.1:0,CONTROLLER://127.0.0.1:0"
	props["controller.quorum.voters"] = "1@127.0.0.1:0"
	props["log.dirs"] = filepath.Join(dir, "data")
	props["sluice.metrics.listener"] = "127.0.0.1:0"
	cfg, _, err := config.New(config.NewProps(props, config.Origin{Name: "test"}))
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	bound := regexp.MustCompile(`msg="metrics listener bound".* addr=(\S+)`)
	var base string
	var startHealth, startReady int
	var startReason string
	opts := node.Options{
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo})),
		// Called by Start just before the Kafka listeners open: the node does not serve yet.
		Server: func(*server.Options) {
			m := bound.FindStringSubmatch(logs.String())
			if m == nil {
				return
			}
			base = "http://" + m[1]
			startHealth, _ = get(t, base+"/healthz")
			startReady, startReason = get(t, base+"/readyz")
		},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	n, err := node.Start(ctx, cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	if base == "" {
		t.Fatalf("no metrics listener address logged:\n%s", logs.String())
	}
	if base != "http://"+n.MetricsAddr().String() {
		t.Fatalf("logged %s, MetricsAddr %v", base, n.MetricsAddr())
	}
	if startHealth != http.StatusOK || startReady != http.StatusServiceUnavailable || !strings.Contains(startReason, "starting") {
		t.Errorf("during startup: /healthz %d, /readyz %d %q; want 200, 503 with the step", startHealth, startReady, startReason)
	}
	// Ready once the node serves and its __consumer_offsets partitions have loaded.
	var code int
	var body string
	deadline := time.Now().Add(20 * time.Second)
	for code, body = get(t, base+"/readyz"); code != http.StatusOK && time.Now().Before(deadline); code, body = get(t, base+"/readyz") {
		time.Sleep(20 * time.Millisecond)
	}
	if code != http.StatusOK {
		t.Errorf("/readyz after start: %d %q", code, body)
	}
	if code, _ := get(t, base+"/healthz"); code != http.StatusOK {
		t.Errorf("/healthz after start: %d", code)
	}
	if err := n.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Fatal("metrics listener still answers after Close")
	}
	http.DefaultClient.CloseIdleConnections()
}
