package group

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/protocol/message"
	"github.com/sluicehq/sluice/internal/record"
	"github.com/sluicehq/sluice/internal/replica"
)

// writeGroups appends, straight to partition p, what groups of a typical consumer group
// leave in __consumer_offsets: a GroupMetadata record (members with a ~60-byte
// subscription and assignment each) and offsets for 12 partitions, each committed twice
// (the load replays both). Batches of 500 records, as a busy coordinator writes them.
func writeGroups(tb testing.TB, p *replica.Partition, prefix string, groups, membersPerGroup int) {
	tb.Helper()
	var recs []rec
	flush := func() {
		if len(recs) == 0 {
			return
		}
		bd := record.NewBuilder(internalBatchOptions())
		for i, r := range recs {
			if err := bd.Append(int32(i), 1_700_000_000_000, r.key, r.value, nil); err != nil {
				tb.Fatal(err)
			}
		}
		b, err := bd.Build()
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := p.Append(context.Background(), b, replica.AppendOptions{RequiredAcks: 1, Origin: replica.OriginCoordinator}); err != nil {
			tb.Fatal(err)
		}
		recs = recs[:0]
	}
	sub := make([]byte, 60)
	for i := range groups {
		id := fmt.Sprintf("%s-%d", prefix, i)
		for round := range 2 {
			for part := range int32(12) {
				recs = append(recs, offsetCommitRecord(id, "orders", part, offsetValue{
					offset: int64(1000*round + i), leaderEpoch: 1, commitTimestampMs: 1_700_000_000_000, expireTimestampMs: -1,
				}))
			}
		}
		g := newClassicGroup(id, time.UnixMilli(1_700_000_000_000))
		g.generation, g.protocolType, g.protocolName, g.hasProtocolName = 7, "consumer", "range", true
		assign := map[string][]byte{}
		for m := range membersPerGroup {
			mid := fmt.Sprintf("consumer-%d-3f0b2c56-8f1e-4c41-9d2a-5b9f0a6e4c%02d", m, m%100)
			g.add(&classicMember{id: mid, clientID: "consumer", clientHost: "/10.0.0.1", rebalanceTimeoutMs: 60000,
				sessionTimeoutMs: 45000, protocolType: "consumer", protocols: []protocol{{name: "range", metadata: sub}}}, nil)
			assign[mid] = sub
		}
		g.leaderID = g.sortedMemberIDs()[0]
		recs = append(recs, classicGroupRecord(g, assign))
		if len(recs) >= 500 {
			flush()
		}
	}
	flush()
}

// BenchmarkLoad10kGroups: the time a coordinator takes to load one __consumer_offsets
// partition holding 10,000 groups (3 members each, 24 offset records each: 250,000
// records) when it becomes leader. Target: under 2 s.
func BenchmarkLoad10kGroups(b *testing.B) {
	e := newEnv(b, func(c *Config) { c.OffsetsTopicNumPartitions = 1 })
	writeGroups(b, e.parts[0], "g", 10_000, 3)
	b.ReportMetric(float64(e.parts[0].SizeBytes())/(1<<20), "MiB")
	b.ResetTimer()
	for range b.N {
		e.c.Resign(0, -1)
		e.epoch++
		e.c.Elect(0, e.epoch, e.parts[0])
		e.waitLoaded()
	}
	b.StopTimer()
	if got := e.committed("g-9999"); got["orders"][11] != 1000+9999 {
		b.Fatalf("loaded %v", got)
	}
}

// BenchmarkLoad10kGroupsSpread: a broker starting up with 10,000 groups spread over 50
// partitions, loaded in parallel (one shard each).
func BenchmarkLoad10kGroupsSpread(b *testing.B) {
	e := newEnv(b, func(c *Config) { c.OffsetsTopicNumPartitions = 50 })
	for i, p := range e.parts {
		writeGroups(b, p, fmt.Sprintf("p%d", i), 200, 3)
	}
	b.ResetTimer()
	for range b.N {
		for i := range e.parts {
			e.c.Resign(int32(i), -1)
		}
		e.epoch++
		for i, p := range e.parts {
			e.c.Elect(int32(i), e.epoch, p)
		}
		e.waitLoaded()
	}
}

// BenchmarkOffsetCommit: OffsetCommit through the coordinator (no network), one partition
// per commit, from 64 concurrent committers spread over groups of all partitions. Each
// commit is answered once committed: under group commit once fsynced (the commits of a
// round share one), under flush policy none once in the page cache (Kafka's behaviour).
func BenchmarkOffsetCommit(b *testing.B) {
	for _, tc := range []struct {
		flush replica.FlushPolicy
		parts int32
	}{{replica.FlushGroupCommit, 1}, {replica.FlushGroupCommit, 50}, {replica.FlushNone, 1}, {replica.FlushNone, 50}} {
		b.Run(fmt.Sprintf("flush=%s/partitions=%d", tc.flush, tc.parts), func(b *testing.B) {
			e := newEnvFlush(b, tc.flush, func(c *Config) { c.OffsetsTopicNumPartitions = tc.parts })
			var n atomic.Int64
			b.SetParallelism(32)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				g := fmt.Sprintf("bench-%d", n.Add(1))
				r := message.NewOffsetCommitRequest()
				r.GroupId, r.GenerationIdOrMemberEpoch = g, -1
				r.Topics = []message.OffsetCommitRequestTopic{{Name: "t", Partitions: []message.OffsetCommitRequestPartition{{PartitionIndex: 0}}}}
				off := int64(0)
				for pb.Next() {
					off++
					r.Topics[0].Partitions[0].CommittedOffset = off
					resp, err := e.c.OffsetCommit(context.Background(), req(9), r)
					if err != nil || resp.Topics[0].Partitions[0].ErrorCode != 0 {
						b.Errorf("commit: %v %+v", err, resp)
						return
					}
				}
			})
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "commits/s")
		})
	}
}

// writeConsumerGroups appends what KIP-848 groups leave in __consumer_offsets: per group
// the group epoch, the subscribed topic's metadata, and for each member its metadata,
// target and current assignment (12 partitions shared), plus 24 offset records.
func writeConsumerGroups(tb testing.TB, p *replica.Partition, prefix string, groups, membersPerGroup int) {
	tb.Helper()
	var recs []rec
	flush := func() {
		if len(recs) == 0 {
			return
		}
		bd := record.NewBuilder(internalBatchOptions())
		for i, r := range recs {
			if err := bd.Append(int32(i), 1_700_000_000_000, r.key, r.value, nil); err != nil {
				tb.Fatal(err)
			}
		}
		b, err := bd.Build()
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := p.Append(context.Background(), b, replica.AppendOptions{RequiredAcks: 1, Origin: replica.OriginCoordinator}); err != nil {
			tb.Fatal(err)
		}
		recs = recs[:0]
	}
	topic := [16]byte{7}
	for i := range groups {
		id := fmt.Sprintf("%s-%d", prefix, i)
		for round := range 2 {
			for part := range int32(12) {
				recs = append(recs, offsetCommitRecord(id, "orders", part, offsetValue{
					offset: int64(1000*round + i), leaderEpoch: 1, commitTimestampMs: 1_700_000_000_000, expireTimestampMs: -1,
				}))
			}
		}
		g := newConsumerGroup(id)
		g.epoch, g.assignmentEpoch = 5, 5
		g.subscribed["orders"] = topicMeta{id: topic, partitions: 12}
		for m := range membersPerGroup {
			cm := &consumerMember{
				id: fmt.Sprintf("Xa8f0b2c56-8f1e-4c41-%02d", m), clientID: "consumer", clientHost: "/10.0.0.1",
				subscribedTopics: []string{"orders"}, rebalanceTimeoutMs: 300000, serverAssignor: ptr("uniform"),
				epoch: 5, previousEpoch: 4, state: memberStable, assigned: assignment{}, revoking: assignment{},
			}
			for part := int32(m); part < 12; part += int32(membersPerGroup) {
				cm.assigned.add(topic, part)
			}
			recs = append(recs, memberMetadataRecord(id, cm), targetMemberRecord(id, cm.id, cm.assigned), currentAssignmentRecord(id, cm))
		}
		recs = append(recs, partitionMetadataRecord(g), consumerGroupRecord(g), targetMetadataRecord(g))
		if len(recs) >= 500 {
			flush()
		}
	}
	flush()
}

// BenchmarkLoad10kConsumerGroups: as BenchmarkLoad10kGroups, with KIP-848 groups (3
// members each: 36 records per group, 360,000 records). Target: under 2 s.
func BenchmarkLoad10kConsumerGroups(b *testing.B) {
	e := newEnv(b, func(c *Config) { c.OffsetsTopicNumPartitions = 1 })
	writeConsumerGroups(b, e.parts[0], "g", 10_000, 3)
	b.ReportMetric(float64(e.parts[0].SizeBytes())/(1<<20), "MiB")
	b.ResetTimer()
	for range b.N {
		e.c.Resign(0, -1)
		e.epoch++
		e.c.Elect(0, e.epoch, e.parts[0])
		e.waitLoaded()
	}
	b.StopTimer()
	if d := e.consumerDescribe("g-9999"); d.GroupState != "Stable" || len(d.Members) != 3 {
		b.Fatalf("loaded %+v", d)
	}
}
