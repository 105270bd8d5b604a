package group

import (
	"log/slog"
	"slices"

	"github.com/sluicehq/sluice/internal/protocol/kerr"
	"github.com/sluicehq/sluice/internal/protocol/message"
)

// This file is offsets on a shard's loop: Kafka's OffsetMetadataManager (commit, fetch,
// delete, expiration).

// commitRequest is an OffsetCommit's fields, copied out of the frame buffer.
type commitRequest struct {
	groupID     string
	generation  int32
	memberID    string
	instanceID  *string
	retentionMs int64 // -1: the broker's retention (v2–v4 only)
	topics      []commitTopic
}

type commitTopic struct {
	name       string
	partitions []commitPartition
}

type commitPartition struct {
	partition   int32
	offset      int64
	leaderEpoch int32
	metadata    *string
	timestampMs int64 // v1 commit_timestamp, -1 otherwise
}

// commitError answers every partition of req with code.
func commitError(req commitRequest, code int16) []message.OffsetCommitResponseTopic {
	out := make([]message.OffsetCommitResponseTopic, 0, len(req.topics))
	for _, t := range req.topics {
		rt := message.OffsetCommitResponseTopic{Name: t.name}
		for _, p := range t.partitions {
			rt.Partitions = append(rt.Partitions, message.OffsetCommitResponsePartition{PartitionIndex: p.partition, ErrorCode: code})
		}
		out = append(out, rt)
	}
	return out
}

// commit handles an OffsetCommit: it validates the member, writes one record per partition
// and answers once they are committed, applying them to the store then.
func (s *shard) commit(version int16, req commitRequest, reply func([]message.OffsetCommitResponseTopic)) {
	g := s.groups[req.groupID]
	if g == nil {
		switch {
		case req.generation < 0:
			// A consumer that does not use group membership (or the admin client): a
			// simple group is created.
			g = s.simpleGroup(req.groupID)
		case version >= 9:
			reply(commitError(req, kerr.GroupIDNotFound.Code))
			return
		default:
			reply(commitError(req, kerr.IllegalGeneration.Code))
			return
		}
	}
	if err := g.validateOffsetCommit(req.memberID, req.instanceID, req.generation, version); err != nil {
		cg, ok := g.(*consumerGroup)
		if !ok || err != kerr.StaleMemberEpoch || !cg.staleCommitAccepted(req.memberID, req.generation, req.topics) {
			reply(commitError(req, codeOf(err)))
			return
		}
	}
	// A commit keeps a classic member's session alive.
	if cg, ok := g.(*classicGroup); ok && (cg.is(stateStable) || cg.is(statePreparingRebalance)) {
		if m := cg.members[req.memberID]; m != nil {
			s.rescheduleHeartbeat(cg, m)
		}
	}
	nowMs := s.now().UnixMilli()
	expireMs := int64(-1)
	if req.retentionMs != -1 {
		expireMs = nowMs + req.retentionMs
	}
	type applied struct {
		topic     string
		partition int32
		v         offsetValue
	}
	var (
		recs []rec
		todo []applied
	)
	resp := make([]message.OffsetCommitResponseTopic, 0, len(req.topics))
	for _, t := range req.topics {
		rt := message.OffsetCommitResponseTopic{Name: t.name}
		for _, p := range t.partitions {
			rp := message.OffsetCommitResponsePartition{PartitionIndex: p.partition}
			if p.metadata != nil && len(*p.metadata) > s.c.cfg.OffsetMetadataMaxBytes {
				rp.ErrorCode = kerr.OffsetMetadataTooLarge.Code
			} else {
				v := offsetValue{offset: p.offset, leaderEpoch: p.leaderEpoch, commitTimestampMs: nowMs, expireTimestampMs: expireMs}
				if p.metadata != nil {
					v.metadata = *p.metadata
				}
				if p.timestampMs != -1 {
					v.commitTimestampMs = p.timestampMs
				}
				recs = append(recs, offsetCommitRecord(req.groupID, t.name, p.partition, v))
				todo = append(todo, applied{t.name, p.partition, v})
			}
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp = append(resp, rt)
	}
	s.write(recs, func(err error) {
		if err != nil {
			code := codeOf(err)
			for i := range resp {
				for j := range resp[i].Partitions {
					if resp[i].Partitions[j].ErrorCode == 0 {
						resp[i].Partitions[j].ErrorCode = code
					}
				}
			}
			reply(resp)
			return
		}
		s.simpleGroup(req.groupID) // deleted meanwhile: the log now has offsets for it again
		for _, a := range todo {
			s.offsets.put(req.groupID, a.topic, a.partition, a.v)
		}
		reply(resp)
	})
}

// fetchTopic is one topic of an OffsetFetch.
type fetchTopic struct {
	name       string
	partitions []int32
}

// fetch answers an OffsetFetch for one group (Kafka's fetchOffsets / fetchAllOffsets):
// topics nil asks for every committed offset. There are no pending transactional offsets
// yet, so require_stable never answers UNSTABLE_OFFSET_COMMIT.
func (s *shard) fetch(groupID string, topics []fetchTopic, memberID *string, memberEpoch int32) message.OffsetFetchResponseGroup {
	resp := message.OffsetFetchResponseGroup{GroupId: groupID, Topics: []message.OffsetFetchResponseTopics{}}
	g := s.groups[groupID]
	failAll := g == nil
	if g != nil {
		if err := g.validateOffsetFetch(memberID, memberEpoch); err != nil {
			if code := codeOf(err); code != kerr.GroupIDNotFound.Code {
				resp.ErrorCode = code
				return resp
			}
			failAll = true
		}
	}
	offsets := s.offsets.group(groupID)
	if failAll {
		offsets = nil
	}
	if topics == nil {
		names := make([]string, 0, len(offsets))
		for t := range offsets {
			names = append(names, t)
		}
		slices.Sort(names)
		for _, t := range names {
			rt := message.OffsetFetchResponseTopics{Name: t}
			parts := make([]int32, 0, len(offsets[t]))
			for p := range offsets[t] {
				parts = append(parts, p)
			}
			slices.Sort(parts)
			for _, p := range parts {
				rt.Partitions = append(rt.Partitions, fetchedPartition(p, offsets[t][p], true))
			}
			resp.Topics = append(resp.Topics, rt)
		}
		return resp
	}
	for _, t := range topics {
		rt := message.OffsetFetchResponseTopics{Name: t.name, Partitions: []message.OffsetFetchResponsePartitions{}}
		for _, p := range t.partitions {
			v, ok := offsets[t.name][p]
			rt.Partitions = append(rt.Partitions, fetchedPartition(p, v, ok))
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return resp
}

func fetchedPartition(p int32, v offsetValue, ok bool) message.OffsetFetchResponsePartitions {
	if !ok {
		return message.OffsetFetchResponsePartitions{PartitionIndex: p, CommittedOffset: -1, CommittedLeaderEpoch: -1, Metadata: ptr("")}
	}
	return message.OffsetFetchResponsePartitions{
		PartitionIndex: p, CommittedOffset: v.offset, CommittedLeaderEpoch: v.leaderEpoch, Metadata: ptr(v.metadata),
	}
}

// deleteOffsets handles an OffsetDelete (Kafka's deleteOffsets): offsets of topics no
// member consumes are tombstoned.
func (s *shard) deleteOffsets(groupID string, topics []fetchTopic, reply func(int16, []message.OffsetDeleteResponseTopic)) {
	g := s.groups[groupID]
	if g == nil {
		reply(kerr.GroupIDNotFound.Code, nil)
		return
	}
	if err := g.validateOffsetDelete(); err != nil {
		reply(codeOf(err), nil)
		return
	}
	type key struct {
		topic     string
		partition int32
	}
	var (
		recs []rec
		keys []key
	)
	resp := make([]message.OffsetDeleteResponseTopic, 0, len(topics))
	for _, t := range topics {
		rt := message.OffsetDeleteResponseTopic{Name: t.name, Partitions: []message.OffsetDeleteResponsePartition{}}
		subscribed := g.subscribedTo(t.name)
		for _, p := range t.partitions {
			rp := message.OffsetDeleteResponsePartition{PartitionIndex: p}
			if subscribed {
				rp.ErrorCode = kerr.GroupSubscribedToTopic.Code
			} else if _, ok := s.offsets.get(groupID, t.name, p); ok {
				recs = append(recs, offsetTombstone(groupID, t.name, p))
				keys = append(keys, key{t.name, p})
			}
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp = append(resp, rt)
	}
	s.write(recs, func(err error) {
		if err != nil {
			reply(codeOf(err), nil)
			return
		}
		for _, k := range keys {
			s.offsets.remove(groupID, k.topic, k.partition)
		}
		reply(0, resp)
	})
}

// scheduleExpiry runs the expiration every offsets.retention.check.interval.ms.
func (s *shard) scheduleExpiry() {
	s.schedule(timerKey{kind: timerExpiry}, s.c.cfg.OffsetsRetentionCheckInterval, func() {
		s.expire()
		s.scheduleExpiry()
	})
}

// expire tombstones expired offsets and deletes empty groups left without offsets (Kafka's
// cleanupGroupMetadata). As in Kafka, the state changes at once; a failed write leaves
// records that expire again at the next load.
func (s *shard) expire() {
	nowMs := s.now().UnixMilli()
	retentionMs := s.c.cfg.OffsetsRetention.Milliseconds()
	var recs []rec
	expiredOffsets, deletedGroups := 0, 0
	ids := make([]string, 0, len(s.groups))
	for id := range s.groups {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		g := s.groups[id]
		allExpired := true
		for topic, parts := range s.offsets.group(id) {
			if g.subscribedTo(topic) {
				allExpired = false
				continue
			}
			for p, v := range parts {
				base, ok := g.offsetExpiryBase(v)
				expired := ok && (v.expireTimestampMs >= 0 && nowMs >= v.expireTimestampMs ||
					v.expireTimestampMs < 0 && nowMs-base >= retentionMs)
				if !expired {
					allExpired = false
					continue
				}
				recs = append(recs, offsetTombstone(id, topic, p))
				s.offsets.remove(id, topic, p)
				expiredOffsets++
			}
		}
		if allExpired && g.isEmpty() && !s.offsets.hasGroup(id) && !hasPendingMembers(g) {
			recs = append(recs, g.tombstones()...)
			delete(s.groups, id)
			deletedGroups++
		}
	}
	if len(recs) == 0 {
		return
	}
	s.log.Info("expired offsets and groups", slog.Int("offsets", expiredOffsets), slog.Int("groups", deletedGroups))
	s.write(recs, func(err error) {
		if err != nil {
			s.log.Warn("writing expiration tombstones failed", slog.Any("err", err))
		}
	})
}

func hasPendingMembers(g group) bool {
	cg, ok := g.(*classicGroup)
	return ok && len(cg.pendingJoin) > 0
}

// topicsDeleted tombstones the offsets of deleted topics (Kafka's onPartitionsDeleted).
func (s *shard) topicsDeleted(topics map[string]bool) {
	var recs []rec
	for id := range s.offsets.groups {
		for topic, parts := range s.offsets.group(id) {
			if !topics[topic] {
				continue
			}
			for p := range parts {
				recs = append(recs, offsetTombstone(id, topic, p))
				s.offsets.remove(id, topic, p)
			}
		}
	}
	if len(recs) == 0 {
		return
	}
	s.log.Info("deleted the offsets of deleted topics", slog.Int("offsets", len(recs)))
	s.write(recs, func(err error) {
		if err != nil {
			s.log.Warn("writing tombstones for deleted topics failed", slog.Any("err", err))
		}
	})
}
