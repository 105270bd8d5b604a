package group

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/sluicehq/sluice/internal/protocol/grouprecord"
	"github.com/sluicehq/sluice/internal/record"
	"github.com/sluicehq/sluice/internal/replica"
)

// maxDecompressedBatchBytes bounds a compressed batch read while loading (the coordinator
// writes uncompressed batches; a compressed one came from elsewhere).
const maxDecompressedBatchBytes = 64 << 20

// load reads the partition from its log start to its log end and replays every record into
// the shard's state. Nothing else writes the partition while a shard loads (the shard is
// its only writer and it does not run operations yet).
func (s *shard) load() error {
	end := s.p.LogEndOffset()
	off := s.p.LogStartOffset()
	var buf, decomp []byte
	for off < end {
		if err := s.ctx.Err(); err != nil {
			return err
		}
		res, err := s.p.Read(replica.ReadOptions{
			Offset:             off,
			MaxBytes:           loadReadBytes,
			MinOneMessage:      true,
			Isolation:          replica.ReadLogEnd,
			CurrentLeaderEpoch: -1,
			LastFetchedEpoch:   -1,
			ReplicaID:          replica.ConsumerReplicaID,
		})
		if err != nil {
			return fmt.Errorf("reading offset %d: %w", off, err)
		}
		if res.Region.Length == 0 {
			break // compaction left a gap up to the end
		}
		if int64(cap(buf)) < res.Region.Length {
			buf = make([]byte, res.Region.Length)
		}
		buf = buf[:res.Region.Length]
		n, err := res.Region.File.ReadAt(buf, res.Region.Position)
		res.Region.Release()
		if err != nil && n < len(buf) {
			buf = buf[:n] // a truncation under us: what was read is whole batches up to a point
		}
		next := off
		rest := buf
		for len(rest) > 0 {
			b, r, err := record.Parse(rest, 0)
			if err != nil {
				if next == off {
					return fmt.Errorf("batch at offset %d: %w", off, err)
				}
				break // a torn tail of a short read: read again from next
			}
			rest = r
			next = b.NextOffset()
			if b.IsControl() || b.IsTransactional() {
				// Transactional offset commits and their markers belong to the transaction
				// coordinator's issue; until then nothing writes them here.
				continue
			}
			recs, err := record.Decompress(decomp, b, maxDecompressedBatchBytes)
			if err != nil {
				return fmt.Errorf("batch at offset %d: %w", b.BaseOffset(), err)
			}
			if b.Compression() != record.CompressionNone {
				decomp = recs
			}
			it := record.NewRecordIter(recs, b.RecordCount())
			for it.Next() {
				r := it.Record()
				if err := s.replay(r.Key, r.Value); err != nil {
					// Kafka fails the load on a record it cannot read; skipping one keeps the
					// rest of the partition's groups available.
					s.log.Warn("skipping an unreadable __consumer_offsets record",
						slog.Int64("offset", r.Offset(b)), slog.Any("err", err))
				}
			}
			if err := it.Err(); err != nil {
				return fmt.Errorf("records of batch at offset %d: %w", b.BaseOffset(), err)
			}
		}
		if next <= off {
			return fmt.Errorf("no progress reading offset %d", off)
		}
		off = next
	}
	return nil
}

// replay applies one record of the partition's log to the shard's state: the same state the
// operations that wrote it left behind. Keys and values alias the read buffer: replay copies
// what it keeps (decoding does).
func (s *shard) replay(key, value []byte) error {
	if key == nil {
		return fmt.Errorf("record without a key")
	}
	kv, k, err := grouprecord.DecodeKey(key)
	if err != nil {
		return fmt.Errorf("key: %w", err)
	}
	_, v, err := grouprecord.DecodeValue(kv, value)
	if err != nil {
		return fmt.Errorf("value of key version %d: %w", kv, err)
	}
	switch k := k.(type) {
	case *grouprecord.OffsetCommitKey:
		if v == nil {
			s.offsets.remove(k.Group, k.Topic, k.Partition)
			return nil
		}
		val := v.(*grouprecord.OffsetCommitValue)
		s.simpleGroup(k.Group)
		s.offsets.put(k.Group, k.Topic, k.Partition, offsetValue{
			offset:            val.Offset,
			leaderEpoch:       val.LeaderEpoch,
			metadata:          val.Metadata,
			commitTimestampMs: val.CommitTimestamp,
			expireTimestampMs: val.ExpireTimestamp,
		})
	case *grouprecord.GroupMetadataKey:
		if v == nil {
			delete(s.groups, k.Group)
			return nil
		}
		s.groups[k.Group] = classicGroupFromRecord(k.Group, v.(*grouprecord.GroupMetadataValue))
	case *grouprecord.ConsumerGroupMetadataKey, *grouprecord.ConsumerGroupPartitionMetadataKey,
		*grouprecord.ConsumerGroupMemberMetadataKey, *grouprecord.ConsumerGroupTargetAssignmentMetadataKey,
		*grouprecord.ConsumerGroupTargetAssignmentMemberKey, *grouprecord.ConsumerGroupCurrentMemberAssignmentKey:
		s.replayConsumer(k, v)
	default:
		// Share-group records (key versions 9–15): share groups are not served.
		s.log.Debug("skipping a __consumer_offsets record of an unsupported type", slog.Int("key_version", int(kv)))
	}
	return nil
}

// classicGroupFromRecord rebuilds a classic group from its last GroupMetadata record, as
// Kafka's replay does: Stable with its members and their assignments, or Empty.
func classicGroupFromRecord(id string, v *grouprecord.GroupMetadataValue) *classicGroup {
	g := newClassicGroup(id, time.Time{})
	g.stateTimestampMs = v.CurrentStateTimestamp
	g.generation = v.Generation
	g.protocolType = v.ProtocolType
	if v.Protocol != nil {
		g.protocolName, g.hasProtocolName = *v.Protocol, true
	}
	if v.Leader != nil {
		g.leaderID = *v.Leader
	}
	protocolName := ""
	if v.Protocol != nil {
		protocolName = *v.Protocol
	}
	for _, mm := range v.Members {
		rebalanceTimeout := mm.RebalanceTimeout
		if rebalanceTimeout == -1 {
			rebalanceTimeout = mm.SessionTimeout
		}
		m := &classicMember{
			id:                 mm.MemberId,
			clientID:           mm.ClientId,
			clientHost:         mm.ClientHost,
			rebalanceTimeoutMs: rebalanceTimeout,
			sessionTimeoutMs:   mm.SessionTimeout,
			protocolType:       v.ProtocolType,
			protocols:          []protocol{{name: protocolName, metadata: mm.Subscription}},
			assignment:         mm.Assignment,
		}
		if mm.GroupInstanceId != nil {
			m.instanceID = ptr(*mm.GroupInstanceId)
		}
		g.add(m, nil)
	}
	if v.Leader != nil {
		g.leaderID = *v.Leader // add made the first member leader; the record says who is
	}
	if len(g.members) > 0 {
		g.state = stateStable
	}
	g.computeSubscribedTopics()
	return g
}

// simpleGroup returns the group of an offset commit, creating a "simple" group (a classic
// group with no protocol type, always Empty) for a consumer that commits offsets without
// joining, as Kafka does.
func (s *shard) simpleGroup(id string) group {
	if g, ok := s.groups[id]; ok {
		return g
	}
	g := newClassicGroup(id, s.now())
	s.groups[id] = g
	return g
}

// onLoaded starts what a loaded state needs: session timers for the members of loaded
// groups (they rejoin or heartbeat within their session, or leave), a rebalance for groups
// over group.max.size, and the periodic expiration.
func (s *shard) onLoaded() {
	// Offsets whose group record is gone (tombstoned while offsets stayed) belong to a
	// simple group, as when they were committed.
	for id := range s.offsets.groups {
		s.simpleGroup(id)
	}
	for _, g := range s.groups {
		cg, ok := g.(*classicGroup)
		if !ok {
			continue
		}
		for _, m := range cg.members {
			s.rescheduleHeartbeat(cg, m)
		}
		if len(cg.members) > s.c.cfg.MaxSize {
			s.prepareRebalance(cg, fmt.Sprintf("freshly loaded group is over group.max.size (%d > %d)", len(cg.members), s.c.cfg.MaxSize))
		}
	}
	s.onConsumerGroupsLoaded()
	s.scheduleExpiry()
}
