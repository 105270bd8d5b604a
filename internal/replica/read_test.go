package replica

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/sluicehq/sluice/internal/record"
	"github.com/sluicehq/sluice/internal/storage"
)

func consumerRead(offset int64) ReadOptions {
	return ReadOptions{Offset: offset, MaxBytes: 1 << 20, CurrentLeaderEpoch: -1, LastFetchedEpoch: -1, ReplicaID: ConsumerReplicaID}
}

func TestReadBounds(t *testing.T) {
	e := newEnv(t)
	// A follower (2) in the ISR keeps the high watermark behind the log end.
	st := PartitionState{LeaderEpoch: 2, PartitionEpoch: 1, Replicas: []int32{self, 2}, ISR: []int32{self, 2}}
	p := e.leaderWith("t", st, DefaultConfig())
	ts := e.clock.ms.Load()
	for i := 0; i < 3; i++ {
		mustAppend(t, p, batch(t, plain(2, ts)), acks1) // offsets 0..5
	}
	follow := func(offset int64) ReadResult {
		t.Helper()
		res, err := p.Read(ReadOptions{Offset: offset, MaxBytes: 1 << 20, CurrentLeaderEpoch: 2, LastFetchedEpoch: -1, ReplicaID: 2})
		if err != nil {
			t.Fatal(err)
		}
		res.Region.Release()
		return res
	}
	res := follow(4) // the follower has 0..3
	if res.Region.Length == 0 || res.Region.FirstOffset != 4 || p.HighWatermark() != 4 {
		t.Fatalf("follower read: %+v, high watermark %d", res, p.HighWatermark())
	}

	cases := []struct {
		name      string
		opts      ReadOptions
		want      error
		wantFirst int64 // -1: empty region
	}{
		{"from start", consumerRead(0), nil, 0},
		{"at high watermark", consumerRead(4), nil, -1},
		{"between high watermark and log end", consumerRead(5), nil, -1},
		{"at log end", consumerRead(6), nil, -1},
		{"past log end", consumerRead(7), ErrOffsetOutOfRange, -1},
		{"read_committed", func() ReadOptions { o := consumerRead(2); o.Isolation = ReadCommitted; return o }(), nil, 2},
		{"fenced epoch", func() ReadOptions { o := consumerRead(0); o.CurrentLeaderEpoch = 1; return o }(), ErrFencedLeaderEpoch, -1},
		{"unknown epoch", func() ReadOptions { o := consumerRead(0); o.CurrentLeaderEpoch = 3; return o }(), ErrUnknownLeaderEpoch, -1},
		{"follower past high watermark", ReadOptions{Offset: 4, MaxBytes: 100, CurrentLeaderEpoch: -1, LastFetchedEpoch: -1, ReplicaID: 2}, nil, 4},
		{"not a replica, with epoch", ReadOptions{Offset: 0, MaxBytes: 100, CurrentLeaderEpoch: 2, LastFetchedEpoch: -1, ReplicaID: 9}, ErrUnknownLeaderEpoch, -1},
		{"not a replica, no epoch", ReadOptions{Offset: 0, MaxBytes: 100, CurrentLeaderEpoch: -1, LastFetchedEpoch: -1, ReplicaID: 9}, ErrNotLeader, -1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := p.Read(tc.opts)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
			if err != nil {
				return
			}
			defer res.Region.Release()
			if tc.wantFirst < 0 && res.Region.Length != 0 || tc.wantFirst >= 0 && (res.Region.Length == 0 || res.Region.FirstOffset != tc.wantFirst) {
				t.Fatalf("region %+v, want first offset %d", res.Region, tc.wantFirst)
			}
			if res.HighWatermark != p.HighWatermark() || res.LogEndOffset != 6 || res.LeaderEpoch != 2 {
				t.Fatalf("offsets %+v", res)
			}
			// A consumer never sees past the high watermark.
			if tc.opts.ReplicaID < 0 && res.Region.Length > 0 {
				data, err := res.Region.Bytes()
				if err != nil {
					t.Fatal(err)
				}
				for rest := data; len(rest) > 0; {
					b, next, err := record.Parse(rest, 0)
					if err != nil {
						t.Fatal(err)
					}
					if b.LastOffset() >= res.HighWatermark {
						t.Fatalf("batch %s past the high watermark %d", b, res.HighWatermark)
					}
					rest = next
				}
			}
		})
	}
}

func TestReadMaxBytes(t *testing.T) {
	e := newEnv(t)
	p := e.leader("t", 0, DefaultConfig())
	s := plain(1, e.clock.ms.Load())
	s.valueSize = 1000
	for i := 0; i < 3; i++ {
		mustAppend(t, p, batch(t, s), acks1)
	}
	o := consumerRead(0)
	o.MaxBytes = 10
	res, err := p.Read(o)
	if err != nil || res.Region.Length != 0 {
		t.Fatalf("%+v, %v: want nothing that fits", res.Region, err)
	}
	o.MinOneMessage = true
	res, err = p.Read(o)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Region.Release()
	data, _ := res.Region.Bytes()
	if b, rest, err := record.Parse(data, 0); err != nil || len(rest) != 0 || b.BaseOffset() != 0 {
		t.Fatalf("want exactly the first batch: %v, %d bytes left", err, len(rest))
	}
}

func TestDivergingEpoch(t *testing.T) {
	e := newEnv(t)
	ts := e.clock.ms.Load()
	p := e.leader("t", 1, DefaultConfig())
	mustAppend(t, p, batch(t, plain(3, ts)), acks1) // epoch 1: 0..2
	st := PartitionState{LeaderEpoch: 4, PartitionEpoch: 2, Replicas: []int32{self, 2}, ISR: []int32{self}}
	p = e.leaderWith("t", st, DefaultConfig())
	// Before anything is written in epoch 4 the leader already knows epoch 1 ends at 3 (the
	// election recorded epoch 4 at the log end), as Kafka's leader does.
	for _, tc := range []struct {
		lastFetched int32
		offset      int64
		want        *EpochEndOffset
	}{
		{2, 5, &EpochEndOffset{LeaderEpoch: 1, EndOffset: 3}}, // a follower ahead in an epoch this leader never wrote
		{1, 3, nil},
		{4, 3, nil},
	} {
		res, err := p.Read(ReadOptions{Offset: tc.offset, MaxBytes: 100, CurrentLeaderEpoch: 4, LastFetchedEpoch: tc.lastFetched, ReplicaID: 2})
		if err != nil {
			t.Fatal(err)
		}
		res.Region.Release()
		if (res.DivergingEpoch == nil) != (tc.want == nil) || tc.want != nil && *res.DivergingEpoch != *tc.want {
			t.Fatalf("last fetched epoch %d at %d: diverging epoch %+v, want %+v", tc.lastFetched, tc.offset, res.DivergingEpoch, tc.want)
		}
	}
	mustAppend(t, p, batch(t, plain(2, ts)), acks1) // epoch 4: 3..4
	// The follower's log has epoch 2 up to offset 6: the leader never wrote epoch 2, epoch 1
	// ends at 3.
	res, err := p.Read(ReadOptions{Offset: 6, MaxBytes: 100, CurrentLeaderEpoch: 4, LastFetchedEpoch: 2, ReplicaID: 2})
	if err != nil {
		t.Fatal(err)
	}
	if res.DivergingEpoch == nil || *res.DivergingEpoch != (EpochEndOffset{LeaderEpoch: 1, EndOffset: 3}) || res.Region.Length != 0 {
		t.Fatalf("diverging epoch %+v, region %+v", res.DivergingEpoch, res.Region)
	}
	// In agreement: data, no divergence.
	res, err = p.Read(ReadOptions{Offset: 3, MaxBytes: 1000, CurrentLeaderEpoch: 4, LastFetchedEpoch: 1, ReplicaID: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer res.Region.Release()
	if res.DivergingEpoch != nil || res.Region.Length == 0 {
		t.Fatalf("diverging epoch %+v, region %+v", res.DivergingEpoch, res.Region)
	}
}

// listOffsetsLog builds, at leader epoch 3:
//
//	offsets 0..2  timestamps 1000 1001 1002      uncompressed
//	offsets 3..5  timestamps  500 3000 2000      uncompressed (max timestamp mid-batch)
//	offsets 6..8  timestamps 4000 4001 3500      gzip
func listOffsetsLog(t *testing.T, e *env, cfg Config) *Partition {
	t.Helper()
	cfg.TimestampBeforeMaxMs = 1 << 62
	p := e.leader("t", 3, cfg)
	mustAppend(t, p, batch(t, spec{ts: []int64{1000, 1001, 1002}, pid: -1}), acks1)
	mustAppend(t, p, batch(t, spec{ts: []int64{500, 3000, 2000}, pid: -1}), acks1)
	mustAppend(t, p, batch(t, spec{ts: []int64{4000, 4001, 3500}, pid: -1, codec: record.CompressionGzip}), acks1)
	return p
}

func TestListOffsets(t *testing.T) {
	e := newEnv(t)
	p := listOffsetsLog(t, e, DefaultConfig())
	cases := []struct {
		ts   int64
		want OffsetResult
	}{
		{TimestampEarliest, OffsetResult{Offset: 0, Timestamp: -1, LeaderEpoch: 3}},
		{TimestampEarliestLocal, OffsetResult{Offset: 0, Timestamp: -1, LeaderEpoch: 3}},
		{TimestampLatest, OffsetResult{Offset: 9, Timestamp: -1, LeaderEpoch: 3}},
		{TimestampMax, OffsetResult{Offset: 7, Timestamp: 4001, LeaderEpoch: 3}},
		{TimestampLatestTiered, OffsetResult{Offset: -1, Timestamp: -1, LeaderEpoch: -1}},
		{0, OffsetResult{Offset: 0, Timestamp: 1000, LeaderEpoch: 3}},
		{1001, OffsetResult{Offset: 1, Timestamp: 1001, LeaderEpoch: 3}},
		{2500, OffsetResult{Offset: 4, Timestamp: 3000, LeaderEpoch: 3}},
		{4001, OffsetResult{Offset: 7, Timestamp: 4001, LeaderEpoch: 3}}, // inside a compressed batch
		{3600, OffsetResult{Offset: 6, Timestamp: 4000, LeaderEpoch: 3}},
		{9999, OffsetResult{Offset: -1, Timestamp: -1, LeaderEpoch: -1}},
	}
	for _, tc := range cases {
		got, err := p.ListOffsets(ListOffsetsOptions{Timestamp: tc.ts, CurrentLeaderEpoch: -1, ReplicaID: ConsumerReplicaID})
		if err != nil || got != tc.want {
			t.Errorf("timestamp %d: %+v, %v; want %+v", tc.ts, got, err, tc.want)
		}
	}
	if _, err := p.DeleteRecords(context.Background(), 4); err != nil {
		t.Fatal(err)
	}
	got, err := p.ListOffsets(ListOffsetsOptions{Timestamp: TimestampEarliest, CurrentLeaderEpoch: 3, ReplicaID: ConsumerReplicaID})
	if err != nil || got.Offset != 4 {
		t.Fatalf("earliest after DeleteRecords: %+v, %v", got, err)
	}
	got, err = p.ListOffsets(ListOffsetsOptions{Timestamp: 0, CurrentLeaderEpoch: -1, ReplicaID: ConsumerReplicaID})
	if err != nil || got.Offset != 4 {
		t.Fatalf("timestamp 0 after DeleteRecords: %+v, %v", got, err)
	}
	for _, epoch := range []int32{2, 4} {
		want := map[int32]error{2: ErrFencedLeaderEpoch, 4: ErrUnknownLeaderEpoch}[epoch]
		if _, err := p.ListOffsets(ListOffsetsOptions{Timestamp: TimestampLatest, CurrentLeaderEpoch: epoch, ReplicaID: ConsumerReplicaID}); !errors.Is(err, want) {
			t.Errorf("epoch %d: %v, want %v", epoch, err, want)
		}
	}
}

// TestListOffsetsStopsAtHighWatermark: what consumers cannot read yet is not found.
func TestListOffsetsStopsAtHighWatermark(t *testing.T) {
	e := newEnv(t)
	st := PartitionState{LeaderEpoch: 1, PartitionEpoch: 1, Replicas: []int32{self, 2}, ISR: []int32{self, 2}}
	p := e.leaderWith("t", st, DefaultConfig())
	ts := e.clock.ms.Load()
	mustAppend(t, p, batch(t, plain(3, ts)), acks1)
	for _, tc := range []struct {
		opts ListOffsetsOptions
		want int64
	}{
		{ListOffsetsOptions{Timestamp: TimestampLatest, CurrentLeaderEpoch: -1, ReplicaID: ConsumerReplicaID}, 0},
		{ListOffsetsOptions{Timestamp: TimestampMax, CurrentLeaderEpoch: -1, ReplicaID: ConsumerReplicaID}, -1},
		{ListOffsetsOptions{Timestamp: ts, CurrentLeaderEpoch: -1, ReplicaID: ConsumerReplicaID}, -1},
		// A follower sees the log end.
		{ListOffsetsOptions{Timestamp: TimestampLatest, CurrentLeaderEpoch: -1, ReplicaID: 2}, 3},
		{ListOffsetsOptions{Timestamp: ts, CurrentLeaderEpoch: -1, ReplicaID: 2}, 0},
	} {
		got, err := p.ListOffsets(tc.opts)
		if err != nil || got.Offset != tc.want {
			t.Errorf("%+v: %+v, %v; want offset %d", tc.opts, got, err, tc.want)
		}
	}
}

// TestListOffsetsAfterLeaderChange: a new leader whose high watermark is below the start of
// its epoch answers OFFSET_NOT_AVAILABLE for the latest offset (and for a time it cannot
// answer below the high watermark), as Kafka does, until its ISR catches up.
func TestListOffsetsAfterLeaderChange(t *testing.T) {
	ts := int64(1_700_000_000_000)
	cases := []struct {
		name string
		// setup leaves the partition led by this broker in epoch 2 with follower 2 in the
		// ISR at offset 1 of 3.
		setup func(t *testing.T, e *env) *Partition
	}{
		{
			// Re-elected while a follower lags: the epoch starts at the log end, 3.
			name: "leader change",
			setup: func(t *testing.T, e *env) *Partition {
				st := PartitionState{LeaderEpoch: 1, PartitionEpoch: 1, Replicas: []int32{self, 2}, ISR: []int32{self, 2}}
				p := e.leaderWith("t", st, DefaultConfig())
				mustAppend(t, p, batch(t, plain(3, ts)), acks1)
				followerFetch(t, p, 1, 1)
				st.LeaderEpoch, st.PartitionEpoch = 2, 2
				return e.leaderWith("t", st, DefaultConfig())
			},
		},
		{
			// The same after a restart: the high watermark comes back from the checkpoint
			// (1), not the log end.
			name: "restart",
			setup: func(t *testing.T, e *env) *Partition {
				st := PartitionState{LeaderEpoch: 1, PartitionEpoch: 1, Replicas: []int32{self, 2}, ISR: []int32{self, 2}}
				p := e.leaderWith("t", st, DefaultConfig())
				mustAppend(t, p, batch(t, plain(3, ts)), acks1)
				followerFetch(t, p, 1, 1)
				e.reopen()
				st.LeaderEpoch, st.PartitionEpoch = 2, 2
				return e.leaderWith("t", st, DefaultConfig())
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			p := tc.setup(t, e)
			if p.HighWatermark() != 1 {
				t.Fatalf("high watermark %d, want 1", p.HighWatermark())
			}
			list := func(timestamp int64) (OffsetResult, error) {
				return p.ListOffsets(ListOffsetsOptions{Timestamp: timestamp, CurrentLeaderEpoch: 2, ReplicaID: ConsumerReplicaID})
			}
			if _, err := list(TimestampLatest); !errors.Is(err, ErrOffsetNotAvailable) {
				t.Fatalf("latest: %v, want ErrOffsetNotAvailable", err)
			}
			if _, err := list(ts + 2); !errors.Is(err, ErrOffsetNotAvailable) {
				t.Fatalf("a time past the high watermark: %v, want ErrOffsetNotAvailable", err)
			}
			if got, err := list(ts); err != nil || got.Offset != 0 {
				t.Fatalf("a time below the high watermark: %+v, %v", got, err)
			}
			if got, err := list(TimestampEarliest); err != nil || got.Offset != 0 {
				t.Fatalf("earliest: %+v, %v", got, err)
			}
			// A follower sees the log end whatever the high watermark.
			if got, err := p.ListOffsets(ListOffsetsOptions{Timestamp: TimestampLatest, CurrentLeaderEpoch: 2, ReplicaID: 2}); err != nil || got.Offset != 3 {
				t.Fatalf("follower's latest: %+v, %v", got, err)
			}
			// The follower catches up: the high watermark reaches the epoch start.
			followerFetch(t, p, 2, 3)
			if got, err := list(TimestampLatest); err != nil || got.Offset != 3 || got.LeaderEpoch != 2 {
				t.Fatalf("latest: %+v, %v", got, err)
			}
		})
	}
}

// followerFetch is a fetch by follower 2 at offset, in the given epoch.
func followerFetch(t *testing.T, p *Partition, epoch int32, offset int64) {
	t.Helper()
	res, err := p.Read(ReadOptions{Offset: offset, MaxBytes: 100, CurrentLeaderEpoch: epoch, LastFetchedEpoch: -1, ReplicaID: 2})
	if err != nil {
		t.Fatal(err)
	}
	res.Region.Release()
}

// TestHighWatermarkAfterRestart: a restarted replica starts its high watermark where the
// replication-offset-checkpoint left it (clamped to its log), not at the log start, as
// Kafka's does; the same when a replica is made again on a log Remove kept.
func TestHighWatermarkAfterRestart(t *testing.T) {
	two := PartitionState{LeaderEpoch: 1, PartitionEpoch: 1, Replicas: []int32{self, 2}, ISR: []int32{self, 2}}
	for _, policy := range []FlushPolicy{FlushGroupCommit, FlushNone} {
		t.Run(string(policy), func(t *testing.T) {
			e := newEnv(t, withPolicy(policy))
			p := e.leaderWith("t", two, DefaultConfig())
			for i := 0; i < 3; i++ {
				mustAppend(t, p, batch(t, plain(2, e.clock.ms.Load())), acks1) // 0..5
			}
			followerFetch(t, p, 1, 4)
			if p.HighWatermark() != 4 {
				t.Fatalf("high watermark %d, want 4", p.HighWatermark())
			}

			// Kept log, new replica: the log's high watermark.
			if err := e.m.Remove(context.Background(), tpOf("t"), false); err != nil {
				t.Fatal(err)
			}
			st := two
			st.LeaderEpoch, st.PartitionEpoch = 2, 2
			p = e.leaderWith("t", st, DefaultConfig())
			if p.HighWatermark() != 4 {
				t.Fatalf("re-made replica: high watermark %d, want 4", p.HighWatermark())
			}

			// Restart (Close writes the checkpoint): the same, and consumers read up to it at
			// once, before the follower fetches.
			e.reopen()
			st.LeaderEpoch, st.PartitionEpoch = 3, 3
			p = e.leaderWith("t", st, DefaultConfig())
			if p.HighWatermark() != 4 {
				t.Fatalf("after restart: high watermark %d, want 4", p.HighWatermark())
			}
			if got := records(t, readBatches(t, p, 0)); len(got) != 4 {
				t.Fatalf("a consumer reads %d records, want 4", len(got))
			}

			// A single-replica leader moves it to the log end at once.
			e.reopen()
			p = e.leader("t", 4, DefaultConfig())
			if p.HighWatermark() != 6 {
				t.Fatalf("sole replica: high watermark %d, want 6", p.HighWatermark())
			}
		})
	}
}

func TestEndOffsetForEpoch(t *testing.T) {
	e := newEnv(t)
	ts := e.clock.ms.Load()
	p := e.leader("t", 1, DefaultConfig())
	mustAppend(t, p, batch(t, plain(3, ts)), acks1) // epoch 1: 0..2
	p = e.leader("t", 3, DefaultConfig())           // epoch 3 from 3, nothing appended yet
	check := func(requested int32, want EpochEndOffset) {
		t.Helper()
		got, err := p.EndOffsetForEpoch(-1, requested)
		if err != nil || got != want {
			t.Errorf("epoch %d: %+v, %v; want %+v", requested, got, err, want)
		}
	}
	check(0, EpochEndOffset{0, 0})
	check(1, EpochEndOffset{1, 3})
	check(2, EpochEndOffset{1, 3})
	check(3, EpochEndOffset{3, 3})
	check(4, EpochEndOffset{-1, -1})
	check(-1, EpochEndOffset{-1, -1})
	mustAppend(t, p, batch(t, plain(2, ts)), acks1) // epoch 3: 3..4
	check(1, EpochEndOffset{1, 3})
	check(2, EpochEndOffset{1, 3})
	check(3, EpochEndOffset{3, 5})
	check(4, EpochEndOffset{-1, -1})
	if _, err := p.EndOffsetForEpoch(2, 1); !errors.Is(err, ErrFencedLeaderEpoch) {
		t.Fatalf("stale current epoch: %v", err)
	}
}

// TestElectionRecordsEpoch: becoming leader in a new epoch records it in the log's epoch
// cache at the log end (Kafka's makeLeader), again after a restart dropped the entry of an
// epoch without data; a follower records nothing; an election older than the log's newest
// epoch is refused and changes nothing.
func TestElectionRecordsEpoch(t *testing.T) {
	e := newEnv(t)
	ts := e.clock.ms.Load()
	p := e.leader("t", 1, DefaultConfig())
	mustAppend(t, p, batch(t, plain(3, ts)), acks1) // epoch 1: 0..2
	p = e.leader("t", 3, DefaultConfig())
	if got := fmt.Sprint(p.log.EpochEntries()); got != "[{1 0} {3 3}]" {
		t.Fatalf("after the election: %s", got)
	}
	// The same leadership with a newer partition epoch (an ISR change) records nothing.
	p = e.leaderWith("t", PartitionState{LeaderEpoch: 3, PartitionEpoch: 9, Replicas: []int32{self}, ISR: []int32{self}}, DefaultConfig())
	if got := fmt.Sprint(p.log.EpochEntries()); got != "[{1 0} {3 3}]" {
		t.Fatalf("after an ISR change: %s", got)
	}
	// A reopen drops the entry of epoch 3, which has no data (as Kafka's load does); the
	// leader elected again in epoch 3 records it again.
	e.reopen()
	p = e.leader("t", 3, DefaultConfig())
	if got := fmt.Sprint(p.log.EpochEntries()); got != "[{1 0} {3 3}]" {
		t.Fatalf("after a restart: %s", got)
	}
	mustAppend(t, p, batch(t, plain(2, ts)), acks1) // epoch 3: 3..4
	e.reopen()
	// A follower records nothing (its epochs come from the leader's batches).
	fst := PartitionState{Leader: 2, LeaderEpoch: 5, PartitionEpoch: 5, Replicas: []int32{self, 2}, ISR: []int32{self, 2}}
	if _, err := e.m.MakeFollower(context.Background(), tpOf("t"), testTopicID, fst, DefaultConfig()); err != nil {
		t.Fatal(err)
	}
	e.reopen()
	// The restarted replica has no state; an election in epoch 2 comes from an older
	// metadata delta than the log's epoch 3.
	_, err := e.m.MakeLeader(context.Background(), tpOf("t"), testTopicID, PartitionState{LeaderEpoch: 2, Replicas: []int32{self}, ISR: []int32{self}}, DefaultConfig())
	if !errors.Is(err, ErrStaleLeaderEpoch) || !errors.Is(err, storage.ErrStaleLeaderEpoch) {
		t.Fatalf("stale election: %v", err)
	}
	p, _ = e.m.Partition(tpOf("t"))
	if p.IsLeader() || fmt.Sprint(p.log.EpochEntries()) != "[{1 0} {3 3}]" {
		t.Fatalf("a refused election changed the partition: leader %v, epochs %v", p.IsLeader(), p.log.EpochEntries())
	}
	p = e.leader("t", 6, DefaultConfig())
	if got := fmt.Sprint(p.log.EpochEntries()); got != "[{1 0} {3 3} {6 5}]" {
		t.Fatalf("after a newer election: %s", got)
	}
}

func TestDeleteRecords(t *testing.T) {
	e := newEnv(t)
	cfg := DefaultConfig()
	cfg.Log.SegmentBytes = 200 // several segments, so that some are deleted whole
	p := e.leader("t", 0, cfg)
	ts := e.clock.ms.Load()
	for i := 0; i < 6; i++ {
		mustAppend(t, p, batch(t, plain(2, ts)), acks1)
	}
	if _, err := p.DeleteRecords(context.Background(), 13); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("past the high watermark: %v", err)
	}
	if _, err := p.DeleteRecords(context.Background(), -7); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("negative: %v", err)
	}
	low, err := p.DeleteRecords(context.Background(), 5)
	if err != nil || low != 5 || p.LogStartOffset() != 5 {
		t.Fatalf("low watermark %d, %v; log start %d", low, err, p.LogStartOffset())
	}
	if _, err := p.Read(consumerRead(4)); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("read below the log start: %v", err)
	}
	if bs := readBatches(t, p, 5); bs[0].LastOffset() < 5 || len(records(t, bs)) < 7 {
		t.Fatalf("data from 5 on: %v", bs)
	}
	low, err = p.DeleteRecords(context.Background(), -1) // up to the high watermark
	if err != nil || low != 12 {
		t.Fatalf("low watermark %d, %v", low, err)
	}

	cfg.Log.CleanupPolicy = storage.CleanupCompact
	q := e.leader("compacted", 0, cfg)
	if _, err := q.DeleteRecords(context.Background(), 0); !errors.Is(err, ErrPolicyViolation) {
		t.Fatalf("compacted topic: %v", err)
	}
}

func TestProducers(t *testing.T) {
	e := newEnv(t)
	cfg := DefaultConfig()
	cfg.Log.SegmentBytes = 300
	p := e.leader("t", 0, cfg)
	ts := e.clock.ms.Load()
	mustAppend(t, p, batch(t, idem(10, 1, 0, 2, ts)), acks1)
	mustAppend(t, p, batch(t, plain(3, ts)), acks1)
	mustAppend(t, p, batch(t, idem(20, 0, 0, 1, ts+5)), acks1)
	mustAppend(t, p, batch(t, idem(10, 1, 2, 3, ts+7)), acks1)
	got, err := p.Producers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := map[int64]ProducerState{
		10: {ProducerID: 10, ProducerEpoch: 1, LastSequence: 4, LastTimestamp: ts + 9, CoordinatorEpoch: -1, CurrentTxnStartOffset: -1},
		20: {ProducerID: 20, ProducerEpoch: 0, LastSequence: 0, LastTimestamp: ts + 5, CoordinatorEpoch: -1, CurrentTxnStartOffset: -1},
	}
	if len(got) != len(want) {
		t.Fatalf("producers %+v", got)
	}
	for _, g := range got {
		if g != want[g.ProducerID] {
			t.Errorf("producer %+v, want %+v", g, want[g.ProducerID])
		}
	}
}

func TestRemoveWithReadersHoldingRegions(t *testing.T) {
	e := newEnv(t)
	p := e.leader("t", 0, DefaultConfig())
	mustAppend(t, p, batch(t, plain(4, e.clock.ms.Load())), acks1)
	res, err := p.Read(consumerRead(0))
	if err != nil {
		t.Fatal(err)
	}
	w := e.m.NewWaiter()
	defer w.Close()
	if err := w.Watch(p); err != nil {
		t.Fatal(err)
	}
	if err := e.m.Remove(context.Background(), tpOf("t"), true); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(e.dir, "t-0")); !os.IsNotExist(err) {
		t.Fatalf("partition directory still there: %v", err)
	}
	// The fetch that read before the removal still sends its data.
	data, err := res.Region.Bytes()
	res.Region.Release()
	if err != nil || len(records(t, []record.Batch{record.Batch(data)})) != 4 {
		t.Fatalf("region after delete: %v", err)
	}
	// Its waiter wakes, and the partition answers that it moved.
	ctx, cancel := context.WithTimeout(context.Background(), testWait)
	defer cancel()
	if err := w.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Read(consumerRead(0)); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("read after remove: %v", err)
	}
	if _, err := p.Append(context.Background(), batch(t, plain(1, 0)), acks1); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("append after remove: %v", err)
	}
	if _, err := e.m.Partition(tpOf("t")); !errors.Is(err, ErrUnknownPartition) {
		t.Fatalf("lookup after remove: %v", err)
	}
	if err := e.m.Remove(context.Background(), tpOf("t"), true); !errors.Is(err, ErrUnknownPartition) {
		t.Fatalf("second remove: %v", err)
	}
}

func TestRemoveKeepsData(t *testing.T) {
	e := newEnv(t)
	p := e.leader("t", 0, DefaultConfig())
	mustAppend(t, p, batch(t, plain(4, e.clock.ms.Load())), acks1)
	if err := e.m.Remove(context.Background(), tpOf("t"), false); err != nil {
		t.Fatal(err)
	}
	if got := e.m.LogDirPartitions(); len(got) != 1 || got[0].SizeBytes == 0 {
		t.Fatalf("log dir after remove without delete: %+v", got)
	}
	p = e.leader("t", 1, DefaultConfig())
	if p.LogEndOffset() != 4 || p.HighWatermark() != 4 {
		t.Fatalf("log end %d, high watermark %d after re-adding", p.LogEndOffset(), p.HighWatermark())
	}
}

func TestReopenRestoresState(t *testing.T) {
	e := newEnv(t)
	p := e.leader("t", 2, DefaultConfig())
	ts := e.clock.ms.Load()
	mustAppend(t, p, batch(t, idem(5, 0, 0, 3, ts)), acks1)
	e.reopen()
	p = e.leader("t", 3, DefaultConfig())
	if p.LogEndOffset() != 3 || p.HighWatermark() != 3 {
		t.Fatalf("log end %d, high watermark %d", p.LogEndOffset(), p.HighWatermark())
	}
	// Producer state survived: the retry is still a duplicate, the next sequence follows.
	res := mustAppend(t, p, batch(t, idem(5, 0, 0, 3, ts)), acks1)
	if !res.Duplicate {
		t.Fatalf("retry after restart appended: %+v", res)
	}
	mustAppend(t, p, batch(t, idem(5, 0, 3, 1, ts)), acks1)
	if _, err := e.m.MakeLeader(context.Background(), tpOf("t"), testTopicID, PartitionState{LeaderEpoch: 1, Replicas: []int32{self}, ISR: []int32{self}}, DefaultConfig()); !errors.Is(err, ErrStaleLeaderEpoch) {
		t.Fatalf("stale leader epoch: %v", err)
	}
	other := storage.TopicID{9}
	if _, err := e.m.MakeLeader(context.Background(), tpOf("x"), other, PartitionState{LeaderEpoch: 0, Replicas: []int32{self}, ISR: []int32{self}}, DefaultConfig()); err != nil {
		t.Fatal(err)
	}
	if len(e.m.Partitions()) != 2 {
		t.Fatalf("partitions %v", e.m.Partitions())
	}
}

// TestConcurrentAppendsAndReads runs producers and a long-polling consumer together (for
// the race detector) and checks that the consumer sees every batch once, in order.
func TestConcurrentAppendsAndReads(t *testing.T) {
	e := newEnv(t)
	p := e.leader("t", 0, DefaultConfig())
	ts := e.clock.ms.Load()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	var readErr error
	go func() {
		defer close(done)
		w := e.m.NewWaiter()
		defer w.Close()
		_ = w.Watch(p)
		next := int64(0)
		for next < 400 {
			res, err := p.Read(consumerRead(next))
			if err != nil {
				readErr = err
				return
			}
			if res.Region.Length > 0 {
				data, err := res.Region.Bytes()
				res.Region.Release()
				if err != nil {
					readErr = err
					return
				}
				for rest := data; len(rest) > 0; {
					b, r, err := record.Parse(rest, 0)
					if err != nil || b.BaseOffset() != next {
						readErr = errors.Join(err, errors.New("batches out of order"))
						return
					}
					next, rest = b.NextOffset(), r
				}
				continue
			}
			if err := w.Wait(ctx); err != nil {
				readErr = err
				return
			}
		}
	}()
	errs := make(chan error, 4)
	for g := 0; g < 4; g++ {
		go func() {
			for i := 0; i < 25; i++ {
				if _, err := p.Append(ctx, batch(t, plain(4, ts)), acks1); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for g := 0; g < 4; g++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	<-done
	if readErr != nil {
		t.Fatal(readErr)
	}
}
