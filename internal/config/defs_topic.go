package config

import (
	"errors"
	"strings"
)

// topicDefs is the table of topic keys, the names CreateTopics, AlterConfigs and
// DescribeConfigs use. A topic key without an override takes its value from its broker
// synonyms (see Def.Synonyms); the type and validator are Kafka's topic-level ones.
func topicDefs() []Def {
	return []Def{
		{Name: "cleanup.policy", Type: TypeList, Validator: listIn("compact", "delete"), Importance: Medium, Group: GroupTopic,
			Synonyms: []string{"log.cleanup.policy"},
			Doc:      "delete: remove whole segments past retention.ms or retention.bytes. compact: keep at least the latest record of every key. Both may be given; an empty list keeps everything forever."},
		{Name: "compression.type", Type: TypeString, Validator: compressionTypes, Importance: Medium, Group: GroupTopic,
			Synonyms: []string{"compression.type"},
			Doc:      "The codec batches are stored with. producer keeps what the producer sent; any other value makes the broker recompress batches that use a different codec."},
		{Name: "compression.gzip.level", Type: TypeInt, Validator: gzipLevel, Importance: Medium, Group: GroupTopic,
			Synonyms: []string{"compression.gzip.level"},
			Doc:      "gzip level when the broker recompresses to gzip."},
		{Name: "compression.lz4.level", Type: TypeInt, Validator: between(1, 17), Importance: Medium, Group: GroupTopic,
			Synonyms: []string{"compression.lz4.level"},
			Doc:      "lz4 level when the broker recompresses to lz4."},
		{Name: "compression.zstd.level", Type: TypeInt, Validator: between(-131072, 22), Importance: Medium, Group: GroupTopic,
			Synonyms: []string{"compression.zstd.level"},
			Doc:      "zstd level when the broker recompresses to zstd."},
		{Name: "delete.retention.ms", Type: TypeLong, Unit: UnitMillis, Validator: atLeast(0), Importance: Medium, Group: GroupTopic,
			Synonyms: []string{"log.cleaner.delete.retention.ms"},
			Doc:      "On compacted topics, how long a tombstone (and a transaction marker) stays readable after compaction reaches it, so that slow consumers see the delete."},
		{Name: "file.delete.delay.ms", Type: TypeLong, Unit: UnitMillis, Validator: atLeast(0), Importance: Medium, Group: GroupTopic,
			Synonyms: []string{"log.segment.delete.delay.ms"},
			Doc:      "How long a deleted segment's files stay on disk before they are removed."},
		{Name: "flush.messages", Type: TypeLong, Validator: atLeast(1), Importance: Medium, Group: GroupTopic,
			Synonyms: []string{"log.flush.interval.messages"},
			Doc:      "Force an fsync after this many messages have been appended since the last one. See also sluice.log.flush.policy, which makes acknowledged writes durable without per-topic tuning."},
		{Name: "flush.ms", Type: TypeLong, Unit: UnitMillis, Validator: atLeast(0), Importance: Medium, Group: GroupTopic,
			Synonyms: []string{"log.flush.interval.ms", "log.flush.scheduler.interval.ms"},
			Doc:      "Force an fsync when the oldest unflushed message is this old."},
		{Name: "index.interval.bytes", Type: TypeInt, Unit: UnitBytes, Validator: atLeast(0), Importance: Medium, Group: GroupTopic,
			Synonyms: []string{"log.index.interval.bytes"},
			Doc:      "Add an offset index entry after this many bytes of batches. Smaller means faster lookups and larger indexes."},
		{Name: "max.compaction.lag.ms", Type: TypeLong, Unit: UnitMillis, Validator: atLeast(1), Importance: Medium, Group: GroupTopic,
			Synonyms: []string{"log.cleaner.max.compaction.lag.ms"},
			Doc:      "A record is compacted within this long even if the dirty ratio is not reached. Must be at least min.compaction.lag.ms."},
		{Name: "max.message.bytes", Type: TypeInt, Unit: UnitBytes, Validator: atLeast(0), Importance: Medium, Group: GroupTopic,
			Synonyms: []string{"message.max.bytes"},
			Doc:      "The largest record batch the topic accepts, after compression. Consumers' fetch sizes must allow it."},
		{Name: "message.timestamp.type", Type: TypeString, Validator: oneOf("CreateTime", "LogAppendTime"), Importance: Medium, Group: GroupTopic,
			Synonyms: []string{"log.message.timestamp.type"},
			Doc:      "CreateTime keeps the producer's timestamps; LogAppendTime replaces them with the broker's clock at append."},
		{Name: "message.timestamp.before.max.ms", Type: TypeLong, Unit: UnitMillis, Validator: atLeast(0), Importance: Medium, Group: GroupTopic,
			Synonyms: []string{"log.message.timestamp.before.max.ms"},
			Doc:      "With CreateTime, reject batches whose timestamps are further than this in the broker's past."},
		{Name: "message.timestamp.after.max.ms", Type: TypeLong, Unit: UnitMillis, Validator: atLeast(0), Importance: Medium, Group: GroupTopic,
			Synonyms: []string{"log.message.timestamp.after.max.ms"},
			Doc:      "With CreateTime, reject batches whose timestamps are further than this in the broker's future."},
		{Name: "message.downconversion.enable", Type: TypeBoolean, Importance: Low, Group: GroupTopic, Support: Informational,
			Synonyms: []string{"log.message.downconversion.enable"},
			Doc:      "Accepted for compatibility; no effect: Sluice serves record batch v2 only and never converts message formats (Kafka 4.0 removed the key)."},
		{Name: "min.cleanable.dirty.ratio", Type: TypeDouble, Validator: floatRange{0, 1}, Importance: Medium, Group: GroupTopic,
			Synonyms: []string{"log.cleaner.min.cleanable.ratio"},
			Doc:      "Compact once this fraction of the log has not been compacted yet. Lower compacts more often and keeps fewer duplicates."},
		{Name: "min.compaction.lag.ms", Type: TypeLong, Unit: UnitMillis, Validator: atLeast(0), Importance: Medium, Group: GroupTopic,
			Synonyms: []string{"log.cleaner.min.compaction.lag.ms"},
			Doc:      "A record stays uncompacted for at least this long, so consumers can see every update made within the window."},
		{Name: "min.insync.replicas", Type: TypeInt, Validator: atLeast(1), Importance: Medium, Group: GroupTopic,
			Synonyms: []string{"min.insync.replicas"},
			Doc:      "An acks=all write fails with NOT_ENOUGH_REPLICAS unless at least this many replicas, leader included, are in sync."},
		{Name: "preallocate", Type: TypeBoolean, Importance: Medium, Group: GroupTopic, Support: Informational,
			Synonyms: []string{"log.preallocate"},
			Doc:      "Accepted for compatibility; no effect: Sluice does not preallocate segment files."},
		{Name: "retention.bytes", Type: TypeLong, Unit: UnitBytes, Importance: Medium, Group: GroupTopic,
			Synonyms: []string{"log.retention.bytes"},
			Doc:      "With the delete policy, delete a partition's oldest segments while it is larger than this; -1 means no size limit."},
		{Name: "retention.ms", Type: TypeLong, Unit: UnitMillis, Validator: atLeast(-1), Importance: Medium, Group: GroupTopic,
			Synonyms: []string{"log.retention.ms", "log.retention.minutes", "log.retention.hours"},
			Doc:      "With the delete policy, delete segments whose newest record is older than this; -1 keeps data forever."},
		{Name: "segment.bytes", Type: TypeInt, Unit: UnitBytes, Validator: atLeast(1048576), Importance: Medium, Group: GroupTopic,
			Synonyms: []string{"log.segment.bytes"},
			Doc:      "Start a new segment when the active one reaches this size. Retention and compaction work in whole segments."},
		{Name: "segment.index.bytes", Type: TypeInt, Unit: UnitBytes, Validator: atLeast(4), Importance: Medium, Group: GroupTopic,
			Synonyms: []string{"log.index.size.max.bytes"},
			Doc:      "The size of each segment's offset and time index files; a full index rolls the segment."},
		{Name: "segment.ms", Type: TypeLong, Unit: UnitMillis, Validator: atLeast(1), Importance: Medium, Group: GroupTopic,
			Synonyms: []string{"log.roll.ms", "log.roll.hours"},
			Doc:      "Start a new segment when the active one is this old, even if not full, so time-based retention and compaction can act."},
		{Name: "segment.jitter.ms", Type: TypeLong, Unit: UnitMillis, Validator: atLeast(0), Importance: Medium, Group: GroupTopic,
			Synonyms: []string{"log.roll.jitter.ms", "log.roll.jitter.hours"},
			Doc:      "Subtract a random amount up to this from segment.ms per segment, so many partitions do not roll at the same moment."},
		{Name: "unclean.leader.election.enable", Type: TypeBoolean, Importance: Medium, Group: GroupTopic,
			Synonyms: []string{"unclean.leader.election.enable"},
			Doc:      "When no in-sync replica is alive, elect an out-of-sync one: the partition comes back sooner but loses the records that replica lacks."},
		{Name: "leader.replication.throttled.replicas", Type: TypeList, Default: "", Validator: throttledReplicas, Importance: Medium, Group: GroupTopic, Support: Informational,
			Doc: "Replicas whose leader-side replication is throttled, as partition:broker pairs or *. Accepted so reassignment tools work; no effect: Sluice has no replication quotas yet."},
		{Name: "follower.replication.throttled.replicas", Type: TypeList, Default: "", Validator: throttledReplicas, Importance: Medium, Group: GroupTopic, Support: Informational,
			Doc: "Replicas whose follower-side replication is throttled, as partition:broker pairs or *. Accepted so reassignment tools work; no effect: Sluice has no replication quotas yet."},
		{Name: "remote.storage.enable", Type: TypeBoolean, Default: "false", Validator: mustBeFalse, Importance: Medium, Group: GroupTopic,
			Doc:     "Tiered storage (KIP-405) in Kafka.",
			Differs: "Only false is accepted: Sluice has no tiered storage, as a Kafka broker with tiered storage disabled refuses true."},
	}
}

// throttledReplicas is Kafka's rule: "*", or partition:broker pairs of integers.
var throttledReplicas = check{desc: "partition:broker pairs, comma-separated, or *", fn: func(v Value) error {
	if len(v.list) == 1 && v.list[0] == "*" {
		return nil
	}
	for _, e := range v.list {
		if e == "" {
			continue
		}
		p, b, ok := strings.Cut(e, ":")
		if !ok || !isDigits(p) || !isDigits(b) {
			return errors.New("entries must be partition:broker")
		}
	}
	return nil
}}

var mustBeFalse = check{desc: "false", fn: func(v Value) error {
	if v.b {
		return errors.New("tiered storage is not supported by Sluice")
	}
	return nil
}}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
