package metrics

import (
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"go.uber.org/goleak"

	"github.com/sluicehq/sluice/internal/protocol/message"
	"github.com/sluicehq/sluice/internal/server"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// registeredNames lists the metric names every collector of m describes.
func registeredNames(t *testing.T, m *Metrics) []string {
	t.Helper()
	ch := make(chan *prometheus.Desc, 1024)
	for _, c := range m.collectors {
		c.Describe(ch)
	}
	close(ch)
	fq := regexp.MustCompile(`fqName: "([^"]+)"`)
	var names []string
	for d := range ch {
		sub := fq.FindStringSubmatch(d.String())
		if sub == nil {
			t.Fatalf("no name in %s", d)
		}
		names = append(names, sub[1])
	}
	return names
}

// TestDocumented fails when a registered metric is not in docs/METRICS.md: Sluice's own by
// name, the Go and process collectors' by their go_* and process_* families.
func TestDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/METRICS.md")
	if err != nil {
		t.Fatal(err)
	}
	names := registeredNames(t, New())
	if len(names) < 30 {
		t.Fatalf("only %d metrics described: %v", len(names), names)
	}
	for _, name := range names {
		key := "`" + name + "`"
		switch {
		case strings.HasPrefix(name, "go_"):
			key = "`go_*`"
		case strings.HasPrefix(name, "process_"):
			key = "`process_*`"
		}
		if !strings.Contains(string(doc), key) {
			t.Errorf("docs/METRICS.md does not list %s", key)
		}
	}
}

// TestObserver: connection and request events become the counters and histograms of
// their listener, API and error names.
func TestObserver(t *testing.T) {
	m := New()
	m.ConnectionOpened("PLAINTEXT")
	m.ConnectionOpened("PLAINTEXT")
	m.ConnectionClosed("PLAINTEXT")
	m.ConnectionRefused("PLAINTEXT", server.RefusedMaxConnectionsPerIP)

	produce := message.NewProduceResponse()
	for _, codes := range [][]int16{{0, 3}, {0}} {
		tp := message.ProduceResponseTopicProduceResponse{}
		for _, c := range codes {
			tp.PartitionResponses = append(tp.PartitionResponses, message.ProduceResponsePartitionProduceResponse{ErrorCode: c})
		}
		produce.Responses = append(produce.Responses, tp)
	}
	fetch := message.NewFetchResponse()
	fetch.Responses = []message.FetchResponseFetchableTopicResponse{{Partitions: []message.FetchResponsePartitionData{{ErrorCode: 1}}}}
	heartbeat := message.NewHeartbeatResponse()
	heartbeat.ErrorCode = 27 // REBALANCE_IN_PROGRESS, through the reflective path
	for _, ev := range []server.RequestEvent{
		{APIKey: message.KeyProduce, RequestBytes: 100, ResponseBytes: 40, Sent: true, Response: produce,
			QueueTime: time.Millisecond, HandleTime: 2 * time.Millisecond, SendTime: time.Millisecond},
		{APIKey: message.KeyProduce, RequestBytes: 50}, // acks=0: no response
		{APIKey: message.KeyFetch, Response: fetch},
		{APIKey: message.KeyHeartbeat, Response: heartbeat},
	} {
		m.RequestDone(ev)
	}
	for _, tc := range []struct {
		c    prometheus.Collector
		want float64
	}{
		{m.connsOpen.WithLabelValues("PLAINTEXT"), 1},
		{m.connsAccepted.WithLabelValues("PLAINTEXT"), 2},
		{m.connsRefused.WithLabelValues("PLAINTEXT", "max.connections.per.ip"), 1},
		{m.requests.WithLabelValues("Produce"), 2},
		{m.requestBytes.WithLabelValues("Produce"), 150},
		{m.responseBytes.WithLabelValues("Produce"), 40},
		{m.responses.WithLabelValues("Produce", "NONE"), 2},
		{m.responses.WithLabelValues("Produce", "UNKNOWN_TOPIC_OR_PARTITION"), 1},
		{m.responses.WithLabelValues("Fetch", "NONE"), 1}, // the top-level code
		{m.responses.WithLabelValues("Fetch", "OFFSET_OUT_OF_RANGE"), 1},
		{m.responses.WithLabelValues("Heartbeat", "REBALANCE_IN_PROGRESS"), 1},
	} {
		if got := value(t, tc.c); got != tc.want {
			t.Errorf("%v: %v, want %v", tc.c, got, tc.want)
		}
	}
	if n := count(m.totalTime); n != 3 {
		t.Errorf("%d total-time series (Produce, Fetch, Heartbeat), want 3", n)
	}
	m.ObserveFlush(3 * time.Millisecond)
	if n := count(m.flushTime); n != 1 {
		t.Errorf("flush histogram: %d series", n)
	}
	// With no sources the pull collector reports nothing, and the scrape still works.
	if _, err := m.reg.Gather(); err != nil {
		t.Fatal(err)
	}
}

func collect(c prometheus.Collector) []prometheus.Metric {
	ch := make(chan prometheus.Metric, 1024)
	c.Collect(ch)
	close(ch)
	var out []prometheus.Metric
	for m := range ch {
		out = append(out, m)
	}
	return out
}

func count(c prometheus.Collector) int { return len(collect(c)) }

// value is the value of a collector holding one counter or gauge.
func value(t *testing.T, c prometheus.Collector) float64 {
	t.Helper()
	ms := collect(c)
	if len(ms) != 1 {
		t.Fatalf("%d metrics, want 1", len(ms))
	}
	var d dto.Metric
	if err := ms[0].Write(&d); err != nil {
		t.Fatal(err)
	}
	if d.Counter != nil {
		return d.Counter.GetValue()
	}
	return d.Gauge.GetValue()
}
