package config

import (
	"errors"
	"math"
	"reflect"
	"testing"
	"time"
)

func TestTopicConfig(t *testing.T) {
	b, _ := mustNew(t, singleNode(map[string]string{"log.retention.hours": "24", "compression.type": "zstd"}))
	got, err := b.TopicConfig(map[string]string{
		"cleanup.policy":                 "compact, delete",
		"max.message.bytes":              " 2000000 ",
		"min.cleanable.dirty.ratio":      "0.1",
		"message.timestamp.type":         "LogAppendTime",
		"unclean.leader.election.enable": "TRUE",
		"segment.ms":                     "60000",
	})
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"CleanupPolicy", got.CleanupPolicy, CleanupPolicy{Delete: true, Compact: true}},
		{"MaxMessageBytes", got.MaxMessageBytes, int64(2000000)},
		{"MinCleanableDirtyRatio", got.MinCleanableDirtyRatio, 0.1},
		{"MessageTimestampType", got.MessageTimestampType, LogAppendTime},
		{"UncleanLeaderElection", got.UncleanLeaderElection, true},
		{"Segment", got.Segment, time.Minute},
		{"Retention (broker static)", got.Retention, 24 * time.Hour},
		{"CompressionType (broker static)", got.CompressionType, "zstd"},
		{"MaxCompactionLag (default)", got.MaxCompactionLag, time.Duration(math.MaxInt64)},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	empty, err := b.TopicConfig(map[string]string{"cleanup.policy": ""})
	if err != nil || empty.CleanupPolicy != (CleanupPolicy{}) {
		t.Errorf("empty cleanup.policy: %v, %v", empty.CleanupPolicy, err)
	}
}

func TestValidateTopicConfig(t *testing.T) {
	b, _ := mustNew(t, singleNode(nil))
	tests := []struct {
		name      string
		overrides map[string]string
		kind      error
		key       string
	}{
		{"unknown", map[string]string{"retention.hours": "1"}, ErrUnknownTopicConfig, "retention.hours"},
		{"removed in Kafka 4.0", map[string]string{"message.format.version": "2.8"}, ErrUnknownTopicConfig, "message.format.version"},
		{"broker key on a topic", map[string]string{"log.retention.ms": "1"}, ErrUnknownTopicConfig, "log.retention.ms"},
		{"bad value", map[string]string{"retention.ms": "soon"}, ErrInvalidValue, "retention.ms"},
		{"below range", map[string]string{"segment.bytes": "1024"}, ErrInvalidValue, "segment.bytes"},
		{"bad list element", map[string]string{"cleanup.policy": "delete,archive"}, ErrInvalidValue, "cleanup.policy"},
		{"tiered storage", map[string]string{"remote.storage.enable": "true"}, ErrInvalidValue, "remote.storage.enable"},
		{"min lag above default max", map[string]string{"min.compaction.lag.ms": "10", "max.compaction.lag.ms": "5"}, ErrConflict, "max.compaction.lag.ms"},
		{"min lag above broker max", map[string]string{"min.compaction.lag.ms": "9223372036854775807", "max.compaction.lag.ms": "9223372036854775806"}, ErrConflict, "max.compaction.lag.ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := b.ValidateTopicConfig(tt.overrides)
			if !errors.Is(err, tt.kind) || !errorNames(err, tt.key) {
				t.Fatalf("err = %v, want %v about %s", err, tt.kind, tt.key)
			}
		})
	}
	ok := map[string]string{"retention.ms": "-1", "segment.bytes": "1048576", "leader.replication.throttled.replicas": "*",
		"message.downconversion.enable": "false", "preallocate": "true", "min.compaction.lag.ms": "1000"}
	if err := b.ValidateTopicConfig(ok); err != nil {
		t.Errorf("valid overrides refused: %v", err)
	}
	if err := b.ValidateTopicConfig(nil); err != nil {
		t.Errorf("no overrides refused: %v", err)
	}
}

func ptr(s string) *string { return &s }

func TestDescribeTopic(t *testing.T) {
	b, _ := mustNew(t, singleNode(map[string]string{"log.retention.hours": "24"}))
	es, err := b.DescribeTopic(map[string]string{"retention.ms": "1000"}, "segment.ms", "retention.ms", "no.such.key", "flush.ms", "remote.storage.enable")
	if err != nil {
		t.Fatal(err)
	}
	want := []Entry{
		{Name: "flush.ms", Value: ptr("9223372036854775807"), Source: SourceDefault, Type: TypeLong,
			Synonyms: []Synonym{{"log.flush.scheduler.interval.ms", ptr("9223372036854775807"), SourceDefault}}},
		{Name: "remote.storage.enable", Value: ptr("false"), Source: SourceDefault, Type: TypeBoolean},
		{Name: "retention.ms", Value: ptr("1000"), Source: SourceDynamicTopic, Type: TypeLong,
			Synonyms: []Synonym{
				{"retention.ms", ptr("1000"), SourceDynamicTopic},
				{"log.retention.hours", ptr("24"), SourceStaticBroker},
				{"log.retention.hours", ptr("168"), SourceDefault},
			}},
		{Name: "segment.ms", Value: ptr("604800000"), Source: SourceDefault, Type: TypeLong,
			Synonyms: []Synonym{{"log.roll.hours", ptr("168"), SourceDefault}}},
	}
	for i := range es {
		es[i].Doc = "" // documentation is checked elsewhere
	}
	if !reflect.DeepEqual(es, want) {
		t.Errorf("DescribeTopic:\n got %s\nwant %s", dumpEntries(es), dumpEntries(want))
	}

	// A static broker value in another unit converts to the topic key's unit.
	es, _ = b.DescribeTopic(nil, "retention.ms")
	if *es[0].Value != "86400000" || es[0].Source != SourceStaticBroker {
		t.Errorf("retention.ms from log.retention.hours=24: %s", dumpEntries(es))
	}
	all, _ := b.DescribeTopic(nil)
	if len(all) != len(topicTable.list) {
		t.Errorf("DescribeTopic() returned %d of %d keys", len(all), len(topicTable.list))
	}
	if _, err := b.DescribeTopic(map[string]string{"bogus": "1"}); !errors.Is(err, ErrUnknownTopicConfig) {
		t.Errorf("unknown override: %v", err)
	}
}

func dumpEntries(es []Entry) string {
	s := ""
	for _, e := range es {
		s += "\n  " + e.Name + "=" + deref(e.Value) + " " + e.Source.String()
		for _, y := range e.Synonyms {
			s += "\n      " + y.Name + "=" + deref(y.Value) + " " + y.Source.String()
		}
	}
	return s
}

func deref(s *string) string {
	if s == nil {
		return "<null>"
	}
	return *s
}

func TestDescribeBroker(t *testing.T) {
	b, _ := mustNew(t, singleNode(map[string]string{"log.retention.ms": "5000"}))
	es := b.Describe("node.id", "log.retention.hours", "log.retention.ms", "log.retention.minutes", "log.cleaner.threads", "broker.rack", "nope")
	got := map[string]Entry{}
	for _, e := range es {
		got[e.Name] = e
	}
	if len(es) != 6 {
		t.Fatalf("Describe returned %d entries: %s", len(es), dumpEntries(es))
	}
	if e := got["node.id"]; deref(e.Value) != "1" || e.Source != SourceStaticBroker || !e.ReadOnly || e.Doc == "" || e.Type != TypeInt {
		t.Errorf("node.id: %+v", e)
	}
	// Kafka shows each name's own value: log.retention.hours is still 168 by default even
	// though log.retention.ms is what takes effect.
	if e := got["log.retention.hours"]; deref(e.Value) != "168" || e.Source != SourceDefault || len(e.Synonyms) != 1 {
		t.Errorf("log.retention.hours: %s", dumpEntries([]Entry{e}))
	}
	if e := got["log.retention.ms"]; deref(e.Value) != "5000" || e.Source != SourceStaticBroker || e.ReadOnly ||
		len(e.Synonyms) != 2 || e.Synonyms[1].Name != "log.retention.hours" {
		t.Errorf("log.retention.ms: %s", dumpEntries([]Entry{e}))
	}
	if e := got["log.retention.minutes"]; e.Value != nil || e.Source != SourceDefault || len(e.Synonyms) != 0 {
		t.Errorf("unset log.retention.minutes: %s", dumpEntries([]Entry{e}))
	}
	if e := got["broker.rack"]; e.Value != nil || len(e.Synonyms) != 0 {
		t.Errorf("unset broker.rack: %s", dumpEntries([]Entry{e}))
	}
	if got["log.cleaner.threads"].ReadOnly {
		t.Error("log.cleaner.threads is cluster-wide dynamic in Kafka, not read-only")
	}
	if n := len(b.Describe()); n != len(brokerTable.list) {
		t.Errorf("Describe() returned %d of %d keys", n, len(brokerTable.list))
	}
	if _, ok := b.Value("no.such.key"); ok {
		t.Error("Value found an unknown key")
	}
	v, ok := b.Value("log.cleaner.min.cleanable.ratio")
	if !ok || v.Float() != 0.5 || v.String() != "0.5" || v.Source != SourceDefault || v.Name() != "log.cleaner.min.cleanable.ratio" {
		t.Errorf("generic accessor: %v %v", v, v.Source)
	}
	if v, _ := b.Value("process.roles"); !reflect.DeepEqual(v.List(), []string{"broker", "controller"}) {
		t.Errorf("process.roles = %v", v.List())
	}
	if v, _ := b.Value("metadata.log.dir"); !v.IsNull() || v.String() != "" {
		t.Errorf("unset key is not null: %v", v)
	}
}

func TestDynamicConfig(t *testing.T) {
	b, _ := mustNew(t, singleNode(map[string]string{"log.retention.ms": "3000"}))
	d, warns, err := b.WithDynamic(
		map[string]string{"log.retention.ms": "1000", "log.cleaner.threads": "4"},
		map[string]string{"log.retention.ms": "2000", "listeners": "PLAINTEXT://localhost:9192,CONTROLLER://localhost:9093"},
	)
	if err != nil {
		t.Fatalf("WithDynamic: %v (warnings %v)", err, warns)
	}
	if d.TopicDefaults.Retention != 2*time.Second || d.Cleaner.Threads != 4 || d.Listeners[0].Port != 9192 {
		t.Errorf("dynamic values not applied: retention %v threads %d listeners %v", d.TopicDefaults.Retention, d.Cleaner.Threads, d.Listeners)
	}
	if b.TopicDefaults.Retention != 3*time.Second || b.Listeners[0].Port != 9092 {
		t.Error("WithDynamic modified the original config")
	}
	es := d.Describe("log.retention.ms")
	wantSyn := []Synonym{
		{"log.retention.ms", ptr("2000"), SourceDynamicBroker},
		{"log.retention.ms", ptr("1000"), SourceDynamicDefaultBroker},
		{"log.retention.ms", ptr("3000"), SourceStaticBroker},
		{"log.retention.hours", ptr("168"), SourceDefault},
	}
	if !reflect.DeepEqual(es[0].Synonyms, wantSyn) || es[0].Source != SourceDynamicBroker {
		t.Errorf("synonyms: %s", dumpEntries(es))
	}
	topic, _ := d.DescribeTopic(nil, "retention.ms")
	if *topic[0].Value != "2000" || topic[0].Source != SourceDynamicBroker {
		t.Errorf("topic view of a dynamic broker default: %s", dumpEntries(topic))
	}

	tests := []struct {
		name               string
		cluster, perBroker map[string]string
		kind               error
		key                string
	}{
		{"read-only key", map[string]string{"log.retention.hours": "1"}, nil, ErrReadOnly, "log.retention.hours"},
		{"per-broker key cluster-wide", map[string]string{"listeners": "PLAINTEXT://:1"}, nil, ErrPerBrokerOnly, "listeners"},
		{"unknown key", nil, map[string]string{"no.such": "1"}, ErrUnknownKey, "no.such"},
		{"topic key on a broker", nil, map[string]string{"retention.ms": "1"}, ErrUnknownKey, "retention.ms"},
		{"invalid value", nil, map[string]string{"log.cleaner.threads": "-1"}, ErrInvalidValue, "log.cleaner.threads"},
		{"conflict across layers", map[string]string{"log.cleaner.max.compaction.lag.ms": "5"},
			map[string]string{"log.cleaner.min.compaction.lag.ms": "10"}, ErrConflict, "log.cleaner.min.compaction.lag.ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := b.WithDynamic(tt.cluster, tt.perBroker)
			if !errors.Is(err, tt.kind) || !errorNames(err, tt.key) {
				t.Errorf("WithDynamic: err = %v, want %v about %s", err, tt.kind, tt.key)
			}
			if tt.kind == ErrConflict {
				return // only visible once the layers are combined
			}
			perBroker := tt.perBroker != nil
			changes := tt.perBroker
			if !perBroker {
				changes = tt.cluster
			}
			if err := ValidateDynamic(changes, perBroker); !errors.Is(err, tt.kind) {
				t.Errorf("ValidateDynamic: err = %v, want %v", err, tt.kind)
			}
		})
	}
	if err := ValidateDynamic(map[string]string{"min.insync.replicas": "2", "compression.type": "lz4"}, false); err != nil {
		t.Errorf("cluster-wide update refused: %v", err)
	}
}
