package config

import (
	"errors"
	"sort"
	"time"
)

// Topic is a topic's effective configuration: its overrides over the broker's defaults.
// "Never"/"unlimited" durations are math.MaxInt64; Retention and RetentionBytes are negative
// for "no limit".
type Topic struct {
	CleanupPolicy             CleanupPolicy
	CompressionType           string // producer, uncompressed, gzip, snappy, lz4 or zstd
	CompressionGzipLevel      int
	CompressionLz4Level       int
	CompressionZstdLevel      int
	DeleteRetention           time.Duration
	FileDeleteDelay           time.Duration
	FlushMessages             int64 // math.MaxInt64: never forced by count
	Flush                     time.Duration
	IndexIntervalBytes        int64
	MaxCompactionLag          time.Duration
	MinCompactionLag          time.Duration
	MaxMessageBytes           int64
	MessageTimestampType      TimestampType
	MessageTimestampBeforeMax time.Duration
	MessageTimestampAfterMax  time.Duration
	MinCleanableDirtyRatio    float64
	MinInsyncReplicas         int
	Preallocate               bool
	RetentionBytes            int64
	Retention                 time.Duration
	SegmentBytes              int64
	SegmentIndexBytes         int64
	Segment                   time.Duration
	SegmentJitter             time.Duration
	UncleanLeaderElection     bool
}

// CleanupPolicy is the parsed cleanup.policy. Both false means keep everything.
type CleanupPolicy struct {
	Delete  bool
	Compact bool
}

// TimestampType is message.timestamp.type.
type TimestampType string

// The timestamp types.
const (
	CreateTime    TimestampType = "CreateTime"
	LogAppendTime TimestampType = "LogAppendTime"
)

// Entry is one config in a DescribeConfigs answer, field for field what the response
// carries. Value is nil for an unset key and for every sensitive key.
type Entry struct {
	Name      string
	Value     *string
	Source    Source
	ReadOnly  bool
	Sensitive bool
	Type      Type
	Doc       string
	// Synonyms are the places a value could come from, effective first, as Kafka lists them
	// (the topic override, then the broker keys layer by layer).
	Synonyms []Synonym
}

// Synonym is one candidate source of a config's value.
type Synonym struct {
	Name   string
	Value  *string
	Source Source
}

// ValidateTopicConfig checks a topic's overrides as CreateTopics and AlterConfigs must:
// every name a known topic config (ErrUnknownTopicConfig otherwise, as Kafka refuses unknown
// topic configs), every value valid for its key (ErrInvalidValue), and the result
// consistent with the broker's defaults (ErrConflict, e.g. min.compaction.lag.ms above
// max.compaction.lag.ms).
func (b *Broker) ValidateTopicConfig(overrides map[string]string) error {
	_, err := resolveTopic(&b.src, overrides)
	return err
}

// TopicConfig returns the effective config of a topic with the given overrides.
func (b *Broker) TopicConfig(overrides map[string]string) (Topic, error) {
	return resolveTopic(&b.src, overrides)
}

// DescribeTopic answers DescribeConfigs for a topic with the given overrides: every topic
// key (or only names, if given; unknown names are skipped as Kafka skips them), sorted by
// name, with its effective value, source and synonym chain.
func (b *Broker) DescribeTopic(overrides map[string]string, names ...string) ([]Entry, error) {
	ov, err := parseTopicOverrides(overrides)
	if err != nil {
		return nil, err
	}
	var out []Entry
	for _, d := range selectDefs(topicTable, names) {
		v, chain := topicValue(&b.src, d, ov)
		e := Entry{Name: d.Name, Value: strPtr(v), Source: v.Source, Sensitive: d.Sensitive(), Type: d.Type, Doc: d.Doc}
		if o, ok := ov[d.Name]; ok {
			e.Synonyms = append(e.Synonyms, Synonym{Name: d.Name, Value: strPtr(o), Source: SourceDynamicTopic})
		}
		for _, c := range chain {
			e.Synonyms = append(e.Synonyms, Synonym{Name: c.Name(), Value: strPtr(c), Source: c.Source})
		}
		out = append(out, e)
	}
	return out, nil
}

// Describe answers DescribeConfigs for this broker: every broker key (or only names, if
// given; unknown names are skipped), sorted by name. ReadOnly is set for keys that cannot
// change at runtime.
func (b *Broker) Describe(names ...string) []Entry {
	var out []Entry
	for _, d := range selectDefs(brokerTable, names) {
		syns := b.src.chain(brokerSynonyms(d.Name))
		// Kafka drops the higher-precedence synonyms of other names in front of the key's
		// own: describing log.retention.hours shows its own value, not log.retention.ms's.
		for len(syns) > 0 && syns[0].Name() != d.Name {
			syns = syns[1:]
		}
		e := Entry{Name: d.Name, Source: SourceDefault, ReadOnly: d.Mode == ReadOnly,
			Sensitive: d.Sensitive(), Type: d.Type, Doc: d.Doc}
		if len(syns) > 0 {
			e.Value, e.Source = strPtr(syns[0]), syns[0].Source
		}
		for _, s := range syns {
			e.Synonyms = append(e.Synonyms, Synonym{Name: s.Name(), Value: strPtr(s), Source: s.Source})
		}
		out = append(out, e)
	}
	return out
}

// brokerSynonyms is Kafka's list of broker keys that describe the same setting: the time
// keys in several units. log.flush.scheduler.interval.ms is deliberately alone: it is the
// fallback of log.flush.interval.ms but also a setting of its own (the flusher's period).
func brokerSynonyms(name string) []string {
	for _, t := range []string{"retention.ms", "segment.ms", "segment.jitter.ms", "flush.ms"} {
		syns := topicTable.get(t).Synonyms
		for i, s := range syns {
			if s == name && (t != "flush.ms" || i == 0) {
				return syns
			}
		}
	}
	return []string{name}
}

func selectDefs(t *defTable, names []string) []*Def {
	var ds []*Def
	if len(names) == 0 {
		for i := range t.list {
			ds = append(ds, &t.list[i])
		}
	} else {
		for _, n := range names {
			if d := t.get(n); d != nil {
				ds = append(ds, d)
			}
		}
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i].Name < ds[j].Name })
	return ds
}

func strPtr(v Value) *string {
	if v.IsNull() || v.def.Sensitive() {
		return nil
	}
	s := v.canonical()
	return &s
}

// parseTopicOverrides parses and validates each override on its own.
func parseTopicOverrides(overrides map[string]string) (map[string]Value, error) {
	out := make(map[string]Value, len(overrides))
	var errs []error
	for _, k := range sortedKeys(overrides) {
		d := topicTable.get(k)
		if d == nil {
			errs = append(errs, &Error{Kind: ErrUnknownTopicConfig, Key: k, Value: overrides[k], Origin: originTopic,
				Reason: "unknown topic config name"})
			continue
		}
		v, err := parseValue(d, overrides[k])
		if err != nil {
			err.Origin = originTopic
			errs = append(errs, err)
			continue
		}
		v.Source, v.Origin = SourceDynamicTopic, originTopic
		out[k] = v
	}
	return out, errors.Join(errs...)
}

// topicValue returns a topic key's effective value and its broker synonym chain.
func topicValue(s *sources, d *Def, ov map[string]Value) (Value, []Value) {
	chain := s.chain(d.Synonyms)
	if v, ok := ov[d.Name]; ok {
		return v, chain
	}
	if len(chain) > 0 {
		return fromSynonym(chain[0], d), chain
	}
	if v, ok := topicTable.defaults[d.Name]; ok {
		return v, chain
	}
	return Value{def: d, null: true, Source: SourceDefault}, chain
}

// fromSynonym converts a broker synonym's value to the topic key: units (hours to ms) and,
// for retention.ms, Kafka's rule that any negative retention means -1 (unlimited).
func fromSynonym(v Value, d *Def) Value {
	out := v
	out.def = d
	if d.Type.isInteger() {
		if from, to := v.def.Unit.millis(), d.Unit.millis(); from > 0 && to > 0 {
			out.i = v.i * from / to
		}
		if d.Name == "retention.ms" && out.i < 0 {
			out.i = -1
		}
	}
	return out
}

// resolveTopic builds the typed effective topic config.
func resolveTopic(s *sources, overrides map[string]string) (Topic, error) {
	ov, err := parseTopicOverrides(overrides)
	if err != nil {
		return Topic{}, err
	}
	get := func(name string) Value {
		v, _ := topicValue(s, topicTable.get(name), ov)
		return v
	}
	t := Topic{
		CompressionType:           get("compression.type").s,
		CompressionGzipLevel:      int(get("compression.gzip.level").i),
		CompressionLz4Level:       int(get("compression.lz4.level").i),
		CompressionZstdLevel:      int(get("compression.zstd.level").i),
		DeleteRetention:           get("delete.retention.ms").Duration(),
		FileDeleteDelay:           get("file.delete.delay.ms").Duration(),
		FlushMessages:             get("flush.messages").i,
		Flush:                     get("flush.ms").Duration(),
		IndexIntervalBytes:        get("index.interval.bytes").i,
		MaxCompactionLag:          get("max.compaction.lag.ms").Duration(),
		MinCompactionLag:          get("min.compaction.lag.ms").Duration(),
		MaxMessageBytes:           get("max.message.bytes").i,
		MessageTimestampType:      TimestampType(get("message.timestamp.type").s),
		MessageTimestampBeforeMax: get("message.timestamp.before.max.ms").Duration(),
		MessageTimestampAfterMax:  get("message.timestamp.after.max.ms").Duration(),
		MinCleanableDirtyRatio:    get("min.cleanable.dirty.ratio").f,
		MinInsyncReplicas:         int(get("min.insync.replicas").i),
		Preallocate:               get("preallocate").b,
		RetentionBytes:            get("retention.bytes").i,
		Retention:                 get("retention.ms").Duration(),
		SegmentBytes:              get("segment.bytes").i,
		SegmentIndexBytes:         get("segment.index.bytes").i,
		Segment:                   get("segment.ms").Duration(),
		SegmentJitter:             get("segment.jitter.ms").Duration(),
		UncleanLeaderElection:     get("unclean.leader.election.enable").b,
	}
	for _, p := range get("cleanup.policy").list {
		switch p {
		case "delete":
			t.CleanupPolicy.Delete = true
		case "compact":
			t.CleanupPolicy.Compact = true
		}
	}
	if minLag, maxLag := get("min.compaction.lag.ms"), get("max.compaction.lag.ms"); minLag.i > maxLag.i {
		// Blame the setting the caller is most likely changing: a topic override if there
		// is one, else the broker key the minimum came from.
		bad, key := minLag, "min.compaction.lag.ms"
		if _, ok := ov["max.compaction.lag.ms"]; ok {
			bad, key = maxLag, "max.compaction.lag.ms"
		}
		if _, ok := ov[key]; !ok {
			if ch := s.chain(topicTable.get(key).Synonyms); len(ch) > 0 {
				key = ch[0].Name()
			}
		}
		return Topic{}, conflict(key, bad.String(), bad.Origin,
			"min.compaction.lag.ms (%d) must not exceed max.compaction.lag.ms (%d)", minLag.i, maxLag.i)
	}
	return t, nil
}
