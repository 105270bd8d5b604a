package controller

import (
	"context"
	"maps"
	"slices"
	"strings"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/metadata"
	"github.com/sluicehq/sluice/internal/protocol/metarecord"
	"github.com/sluicehq/sluice/internal/protocol/wire"
)

const (
	// maxTopicNameLen is Kafka's limit (249: a partition directory name "<topic>-<n>" plus a
	// deletion suffix must fit in 255 bytes).
	maxTopicNameLen = 249
	// maxNewPartitions bounds the partitions one topic creation or increase may add. Kafka has
	// no such limit; Sluice has one because all the partitions go into one metadata log
	// entry, and a typo (1000000 for 1000) should not stall the quorum.
	maxNewPartitions = 100_000
)

// TopicSpec is one topic to create.
type TopicSpec struct {
	Name string
	// NumPartitions is -1 for num.partitions; ReplicationFactor -1 for
	// default.replication.factor. Both must be -1 when Assignments is given.
	NumPartitions     int32
	ReplicationFactor int16
	// Assignments, when not empty, gives every partition's replicas (partition ids 0..n-1).
	Assignments map[int32][]int32
	// Configs are the topic's overrides.
	Configs map[string]string
}

// TopicResult is the outcome for one TopicSpec, in request order.
type TopicResult struct {
	Name              string
	TopicID           metadata.UUID
	NumPartitions     int32
	ReplicationFactor int16
	// Configs are the overrides the topic was (or would be) created with; the server
	// describes the effective configs with config.Broker.DescribeTopic(Configs).
	Configs map[string]string
	Err     error
}

// CreateTopics creates topics, all that pass validation in one metadata entry. It returns a
// result per spec and the raft offset of the commit (0 when nothing was written: all
// failed, or validateOnly). The error is for the request as a whole (not controller,
// closed, ctx).
func (c *Controller) CreateTopics(ctx context.Context, specs []TopicSpec, validateOnly bool) ([]TopicResult, uint64, error) {
	results := make([]TopicResult, len(specs))
	var offset uint64
	err := c.do(ctx, func() error {
		im := c.image()
		cfg := c.config(im)
		alive := im.AliveBrokers()
		count := map[string]int{}
		for _, s := range specs {
			count[s.Name]++
		}
		// Collision keys of existing topics and of the ones this request creates.
		collide := map[string]string{}
		for _, t := range im.Topics() {
			collide[collisionKey(t.Name)] = t.Name
		}
		var recs []metarecord.Record
		for i, s := range specs {
			r := &results[i]
			r.Name = s.Name
			if count[s.Name] > 1 {
				r.Err = errf(ErrInvalidRequest, "Topic %s is listed more than once in the request.", s.Name)
				continue
			}
			topicRecs, err := c.buildTopic(im, cfg, alive, s, collide, r)
			if err != nil {
				r.Err = err
				continue
			}
			recs = append(recs, topicRecs...)
		}
		var err error
		offset, err = c.commit(recs, validateOnly)
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	return results, offset, nil
}

func (c *Controller) buildTopic(im *metadata.Image, cfg *config.Broker, alive []*metadata.Broker, s TopicSpec,
	collide map[string]string, r *TopicResult) ([]metarecord.Record, error) {
	if err := validTopicName(s.Name); err != nil {
		return nil, err
	}
	if _, ok := im.TopicByName(s.Name); ok {
		return nil, errf(ErrTopicExists, "Topic '%s' already exists.", s.Name)
	}
	if other, ok := collide[collisionKey(s.Name)]; ok {
		return nil, errf(ErrInvalidTopic, "Topic '%s' collides with existing topic: %s", s.Name, other)
	}

	var assignment [][]int32
	if len(s.Assignments) > 0 {
		if s.NumPartitions != -1 || s.ReplicationFactor != -1 {
			return nil, errf(ErrInvalidRequest, "Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot be used at the same time.")
		}
		if len(s.Assignments) > maxNewPartitions {
			return nil, errf(ErrInvalidPartitions, "Sluice creates at most %d partitions at once; %d were requested.", maxNewPartitions, len(s.Assignments))
		}
		assignment = make([][]int32, len(s.Assignments))
		for p, replicas := range s.Assignments {
			if p < 0 || int(p) >= len(assignment) {
				return nil, errf(ErrInvalidReplicaAssignment, "Partitions should be numbered 0 to %d, but the assignment names partition %d.", len(assignment)-1, p)
			}
			assignment[p] = replicas
		}
		for p, replicas := range assignment {
			if err := checkReplicas(im, int32(p), replicas); err != nil {
				return nil, err
			}
			if len(replicas) != len(assignment[0]) {
				return nil, errf(ErrInvalidReplicaAssignment, "All partitions must have the same number of replicas, but partition 0 has %d and partition %d has %d.", len(assignment[0]), p, len(replicas))
			}
		}
	} else {
		n := s.NumPartitions
		if n == -1 {
			n = cfg.NumPartitions
		}
		rf := int(s.ReplicationFactor)
		if rf == -1 {
			rf = int(cfg.DefaultReplicationFactor)
		}
		if n <= 0 {
			return nil, errf(ErrInvalidPartitions, "Number of partitions was set to an invalid non-positive value.")
		}
		if n > maxNewPartitions {
			return nil, errf(ErrInvalidPartitions, "Sluice creates at most %d partitions at once; %d were requested.", maxNewPartitions, n)
		}
		if rf <= 0 {
			return nil, errf(ErrInvalidReplicationFactor, "Replication factor must be larger than 0, or -1 to use the default value.")
		}
		if rf > len(alive) {
			return nil, errf(ErrInvalidReplicationFactor, "Unable to replicate the partition %d time(s): The target replication factor of %d cannot be reached because only %d broker(s) are registered.", rf, rf, len(alive))
		}
		assignment = place(c.rnd, alive, 0, n, rf)
	}

	overrides := maps.Clone(s.Configs)
	if overrides == nil {
		overrides = map[string]string{}
	}
	if err := cfg.ValidateTopicConfig(overrides); err != nil {
		return nil, &Error{Kind: ErrInvalidConfig, Msg: err.Error(), Cause: err}
	}

	id := metadata.RandomUUID()
	for {
		if _, taken := im.TopicByID(id); !taken {
			break
		}
		id = metadata.RandomUUID()
	}
	recs := []metarecord.Record{&metarecord.TopicRecord{Name: s.Name, TopicId: wire.UUID(id)}}
	for p, replicas := range assignment {
		pr, err := newPartition(im, id, int32(p), replicas)
		if err != nil {
			return nil, err
		}
		recs = append(recs, pr)
	}
	for _, k := range slices.Sorted(maps.Keys(overrides)) {
		v := overrides[k]
		recs = append(recs, &metarecord.ConfigRecord{ResourceType: metadata.ResourceTopic, ResourceName: s.Name, Name: k, Value: &v})
	}
	collide[collisionKey(s.Name)] = s.Name
	r.TopicID = id
	r.NumPartitions = int32(len(assignment))
	r.ReplicationFactor = int16(len(assignment[0]))
	r.Configs = overrides
	return recs, nil
}

// newPartition is a new partition's first record: its alive replicas form the ISR, the first
// of them leads, epochs start at 0.
func newPartition(im *metadata.Image, topic metadata.UUID, p int32, replicas []int32) (*metarecord.PartitionRecord, error) {
	var isr []int32
	for _, id := range replicas {
		if b, ok := im.Broker(id); ok && b.Alive() {
			isr = append(isr, id)
		}
	}
	if len(isr) == 0 {
		return nil, errf(ErrInvalidReplicaAssignment, "All brokers specified in the partition assignment for partition %d are currently fenced.", p)
	}
	r := metarecord.NewPartitionRecord()
	r.PartitionId = p
	r.TopicId = wire.UUID(topic)
	r.Replicas = slices.Clone(replicas)
	r.Isr = isr
	r.RemovingReplicas = []int32{}
	r.AddingReplicas = []int32{}
	r.Leader = isr[0]
	r.LeaderRecoveryState = 0
	r.LeaderEpoch = 0
	r.PartitionEpoch = 0
	return r, nil
}

// checkReplicas validates one manual partition assignment.
func checkReplicas(im *metadata.Image, p int32, replicas []int32) error {
	if len(replicas) == 0 {
		return errf(ErrInvalidReplicaAssignment, "The manual partition assignment includes an empty replica list for partition %d.", p)
	}
	seen := map[int32]bool{}
	for _, id := range replicas {
		if seen[id] {
			return errf(ErrInvalidReplicaAssignment, "The manual partition assignment for partition %d includes broker %d more than once.", p, id)
		}
		seen[id] = true
		if _, ok := im.Broker(id); !ok {
			return errf(ErrInvalidReplicaAssignment, "The manual partition assignment for partition %d includes broker %d, but no such broker is registered.", p, id)
		}
	}
	return nil
}

// validTopicName applies Kafka's topic name rules.
func validTopicName(name string) error {
	switch {
	case name == "":
		return errf(ErrInvalidTopic, "Topic name is illegal, it can't be empty")
	case name == "." || name == "..":
		return errf(ErrInvalidTopic, "Topic name cannot be \".\" or \"..\"")
	case len(name) > maxTopicNameLen:
		return errf(ErrInvalidTopic, "Topic name is illegal, it can't be longer than %d characters, topic name: %s", maxTopicNameLen, name)
	}
	for i := 0; i < len(name); i++ {
		ch := name[i]
		if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '.' || ch == '_' || ch == '-') {
			return errf(ErrInvalidTopic, "Topic name %q is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'", name)
		}
	}
	return nil
}

// collisionKey is the name with '.' as '_': Kafka refuses two topics whose names differ only
// there, because metric names cannot tell them apart.
func collisionKey(name string) string { return strings.ReplaceAll(name, ".", "_") }

// TopicRef names a topic by id (when not zero) or by name.
type TopicRef struct {
	Name string
	ID   metadata.UUID
}

// DeleteTopicResult is the outcome for one TopicRef, in request order; Name and ID are
// filled in from the image when the topic was found.
type DeleteTopicResult struct {
	Name string
	ID   metadata.UUID
	Err  error
}

// DeleteTopics removes topics (their partitions and configs with them) in one entry.
func (c *Controller) DeleteTopics(ctx context.Context, refs []TopicRef) ([]DeleteTopicResult, uint64, error) {
	results := make([]DeleteTopicResult, len(refs))
	var offset uint64
	err := c.do(ctx, func() error {
		im := c.image()
		enabled := c.config(im).DeleteTopicEnable
		removed := map[metadata.UUID]bool{}
		var recs []metarecord.Record
		for i, ref := range refs {
			r := &results[i]
			r.Name, r.ID = ref.Name, ref.ID
			var t *metadata.Topic
			var ok bool
			if !ref.ID.IsZero() {
				if t, ok = im.TopicByID(ref.ID); !ok {
					r.Err = errf(ErrUnknownTopicID, "Topic id %s not found.", ref.ID)
					continue
				}
			} else if t, ok = im.TopicByName(ref.Name); !ok {
				r.Err = errf(ErrUnknownTopic, "This server does not host this topic: %s", ref.Name)
				continue
			}
			r.Name, r.ID = t.Name, t.ID
			if !enabled {
				r.Err = errf(ErrTopicDeletionDisabled, "Topic deletion is disabled.")
				continue
			}
			if removed[t.ID] {
				continue // named twice (by name and by id): one removal
			}
			removed[t.ID] = true
			recs = append(recs, &metarecord.RemoveTopicRecord{TopicId: wire.UUID(t.ID)})
		}
		if len(recs) == 0 {
			return nil
		}
		idx, err := c.propose(recs...)
		if err != nil {
			return err
		}
		offset = idx
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	return results, offset, nil
}

// PartitionsSpec raises a topic's partition count to Count.
type PartitionsSpec struct {
	Topic string
	Count int32
	// Assignments, when not nil, gives the replicas of each new partition, in order.
	Assignments [][]int32
}

// PartitionsResult is the outcome for one PartitionsSpec, in request order.
type PartitionsResult struct {
	Topic string
	Err   error
}

// CreatePartitions adds partitions to existing topics, in one entry.
func (c *Controller) CreatePartitions(ctx context.Context, specs []PartitionsSpec, validateOnly bool) ([]PartitionsResult, uint64, error) {
	results := make([]PartitionsResult, len(specs))
	var offset uint64
	err := c.do(ctx, func() error {
		im := c.image()
		alive := im.AliveBrokers()
		count := map[string]int{}
		for _, s := range specs {
			count[s.Topic]++
		}
		var recs []metarecord.Record
		for i, s := range specs {
			r := &results[i]
			r.Topic = s.Topic
			if count[s.Topic] > 1 {
				r.Err = errf(ErrInvalidRequest, "Topic %s is listed more than once in the request.", s.Topic)
				continue
			}
			more, err := c.buildPartitions(im, alive, s)
			if err != nil {
				r.Err = err
				continue
			}
			recs = append(recs, more...)
		}
		var err error
		offset, err = c.commit(recs, validateOnly)
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	return results, offset, nil
}

func (c *Controller) buildPartitions(im *metadata.Image, alive []*metadata.Broker, s PartitionsSpec) ([]metarecord.Record, error) {
	t, ok := im.TopicByName(s.Topic)
	if !ok {
		return nil, errf(ErrUnknownTopic, "This server does not host this topic: %s", s.Topic)
	}
	have := int32(len(t.Partitions))
	switch {
	case s.Count < have:
		return nil, errf(ErrInvalidPartitions, "Topic currently has %d partitions, which is higher than the requested %d.", have, s.Count)
	case s.Count == have:
		return nil, errf(ErrInvalidPartitions, "Topic already has %d partitions.", have)
	case s.Count-have > maxNewPartitions:
		return nil, errf(ErrInvalidPartitions, "Sluice creates at most %d partitions at once; %d were requested.", maxNewPartitions, s.Count-have)
	}
	add := s.Count - have
	rf := len(t.Partitions[0].Replicas)
	var assignment [][]int32
	if s.Assignments != nil {
		if int32(len(s.Assignments)) != add {
			return nil, errf(ErrInvalidReplicaAssignment, "Attempted to add %d additional partition(s), but only %d assignment(s) were specified.", add, len(s.Assignments))
		}
		for i, replicas := range s.Assignments {
			p := have + int32(i)
			if err := checkReplicas(im, p, replicas); err != nil {
				return nil, err
			}
			if len(replicas) != rf {
				return nil, errf(ErrInvalidReplicaAssignment, "The manual partition assignment includes a partition with %d replica(s), but this is not consistent with previous partitions, which have %d replica(s).", len(replicas), rf)
			}
		}
		assignment = s.Assignments
	} else {
		if rf > len(alive) {
			return nil, errf(ErrInvalidReplicationFactor, "Unable to replicate the partition %d time(s): The target replication factor of %d cannot be reached because only %d broker(s) are registered.", rf, rf, len(alive))
		}
		assignment = place(c.rnd, alive, have, add, rf)
	}
	var recs []metarecord.Record
	for i, replicas := range assignment {
		pr, err := newPartition(im, t.ID, have+int32(i), replicas)
		if err != nil {
			return nil, err
		}
		recs = append(recs, pr)
	}
	return recs, nil
}
