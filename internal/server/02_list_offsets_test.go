package server

import (
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/protocol/kerr"
	"github.com/sluicehq/sluice/internal/protocol/message"
	"github.com/sluicehq/sluice/internal/replica"
)

func listOffsetsReq(topic string, isolation int8, parts ...message.ListOffsetsRequestListOffsetsPartition) *message.ListOffsetsRequest {
	req := message.NewListOffsetsRequest()
	req.ReplicaId, req.IsolationLevel = -1, isolation
	req.Topics = []message.ListOffsetsRequestListOffsetsTopic{{Name: topic, Partitions: parts}}
	return req
}

func loPart(p int32, ts int64) message.ListOffsetsRequestListOffsetsPartition {
	lp := message.ListOffsetsRequestListOffsetsPartition{}
	lp.Default()
	lp.PartitionIndex, lp.Timestamp = p, ts
	return lp
}

func TestListOffsets(t *testing.T) {
	e := newDataEnv(t, dataEnvOptions{})
	e.createTopic("t", topicSpec{epoch: 2})
	c := e.dial()
	// Three batches at times 1000, 3000 (the maximum) and 2000.
	for i, ts := range []int64{1000, 3000, 2000} {
		if p := e.produceOne(c, 9, "t", 0, 1, makeBatch(t, batchSpec{n: 2, timestampMs: nowish(ts)})); p.ErrorCode != 0 || p.BaseOffset != int64(2*i) {
			t.Fatal(p)
		}
	}
	tests := []struct {
		name       string
		version    int16
		ts         int64
		wantCode   int16
		wantOffset int64
		wantTS     int64
		wantEpoch  int32
	}{
		{"latest", 10, replica.TimestampLatest, 0, 6, -1, 2},
		{"earliest", 10, replica.TimestampEarliest, 0, 0, -1, 2},
		{"earliest-local", 10, replica.TimestampEarliestLocal, 0, 0, -1, 2},
		{"latest-tiered", 10, replica.TimestampLatestTiered, 0, -1, -1, -1},
		{"max timestamp", 10, replica.TimestampMax, 0, 2, nowish(3000), 2},
		{"by time: first batch", 10, nowish(500), 0, 0, nowish(1000), 2},
		{"by time: between", 10, nowish(1500), 0, 2, nowish(3000), 2},
		{"by time: after all", 10, nowish(4000), 0, -1, -1, -1},
		{"latest v1", 1, replica.TimestampLatest, 0, 6, -1, -1},
		{"max timestamp before v7", 6, replica.TimestampMax, kerr.UnsupportedVersion.Code, -1, -1, -1},
		{"earliest-local before v8", 7, replica.TimestampEarliestLocal, kerr.UnsupportedVersion.Code, -1, -1, -1},
		{"latest-tiered before v9", 8, replica.TimestampLatestTiered, kerr.UnsupportedVersion.Code, -1, -1, -1},
		{"unknown special timestamp", 10, -7, kerr.UnsupportedVersion.Code, -1, -1, -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := e.call(c, tc.version, listOffsetsReq("t", 0, loPart(0, tc.ts))).(*message.ListOffsetsResponse)
			p := resp.Topics[0].Partitions[0]
			if p.ErrorCode != tc.wantCode || p.Offset != tc.wantOffset || p.Timestamp != tc.wantTS || p.LeaderEpoch != tc.wantEpoch {
				t.Fatalf("got code %d offset %d ts %d epoch %d, want %d %d %d %d", p.ErrorCode, p.Offset, p.Timestamp, p.LeaderEpoch,
					tc.wantCode, tc.wantOffset, tc.wantTS, tc.wantEpoch)
			}
		})
	}

	// v0: old-style offsets.
	resp := e.call(c, 0, listOffsetsReq("t", 0, loPart(0, replica.TimestampLatest))).(*message.ListOffsetsResponse)
	if p := resp.Topics[0].Partitions[0]; p.ErrorCode != 0 || len(p.OldStyleOffsets) != 1 || p.OldStyleOffsets[0] != 6 {
		t.Fatalf("v0 latest: %+v", p)
	}
	resp = e.call(c, 0, listOffsetsReq("t", 0, loPart(0, replica.TimestampMax))).(*message.ListOffsetsResponse)
	if p := resp.Topics[0].Partitions[0]; p.ErrorCode != kerr.UnsupportedVersion.Code {
		t.Fatalf("v0 max timestamp: %+v", p)
	}

	// A partition named twice, unknown partitions, epochs.
	fenced := loPart(0, replica.TimestampLatest)
	fenced.CurrentLeaderEpoch = 1
	req := listOffsetsReq("t", 1, loPart(1, -1), loPart(1, -2), fenced)
	req.Topics = append(req.Topics, listOffsetsReq("nope", 0, loPart(0, -1)).Topics...)
	resp = e.call(c, 10, req).(*message.ListOffsetsResponse)
	got := []int16{resp.Topics[0].Partitions[0].ErrorCode, resp.Topics[0].Partitions[1].ErrorCode, resp.Topics[0].Partitions[2].ErrorCode, resp.Topics[1].Partitions[0].ErrorCode}
	want := []int16{kerr.InvalidRequest.Code, kerr.InvalidRequest.Code, kerr.FencedLeaderEpoch.Code, kerr.UnknownTopicOrPartition.Code}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("errors %v, want %v", got, want)
		}
	}
}

// nowish turns a small test time into a recent one, so that the broker's timestamp window
// (message.timestamp.before.max.ms) accepts it.
func nowish(ms int64) int64 { return testBaseTimeMs + ms }

var testBaseTimeMs = time.Now().UnixMilli() - 1_000_000
