package metrics

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sluicehq/sluice/internal/group"
	"github.com/sluicehq/sluice/internal/protocol/kerr"
	"github.com/sluicehq/sluice/internal/protocol/message"
	"github.com/sluicehq/sluice/internal/quorum"
	"github.com/sluicehq/sluice/internal/replica"
	"github.com/sluicehq/sluice/internal/server"
	"github.com/sluicehq/sluice/internal/storage"
)

// Sources are the components the pull collectors read at scrape time. Any may be nil (a
// controller-only node has no replicas; a node still starting has none yet): its metrics
// are then absent from the scrape.
type Sources struct {
	Replicas *replica.Manager
	Storage  *storage.Manager
	Groups   *group.Coordinator
	Quorum   *quorum.Node
	// MetadataOffset returns the offset of the last metadata record this broker applied.
	MetadataOffset func() uint64
}

// groupStatsTimeout bounds how long a scrape waits for the group coordinator's shards.
const groupStatsTimeout = time.Second

// Metrics is one node's registry and instruments. It implements server.Observer.
type Metrics struct {
	reg        *prometheus.Registry
	collectors []prometheus.Collector // everything registered, for the docs test
	sources    atomic.Pointer[Sources]

	requests, requestBytes, responseBytes *prometheus.CounterVec
	queueTime, handleTime, sendTime       *prometheus.HistogramVec
	totalTime                             *prometheus.HistogramVec
	responses                             *prometheus.CounterVec
	connsOpen                             *prometheus.GaugeVec
	connsAccepted                         *prometheus.CounterVec
	connsRefused                          *prometheus.CounterVec
	flushTime                             prometheus.Histogram

	// perAPI caches each API key's instruments, so that a request costs no label lookup.
	// Indexed by API key; an entry is created on the key's first request.
	perAPI [maxAPIKey + 1]atomic.Pointer[apiMetrics]
	// errCounters caches the responses counter per (API key, error code): errorKey ->
	// prometheus.Counter.
	errCounters sync.Map
}

// maxAPIKey bounds the API keys with cached instruments; requests with larger keys (none
// exist today) are counted through the label lookup.
const maxAPIKey = 127

type apiMetrics struct {
	requests, requestBytes, responseBytes prometheus.Counter
	queue, handle, send, total            prometheus.Observer
}

// latencyBuckets span 100 µs to about 6.5 s in factors of 4: request phases and fsyncs.
var latencyBuckets = prometheus.ExponentialBuckets(0.0001, 4, 9)

// New returns a node's metrics with an empty set of sources (SetSources adds them as the
// node starts), the Go runtime and process collectors included.
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	api := []string{"api"}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sluice_requests_total", Help: "Requests handled, by API (Kafka's RequestsPerSec)."}, api)
	m.requestBytes = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sluice_request_bytes_total", Help: "Request frame bytes received, by API."}, api)
	m.responseBytes = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sluice_response_bytes_total", Help: "Response frame bytes sent, by API."}, api)
	hist := func(name, help string) *prometheus.HistogramVec {
		return prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: latencyBuckets}, api)
	}
	m.queueTime = hist("sluice_request_queue_time_seconds", "Time from a request's frame being read to its handler starting, by API.")
	m.handleTime = hist("sluice_request_handle_time_seconds", "Time in the handler (waits for acks and long polls included), by API.")
	m.sendTime = hist("sluice_request_send_time_seconds", "Time from the response being queued to it being written to the socket, by API.")
	m.totalTime = hist("sluice_request_total_time_seconds", "Queue, handle and send time together, by API (Kafka's TotalTimeMs).")
	m.responses = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sluice_responses_total",
		Help: "Error codes in responses (top level, per topic and per partition, NONE included), by API and Kafka error name (Kafka's ErrorsPerSec).",
	}, []string{"api", "error"})
	m.connsOpen = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "sluice_connections_open", Help: "Connections open now, by listener."}, []string{"listener"})
	m.connsAccepted = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sluice_connections_accepted_total", Help: "Connections accepted (not refused), by listener."}, []string{"listener"})
	m.connsRefused = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sluice_connections_refused_total", Help: "Connections closed at accept because of a limit, by listener and the limit's config name."},
		[]string{"listener", "reason"})
	m.flushTime = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "sluice_log_flush_seconds", Help: "Duration of log flush rounds (the fdatasyncs of one partition's segments and directory; Kafka's LogFlushRateAndTimeMs).",
		Buckets: latencyBuckets})
	m.collectors = []prometheus.Collector{m.requests, m.requestBytes, m.responseBytes, m.queueTime, m.handleTime,
		m.sendTime, m.totalTime, m.responses, m.connsOpen, m.connsAccepted, m.connsRefused, m.flushTime,
		&pullCollector{m: m},
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	}
	m.reg.MustRegister(m.collectors...)
	return m
}

// Registry is the node's registry, for tests and for components that add collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus text format (or OpenMetrics, when asked).
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// SetSources tells the pull collectors what to read. The node calls it once its components
// exist; scrapes before that omit their metrics.
func (m *Metrics) SetSources(s Sources) { m.sources.Store(&s) }

// ObserveFlush records one log flush round; it is storage.ManagerOptions.OnFlush.
func (m *Metrics) ObserveFlush(elapsed time.Duration) { m.flushTime.Observe(elapsed.Seconds()) }

// ---- server.Observer ----

var _ server.Observer = (*Metrics)(nil)

// ConnectionOpened implements server.Observer.
func (m *Metrics) ConnectionOpened(listener string) {
	m.connsOpen.WithLabelValues(listener).Inc()
	m.connsAccepted.WithLabelValues(listener).Inc()
}

// ConnectionClosed implements server.Observer.
func (m *Metrics) ConnectionClosed(listener string) { m.connsOpen.WithLabelValues(listener).Dec() }

// ConnectionRefused implements server.Observer.
func (m *Metrics) ConnectionRefused(listener string, reason server.RefuseReason) {
	m.connsRefused.WithLabelValues(listener, string(reason)).Inc()
}

// RequestDone implements server.Observer.
func (m *Metrics) RequestDone(ev server.RequestEvent) {
	a := m.api(ev.APIKey)
	a.requests.Inc()
	a.requestBytes.Add(float64(ev.RequestBytes))
	a.responseBytes.Add(float64(ev.ResponseBytes))
	a.queue.Observe(ev.QueueTime.Seconds())
	a.handle.Observe(ev.HandleTime.Seconds())
	a.send.Observe(ev.SendTime.Seconds())
	a.total.Observe((ev.QueueTime + ev.HandleTime + ev.SendTime).Seconds())
	m.countErrors(ev.APIKey, ev.Response)
}

func (m *Metrics) api(key int16) *apiMetrics {
	if key < 0 || key > maxAPIKey {
		return m.newAPIMetrics(key)
	}
	if a := m.perAPI[key].Load(); a != nil {
		return a
	}
	a := m.newAPIMetrics(key)
	m.perAPI[key].CompareAndSwap(nil, a) // a racing creator's instruments are the same series
	return a
}

func (m *Metrics) newAPIMetrics(key int16) *apiMetrics {
	name := apiName(key)
	return &apiMetrics{
		requests:      m.requests.WithLabelValues(name),
		requestBytes:  m.requestBytes.WithLabelValues(name),
		responseBytes: m.responseBytes.WithLabelValues(name),
		queue:         m.queueTime.WithLabelValues(name),
		handle:        m.handleTime.WithLabelValues(name),
		send:          m.sendTime.WithLabelValues(name),
		total:         m.totalTime.WithLabelValues(name),
	}
}

// apiName is Kafka's name of an API key ("Produce"), or the number for an unknown key.
func apiName(key int16) string {
	if info, ok := message.LookupAPI(key); ok {
		return info.Name
	}
	return strconv.Itoa(int(key))
}

// errorName is Kafka's name of an error code ("UNKNOWN_TOPIC_OR_PARTITION", "NONE").
func errorName(code int16) string {
	if code == 0 {
		return "NONE"
	}
	if e := kerr.ForCode(code); e != nil {
		return e.Name
	}
	return strconv.Itoa(int(code))
}

type errorKey struct{ api, code int16 }

func (m *Metrics) errorCounter(api, code int16) prometheus.Counter {
	k := errorKey{api, code}
	if c, ok := m.errCounters.Load(k); ok {
		return c.(prometheus.Counter)
	}
	c, _ := m.errCounters.LoadOrStore(k, m.responses.WithLabelValues(apiName(api), errorName(code)))
	return c.(prometheus.Counter)
}

// countErrors adds a response's error codes. Produce and Fetch, the frequent ones, are
// walked directly; the rest through server.ErrorCounts (reflection).
func (m *Metrics) countErrors(api int16, resp message.Response) {
	switch r := resp.(type) {
	case nil:
	case *message.ProduceResponse:
		for i := range r.Responses {
			for j := range r.Responses[i].PartitionResponses {
				m.errorCounter(api, r.Responses[i].PartitionResponses[j].ErrorCode).Inc()
			}
		}
	case *message.FetchResponse:
		m.errorCounter(api, r.ErrorCode).Inc()
		for i := range r.Responses {
			for j := range r.Responses[i].Partitions {
				m.errorCounter(api, r.Responses[i].Partitions[j].ErrorCode).Inc()
			}
		}
	default:
		for code, n := range server.ErrorCounts(resp) {
			m.errorCounter(api, code).Add(float64(n))
		}
	}
}

// ---- pull collectors ----

var (
	descBytesIn = prometheus.NewDesc("sluice_topic_bytes_in_total",
		"Record batch bytes appended by client produces, by topic (Kafka's BytesInPerSec).", []string{"topic"}, nil)
	descRecordsIn = prometheus.NewDesc("sluice_topic_records_in_total",
		"Records appended by client produces, by topic (Kafka's MessagesInPerSec).", []string{"topic"}, nil)
	descBytesOut = prometheus.NewDesc("sluice_topic_bytes_out_total",
		"Record bytes read by consumer fetches, by topic (Kafka's BytesOutPerSec; follower fetches excluded).", []string{"topic"}, nil)
	descProduceWaiting = prometheus.NewDesc("sluice_produce_requests_waiting",
		"Partition appends waiting for acks (durability under group commit, or the high watermark for acks=all): Kafka's produce purgatory.", nil, nil)
	descFetchWaiting = prometheus.NewDesc("sluice_fetch_requests_waiting",
		"Fetches in a long poll, waiting for data: Kafka's fetch purgatory.", nil, nil)
	descSegments = prometheus.NewDesc("sluice_log_segments",
		"Segments of a partition's log (Kafka's NumLogSegments).", []string{"topic", "partition"}, nil)
	descSize = prometheus.NewDesc("sluice_log_size_bytes",
		"Bytes of a partition's log segments (Kafka's Log Size).", []string{"topic", "partition"}, nil)
	descStart = prometheus.NewDesc("sluice_log_start_offset",
		"A partition's log start offset.", []string{"topic", "partition"}, nil)
	descEnd = prometheus.NewDesc("sluice_log_end_offset",
		"A partition's log end offset.", []string{"topic", "partition"}, nil)
	descGroups = prometheus.NewDesc("sluice_groups",
		"Groups this broker coordinates, by type (classic, consumer) and Kafka state name.", []string{"type", "state"}, nil)
	descMembers = prometheus.NewDesc("sluice_group_members",
		"Members of the groups this broker coordinates.", nil, nil)
	descCoordPartitions = prometheus.NewDesc("sluice_group_coordinator_partitions",
		"__consumer_offsets partitions this broker leads, by whether they are still loading.", []string{"loading"}, nil)
	descActive = prometheus.NewDesc("sluice_controller_active",
		"1 when this node is the raft leader, the active controller (Kafka's ActiveControllerCount).", nil, nil)
	descTerm = prometheus.NewDesc("sluice_raft_term",
		"The raft term this node knows, the controller epoch.", nil, nil)
	descLeaderID = prometheus.NewDesc("sluice_raft_leader_id",
		"The node id of the raft leader, -1 when unknown.", nil, nil)
	descLastIndex = prometheus.NewDesc("sluice_raft_last_log_index",
		"Index of the last entry in this node's metadata log.", nil, nil)
	descCommitIndex = prometheus.NewDesc("sluice_raft_commit_index",
		"Index of the last metadata log entry known committed.", nil, nil)
	descAppliedIndex = prometheus.NewDesc("sluice_raft_applied_index",
		"Index of the last metadata log entry applied to the state machine.", nil, nil)
	descMetadataOffset = prometheus.NewDesc("sluice_metadata_applied_offset",
		"Offset of the last metadata record this broker's image reflects.", nil, nil)
)

// pullCollector reads the sources at scrape time.
type pullCollector struct{ m *Metrics }

func (c *pullCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descBytesIn, descRecordsIn, descBytesOut, descProduceWaiting,
		descFetchWaiting, descSegments, descSize, descStart, descEnd, descGroups, descMembers,
		descCoordPartitions, descActive, descTerm, descLeaderID, descLastIndex, descCommitIndex,
		descAppliedIndex, descMetadataOffset} {
		ch <- d
	}
}

func (c *pullCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.m.sources.Load()
	if s == nil {
		return
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	if s.Replicas != nil {
		type topicStats struct{ in, records, out int64 }
		topics := map[string]*topicStats{}
		for _, p := range s.Replicas.Partitions() {
			st := p.Stats()
			t := topics[p.TopicPartition().Topic]
			if t == nil {
				t = &topicStats{}
				topics[p.TopicPartition().Topic] = t
			}
			t.in += st.BytesIn
			t.records += st.RecordsIn
			t.out += st.BytesOut
		}
		for name, t := range topics {
			counter(descBytesIn, float64(t.in), name)
			counter(descRecordsIn, float64(t.records), name)
			counter(descBytesOut, float64(t.out), name)
		}
		w := s.Replicas.Waiting()
		gauge(descProduceWaiting, float64(w.Produce))
		gauge(descFetchWaiting, float64(w.Fetch))
	}
	if s.Storage != nil {
		for _, l := range s.Storage.Logs() {
			tp := l.TopicPartition()
			part := strconv.Itoa(int(tp.Partition))
			gauge(descSegments, float64(l.NumSegments()), tp.Topic, part)
			gauge(descSize, float64(l.SizeBytes()), tp.Topic, part)
			gauge(descStart, float64(l.LogStartOffset()), tp.Topic, part)
			gauge(descEnd, float64(l.LogEndOffset()), tp.Topic, part)
		}
	}
	if s.Groups != nil {
		ctx, cancel := context.WithTimeout(context.Background(), groupStatsTimeout)
		st := s.Groups.Stats(ctx)
		cancel()
		for k, n := range st.Groups {
			gauge(descGroups, float64(n), k.Type, k.State)
		}
		gauge(descMembers, float64(st.Members))
		gauge(descCoordPartitions, float64(st.Shards-st.Loading), "false")
		gauge(descCoordPartitions, float64(st.Loading), "true")
	}
	if s.Quorum != nil {
		st := s.Quorum.Stats()
		active := 0.0
		if st.IsLeader {
			active = 1
		}
		gauge(descActive, active)
		gauge(descTerm, float64(st.Term))
		gauge(descLeaderID, float64(st.LeaderID))
		gauge(descLastIndex, float64(st.LastIndex))
		gauge(descCommitIndex, float64(st.CommitIndex))
		gauge(descAppliedIndex, float64(st.AppliedIndex))
	}
	if s.MetadataOffset != nil {
		gauge(descMetadataOffset, float64(s.MetadataOffset()))
	}
}
