package config

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

// singleNode returns the single-node defaults plus changes ("" deletes a key).
func singleNode(changes map[string]string) *Props {
	m := SingleNodeDefaults()
	for k, v := range changes {
		if v == "" {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	return NewProps(m, Origin{Name: "test.properties"})
}

func mustNew(t *testing.T, p *Props) (*Broker, []Warning) {
	t.Helper()
	b, w, err := New(p)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return b, w
}

func TestSingleNodeDefaults(t *testing.T) {
	b, warns, err := Load("", nil)
	if err != nil {
		t.Fatalf("Load without a file: %v", err)
	}
	if len(warns) != 0 {
		t.Errorf("warnings for the built-in defaults: %v", warns)
	}
	pt := Plaintext
	want := []Listener{{"PLAINTEXT", "localhost", 9092, pt}, {"CONTROLLER", "localhost", 9093, pt}}
	if !reflect.DeepEqual(b.Listeners, want) {
		t.Errorf("Listeners = %v", b.Listeners)
	}
	if !reflect.DeepEqual(b.AdvertisedListeners, want[:1]) || !reflect.DeepEqual(b.ControllerListeners, want[1:]) {
		t.Errorf("advertised %v, controller %v", b.AdvertisedListeners, b.ControllerListeners)
	}
	if got := b.Quorum.Voters; len(got) != 1 || got[0].String() != "1@localhost:9093" {
		t.Errorf("voters = %v", got)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"NodeID", b.NodeID, int32(1)},
		{"Roles", b.Roles, Roles{Broker: true, Controller: true}},
		{"InterBrokerListenerName", b.InterBrokerListenerName, "PLAINTEXT"},
		{"LogDirs", b.LogDirs, []string{"./sluice-data"}},
		{"MetadataLogDir", b.MetadataLogDir, "./sluice-data"},
		{"OffsetsTopicReplicationFactor", b.Groups.OffsetsTopicReplicationFactor, int16(1)},
		{"OffsetsTopicNumPartitions", b.Groups.OffsetsTopicNumPartitions, int32(50)},
		{"StateLogReplicationFactor", b.Txn.StateLogReplicationFactor, int16(1)},
		{"StateLogMinISR", b.Txn.StateLogMinISR, 1},
		{"InitialRebalanceDelay", b.Groups.InitialRebalanceDelay, time.Duration(0)},
		{"FlushPolicy", b.FlushPolicy, FlushGroupCommit},
		{"Retention", b.TopicDefaults.Retention, 168 * time.Hour},
		{"CleanupPolicy", b.TopicDefaults.CleanupPolicy, CleanupPolicy{Delete: true}},
		{"FlushMessages", b.TopicDefaults.FlushMessages, int64(math.MaxInt64)},
		{"Flush", b.TopicDefaults.Flush, time.Duration(math.MaxInt64)},
		{"MessageTimestampAfterMax", b.TopicDefaults.MessageTimestampAfterMax, time.Hour},
		{"MaxMessageBytes", b.TopicDefaults.MaxMessageBytes, int64(1048588)},
		{"MetricsListener", b.MetricsListener, "localhost:9644"},
		{"ConsumerProtocol", b.Groups.ConsumerProtocol, true},
		{"Assignors", b.Groups.Consumer.Assignors, []string{"uniform", "range"}},
		{"BrokerSessionTimeout", b.Quorum.BrokerSessionTimeout, 9 * time.Second},
		{"ConnectionsMaxIdle", b.ConnectionsMaxIdle, 10 * time.Minute},
		{"SecurityProtocols[CONTROLLER]", b.SecurityProtocols["CONTROLLER"], Plaintext},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	// The defaults are a plain map the caller may modify without affecting later calls.
	SingleNodeDefaults()["node.id"] = "9"
	if SingleNodeDefaults()["node.id"] != "1" {
		t.Error("SingleNodeDefaults shares its map")
	}
}

func TestLoadCombinedFile(t *testing.T) {
	b, warns, err := Load("testdata/combined.properties", []string{"log.retention.hours=1", "num.partitions=6"})
	if err != nil {
		t.Fatal(err)
	}
	// num.recovery.threads.per.data.dir=1 is honoured; the thread counts equal to Kafka's
	// defaults draw no warning.
	if len(warns) != 0 {
		t.Errorf("warnings: %v", warns)
	}
	if got := len(b.Quorum.Voters); got != 3 {
		t.Errorf("continued voters line parsed into %d voters: %v", got, b.Quorum.Voters)
	}
	if !reflect.DeepEqual(b.LogDirs, []string{"/var/lib/kafka/data-1", "/var/lib/kafka/data-2"}) {
		t.Errorf("LogDirs = %q", b.LogDirs)
	}
	if b.Listeners[0].Host != "" || b.Listeners[0].Addr() != ":9092" {
		t.Errorf("empty host should mean all interfaces: %v", b.Listeners[0])
	}
	if b.AdvertisedListeners[0].Addr() != "kafka-1.example:9092" || b.ControllerListeners[0].Addr() != "kafka-1.example:9093" {
		t.Errorf("advertised %v, controller %v", b.AdvertisedListeners, b.ControllerListeners)
	}
	if b.TopicDefaults.Retention != time.Hour || b.NumPartitions != 6 {
		t.Errorf("flags did not override the file: retention %v, partitions %d", b.TopicDefaults.Retention, b.NumPartitions)
	}
	if b.TopicDefaults.SegmentBytes != 512<<20 || b.NumRecoveryThreadsPerDataDir != 1 {
		t.Errorf("file values not applied: segment %d", b.TopicDefaults.SegmentBytes)
	}
	v, _ := b.Value("log.retention.hours")
	if v.Source != SourceStaticBroker || v.Origin.String() != "--override" || v.Int() != 1 {
		t.Errorf("log.retention.hours = %v from %v (%v)", v, v.Origin, v.Source)
	}
	v, _ = b.Value("num.io.threads")
	if v.Origin.String() != "testdata/combined.properties:20" {
		t.Errorf("num.io.threads origin = %v", v.Origin)
	}
}

// TestKafkaSampleFile loads the server.properties Kafka ships: it must work unchanged, and
// the only warnings are the true ones about share groups.
func TestKafkaSampleFile(t *testing.T) {
	b, warns, err := Load("testdata/kafka-sample.properties", nil)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, w := range warns {
		keys = append(keys, w.Key)
		if !strings.Contains(w.Message, "share groups") {
			t.Errorf("unexpected warning %v", w)
		}
	}
	if want := []string{"share.coordinator.state.topic.replication.factor", "share.coordinator.state.topic.min.isr"}; !reflect.DeepEqual(keys, want) {
		t.Errorf("warnings for %v, want %v", keys, want)
	}
	if b.LogDirs[0] != "/tmp/kraft-combined-logs" || b.AdvertisedListeners[0].Addr() != "localhost:9092" {
		t.Errorf("log dirs %v, advertised %v", b.LogDirs, b.AdvertisedListeners)
	}
}

func TestBrokerOnlyManyControllerListeners(t *testing.T) {
	_, warns := mustNew(t, singleNode(map[string]string{"process.roles": "broker", "node.id": "2",
		"listeners": "PLAINTEXT://localhost:9092", "controller.listener.names": "CONTROLLER,CTL2"}))
	if len(warns) != 1 || warns[0].Key != "controller.listener.names" || !strings.Contains(warns[0].Message, "CONTROLLER") {
		t.Errorf("warnings = %v", warns)
	}
}

func TestLoadBrokerOnlyFile(t *testing.T) {
	b, _, err := Load("testdata/broker-only.properties", nil)
	if err != nil {
		t.Fatal(err)
	}
	if b.Roles != (Roles{Broker: true}) || len(b.ControllerListeners) != 0 || b.Rack != "eu-west-1a" {
		t.Errorf("roles %v, controller listeners %v, rack %q", b.Roles, b.ControllerListeners, b.Rack)
	}
	if b.InterBrokerListenerName != "INTERNAL" || len(b.AdvertisedListeners) != 2 {
		t.Errorf("inter-broker %q, advertised %v", b.InterBrokerListenerName, b.AdvertisedListeners)
	}
	if b.SecurityProtocols[b.ControllerListenerNames[0]] != Plaintext {
		t.Errorf("no protocol to reach the controllers: %v", b.SecurityProtocols)
	}
	if b.TopicDefaults.MinInsyncReplicas != 2 || b.DefaultReplicationFactor != 3 {
		t.Errorf("min ISR %d, RF %d", b.TopicDefaults.MinInsyncReplicas, b.DefaultReplicationFactor)
	}
}

func TestLoadErrors(t *testing.T) {
	if _, _, err := Load("testdata/does-not-exist.properties", nil); err == nil {
		t.Error("missing file accepted")
	}
	if _, _, err := Load("", []string{"novalue"}); !errors.Is(err, ErrSyntax) {
		t.Errorf("bad override: %v", err)
	}
}

// TestCrossKeyChecks covers the consistency rules between keys; each case starts from the
// single-node defaults.
func TestCrossKeyChecks(t *testing.T) {
	brokerOnly := map[string]string{"process.roles": "broker", "node.id": "2",
		"listeners": "PLAINTEXT://localhost:9092"}
	tests := []struct {
		name    string
		changes map[string]string
		kind    error
		key     string // the key the error must name
	}{
		{"node.id missing", map[string]string{"node.id": ""}, ErrMissing, "node.id"},
		{"node.id negative", map[string]string{"node.id": "-3"}, ErrMissing, "node.id"},
		{"broker.id differs", map[string]string{"broker.id": "2"}, ErrConflict, "broker.id"},
		{"roles missing", map[string]string{"process.roles": ""}, ErrMissing, "process.roles"},
		{"controller without controller.listener.names", map[string]string{"controller.listener.names": ""}, ErrMissing, "controller.listener.names"},
		{"controller listener not listening", map[string]string{"controller.listener.names": "CTL"}, ErrConflict, "controller.listener.names"},
		{"controller not a voter", map[string]string{"controller.quorum.voters": "2@localhost:9093"}, ErrConflict, "controller.quorum.voters"},
		{"no voters", map[string]string{"controller.quorum.voters": ""}, ErrMissing, "controller.quorum.voters"},
		{"broker-only voter", merge(brokerOnly, map[string]string{"controller.quorum.voters": "2@localhost:9093"}), ErrConflict, "controller.quorum.voters"},
		{"broker-only listens on controller listener", merge(brokerOnly, map[string]string{"listeners": "PLAINTEXT://:9092,CONTROLLER://:9093"}), ErrConflict, "listeners"},
		{"broker-only unmapped controller listener", merge(brokerOnly, map[string]string{"listener.security.protocol.map": "PLAINTEXT:PLAINTEXT"}), ErrConflict, "controller.listener.names"},
		{"controller-only with client listener", map[string]string{"process.roles": "controller"}, ErrConflict, "listeners"},
		{"advertised 0.0.0.0", map[string]string{"advertised.listeners": "PLAINTEXT://0.0.0.0:9092"}, ErrConflict, "advertised.listeners"},
		{"listening on :: without advertising", map[string]string{"listeners": "PLAINTEXT://[::]:9092,CONTROLLER://localhost:9093"}, ErrConflict, "listeners"},
		{"advertised but not listening", map[string]string{"advertised.listeners": "OTHER://h:1"}, ErrConflict, "advertised.listeners"},
		{"no broker listener", map[string]string{"listeners": "CONTROLLER://localhost:9093"}, ErrConflict, "listeners"},
		{"inter-broker listener unknown", map[string]string{"inter.broker.listener.name": "REPLICATION"}, ErrConflict, "inter.broker.listener.name"},
		{"inter-broker protocol without listener", map[string]string{"security.inter.broker.protocol": "SSL"}, ErrConflict, "security.inter.broker.protocol"},
		{"inter-broker name and protocol", map[string]string{"inter.broker.listener.name": "PLAINTEXT", "security.inter.broker.protocol": "PLAINTEXT"}, ErrConflict, "inter.broker.listener.name"},
		{"listener without protocol", map[string]string{"listeners": "PLAINTEXT://:9092,CONTROLLER://:9093,EXTERNAL://:9094"}, ErrConflict, "listeners"},
		{"SSL in use disables the controller mapping", map[string]string{"listeners": "SSL://:9092,CONTROLLER://:9093"}, ErrConflict, "listeners"},
		{"retention zero", map[string]string{"log.retention.ms": "0"}, ErrConflict, "log.retention.ms"},
		{"retention hours zero", map[string]string{"log.retention.hours": "0"}, ErrConflict, "log.retention.hours"},
		{"roll zero", map[string]string{"log.roll.ms": "0"}, ErrConflict, "log.roll.ms"},
		{"negative jitter", map[string]string{"log.roll.jitter.ms": "-1"}, ErrConflict, "log.roll.jitter.ms"},
		{"fetch wait beyond socket timeout", map[string]string{"replica.fetch.wait.max.ms": "40000", "replica.lag.time.max.ms": "60000"}, ErrConflict, "replica.fetch.wait.max.ms"},
		{"fetch wait beyond lag time", map[string]string{"replica.lag.time.max.ms": "100"}, ErrConflict, "replica.fetch.wait.max.ms"},
		{"zero connections per ip", map[string]string{"max.connections.per.ip": "0"}, ErrConflict, "max.connections.per.ip"},
		{"heartbeat not below session", map[string]string{"group.consumer.heartbeat.interval.ms": "45000", "group.consumer.max.heartbeat.interval.ms": "50000"}, ErrConflict, "group.consumer.heartbeat.interval.ms"},
		{"session above max", map[string]string{"group.consumer.session.timeout.ms": "70000"}, ErrConflict, "group.consumer.session.timeout.ms"},
		{"min heartbeat above max", map[string]string{"group.consumer.min.heartbeat.interval.ms": "20000"}, ErrConflict, "group.consumer.max.heartbeat.interval.ms"},
		{"dedupe buffer too small", map[string]string{"log.cleaner.dedupe.buffer.size": "2000000", "log.cleaner.threads": "2"}, ErrConflict, "log.cleaner.dedupe.buffer.size"},
		{"compaction lags inverted", map[string]string{"log.cleaner.min.compaction.lag.ms": "10", "log.cleaner.max.compaction.lag.ms": "5"}, ErrConflict, "log.cleaner.min.compaction.lag.ms"},
		{"no log dirs", map[string]string{"log.dirs": " , ", "log.dir": ","}, ErrMissing, "log.dirs"},
		{"invalid value", map[string]string{"num.partitions": "many"}, ErrInvalidValue, "num.partitions"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := New(singleNode(tt.changes))
			if !errors.Is(err, tt.kind) {
				t.Fatalf("err = %v, want %v", err, tt.kind)
			}
			if !errorNames(err, tt.key) {
				t.Errorf("err = %v, want it about %s", err, tt.key)
			}
		})
	}
}

func merge(a, b map[string]string) map[string]string {
	m := map[string]string{}
	for k, v := range a {
		m[k] = v
	}
	for k, v := range b {
		m[k] = v
	}
	return m
}

// errorNames reports whether some *Error in err (joined or not) is about key.
func errorNames(err error, key string) bool {
	var e *Error
	if errors.As(err, &e) && e.Key == key {
		return true
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, x := range j.Unwrap() {
			if errorNames(x, key) {
				return true
			}
		}
	}
	return false
}

func TestValidConfigurations(t *testing.T) {
	tests := []struct {
		name    string
		changes map[string]string
	}{
		{"broker.id instead of node.id", map[string]string{"node.id": "", "broker.id": "1"}},
		{"broker-only", map[string]string{"process.roles": "broker", "node.id": "2", "listeners": "PLAINTEXT://:9092",
			"advertised.listeners": "PLAINTEXT://b2:9092"}},
		{"broker-only with bootstrap servers", map[string]string{"process.roles": "broker", "node.id": "2", "listeners": "PLAINTEXT://:9092",
			"advertised.listeners": "PLAINTEXT://b2:9092", "controller.quorum.voters": "", "controller.quorum.bootstrap.servers": "c1:9093"}},
		{"controller-only", map[string]string{"process.roles": "controller", "listeners": "CONTROLLER://:9093",
			"advertised.listeners": "CONTROLLER://c1:9093"}},
		{"bind all, advertise a name", map[string]string{"listeners": "PLAINTEXT://0.0.0.0:9092,CONTROLLER://localhost:9093",
			"advertised.listeners": "PLAINTEXT://host.example:9092"}},
		{"IPv4 and IPv6 on one port", map[string]string{"listeners": "A://127.0.0.1:9092,B://[::1]:9092,CONTROLLER://localhost:9093",
			"listener.security.protocol.map": "A:PLAINTEXT,B:PLAINTEXT,CONTROLLER:PLAINTEXT", "inter.broker.listener.name": "A"}},
		{"ephemeral ports", map[string]string{"listeners": "PLAINTEXT://localhost:0,CONTROLLER://localhost:0"}},
		{"SSL listener with explicit map", map[string]string{"listeners": "SSL://:9092,CONTROLLER://localhost:9093",
			"listener.security.protocol.map": "SSL:SSL,CONTROLLER:PLAINTEXT", "security.inter.broker.protocol": "SSL"}},
		{"unlimited retention", map[string]string{"log.retention.hours": "-1"}},
		{"compaction only", map[string]string{"log.cleanup.policy": "compact"}},
		{"metrics off", map[string]string{"sluice.metrics.listener": ""}},
		{"cleaner threads zero", map[string]string{"log.cleaner.threads": "0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := New(singleNode(tt.changes)); err != nil {
				t.Fatalf("New: %v", err)
			}
		})
	}
}

func TestErrorsNameLineAndAllowed(t *testing.T) {
	src := "node.id=1\nprocess.roles=broker,controller\nnum.partitions=zero\nlog.segment.bytes=10\n"
	p, err := ParseProperties("f.properties", strings.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = New(p)
	if err == nil {
		t.Fatal("invalid file accepted")
	}
	msg := err.Error()
	for _, want := range []string{
		`config: f.properties:3: num.partitions="zero": not a 32-bit integer (allowed: [1,...])`,
		`config: f.properties:4: log.segment.bytes="10": must be at least 1048576 (allowed: [1048576,...])`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error does not contain %q:\n%s", want, msg)
		}
	}
}

func TestWarnings(t *testing.T) {
	p := singleNode(map[string]string{
		"log.retention.hour":     "1", // typo
		"zookeeper.connect":      "zk:2181",
		"listener.name.x.ssl.kk": "v",
		"totally.unknown.key":    "v",
		"num.io.threads":         "16", // informational, not the default
		"num.network.threads":    "3",  // informational, the default: no warning
		"log.retention.hours":    "1",
		"log.retention.ms":       "5000",
	})
	_, warns := mustNew(t, p)
	got := map[string]string{}
	for _, w := range warns {
		got[w.Key] = w.Message
		if w.Origin.Name != "test.properties" {
			t.Errorf("warning %v lacks its origin", w)
		}
	}
	want := map[string]string{
		"log.retention.hour":     "did you mean log.retention.hours?",
		"zookeeper.connect":      "ZooKeeper",
		"listener.name.x.ssl.kk": "per-listener",
		"totally.unknown.key":    "unknown key",
		"num.io.threads":         "no effect",
		"log.retention.hours":    "log.retention.ms",
	}
	for k, sub := range want {
		if !strings.Contains(got[k], sub) {
			t.Errorf("warning for %s = %q, want it to mention %q", k, got[k], sub)
		}
	}
	if len(got) != len(want) {
		t.Errorf("warnings %v, want only %v", got, want)
	}
	if strings.Contains(got["totally.unknown.key"], "did you mean") {
		t.Error("suggested a key for a name nothing like any key")
	}
}

func TestSynonymResolution(t *testing.T) {
	tests := []struct {
		changes map[string]string
		get     func(Topic) time.Duration
		want    time.Duration
	}{
		{nil, retention, 168 * time.Hour},
		{map[string]string{"log.retention.hours": "1"}, retention, time.Hour},
		{map[string]string{"log.retention.hours": "1", "log.retention.minutes": "30"}, retention, 30 * time.Minute},
		{map[string]string{"log.retention.minutes": "30", "log.retention.ms": "1500"}, retention, 1500 * time.Millisecond},
		{map[string]string{"log.retention.hours": "-1"}, retention, -time.Millisecond},
		{map[string]string{"log.retention.ms": "-7"}, retention, -time.Millisecond},
		{map[string]string{"log.roll.hours": "2"}, segment, 2 * time.Hour},
		{map[string]string{"log.roll.hours": "2", "log.roll.ms": "100"}, segment, 100 * time.Millisecond},
		{map[string]string{"log.roll.jitter.hours": "1"}, jitter, time.Hour},
		{nil, flush, math.MaxInt64},
		{map[string]string{"log.flush.scheduler.interval.ms": "5000"}, flush, 5 * time.Second},
		{map[string]string{"log.flush.scheduler.interval.ms": "5000", "log.flush.interval.ms": "100"}, flush, 100 * time.Millisecond},
	}
	for _, tt := range tests {
		b, _ := mustNew(t, singleNode(tt.changes))
		if got := tt.get(b.TopicDefaults); got != tt.want {
			t.Errorf("%v: got %v, want %v", tt.changes, got, tt.want)
		}
	}
}

func retention(t Topic) time.Duration { return t.Retention }
func segment(t Topic) time.Duration   { return t.Segment }
func jitter(t Topic) time.Duration    { return t.SegmentJitter }
func flush(t Topic) time.Duration     { return t.Flush }

func TestLogDirs(t *testing.T) {
	b, _ := mustNew(t, singleNode(map[string]string{"log.dirs": "", "log.dir": "/x"}))
	if !reflect.DeepEqual(b.LogDirs, []string{"/x"}) || b.MetadataLogDir != "/x" {
		t.Errorf("log.dir alone: %q, metadata %q", b.LogDirs, b.MetadataLogDir)
	}
	b, _ = mustNew(t, singleNode(map[string]string{"log.dirs": "/y, /z,", "log.dir": "/x", "metadata.log.dir": "/m"}))
	if !reflect.DeepEqual(b.LogDirs, []string{"/y", "/z"}) || b.MetadataLogDir != "/m" {
		t.Errorf("log.dirs over log.dir: %q, metadata %q", b.LogDirs, b.MetadataLogDir)
	}
	b, _ = mustNew(t, singleNode(map[string]string{"log.dirs": ""}))
	if !reflect.DeepEqual(b.LogDirs, []string{"./sluice-data"}) {
		t.Errorf("default log.dir: %q", b.LogDirs)
	}
}

func TestDurationSaturates(t *testing.T) {
	if got := durationOf(math.MaxInt64, UnitMillis); got != math.MaxInt64 {
		t.Errorf("Long.MAX ms = %v", got)
	}
	if got := durationOf(math.MinInt64, UnitHours); got != math.MinInt64 {
		t.Errorf("Long.MIN hours = %v", got)
	}
	if got := durationOf(3, UnitSeconds); got != 3*time.Second {
		t.Errorf("3 s = %v", got)
	}
	if got := durationOf(3, UnitBytes); got != 0 {
		t.Errorf("bytes as duration = %v", got)
	}
}

func TestJavaDouble(t *testing.T) {
	tests := map[float64]string{
		0.5: "0.5", 1: "1.0", 0: "0.0", math.Copysign(0, -1): "-0.0", 0.001: "0.001", 1e-4: "1.0E-4",
		1e7: "1.0E7", 9999999: "9999999.0", 1.5e10: "1.5E10", -2.25: "-2.25", math.MaxFloat64: "1.7976931348623157E308",
		math.Inf(1): "Infinity", math.Inf(-1): "-Infinity", math.NaN(): "NaN",
	}
	for f, want := range tests {
		if got := javaDouble(f); got != want {
			t.Errorf("javaDouble(%v) = %q, want %q", f, got, want)
		}
	}
}
