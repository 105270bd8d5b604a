package group

// offsetValue is one committed offset (Kafka's OffsetAndMetadata).
type offsetValue struct {
	offset            int64
	leaderEpoch       int32 // -1: none
	metadata          string
	commitTimestampMs int64
	// expireTimestampMs is the explicit expiry of OffsetCommit v2–v4 with a retention time
	// (the v1 value record), -1 otherwise: then the group's retention rule applies.
	expireTimestampMs int64
}

// offsetStore holds the committed offsets of a shard's groups: group → topic → partition.
// It is owned by the shard's loop. It holds exactly what the log's offset records say
// (applied in log order once committed, or replayed at load), so its size is bounded by the
// log's: offsets expire (offsets.retention.minutes) and deleted groups and topics drop
// theirs.
type offsetStore struct {
	groups map[string]map[string]map[int32]offsetValue
	count  int
}

func newOffsetStore() offsetStore {
	return offsetStore{groups: map[string]map[string]map[int32]offsetValue{}}
}

func (o *offsetStore) get(group, topic string, partition int32) (offsetValue, bool) {
	v, ok := o.groups[group][topic][partition]
	return v, ok
}

func (o *offsetStore) put(group, topic string, partition int32, v offsetValue) {
	topics := o.groups[group]
	if topics == nil {
		topics = map[string]map[int32]offsetValue{}
		o.groups[group] = topics
	}
	parts := topics[topic]
	if parts == nil {
		parts = map[int32]offsetValue{}
		topics[topic] = parts
	}
	if _, ok := parts[partition]; !ok {
		o.count++
	}
	parts[partition] = v
}

func (o *offsetStore) remove(group, topic string, partition int32) {
	parts := o.groups[group][topic]
	if _, ok := parts[partition]; !ok {
		return
	}
	delete(parts, partition)
	o.count--
	if len(parts) == 0 {
		delete(o.groups[group], topic)
		if len(o.groups[group]) == 0 {
			delete(o.groups, group)
		}
	}
}

// group returns a group's offsets (nil when none); callers must not modify it.
func (o *offsetStore) group(group string) map[string]map[int32]offsetValue {
	return o.groups[group]
}

func (o *offsetStore) hasGroup(group string) bool { return len(o.groups[group]) > 0 }
