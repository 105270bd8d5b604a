package message_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/sluicehq/sluice/internal/protocol/message"
	"github.com/sluicehq/sluice/internal/protocol/wire"
)

// produceBody encodes a Produce v9 request with one partition carrying recordBytes of
// records.
func produceBody(tb testing.TB, recordBytes int) []byte {
	req := message.NewProduceRequest()
	req.Acks = -1
	req.TimeoutMs = 30000
	req.TopicData = []message.ProduceRequestTopicProduceData{{
		Name: "orders",
		PartitionData: []message.ProduceRequestPartitionProduceData{{
			Index:   3,
			Records: wire.RecordBytes(make([]byte, recordBytes)),
		}},
	}}
	w := wire.NewWriter(nil)
	if err := req.Encode(w, 9); err != nil {
		tb.Fatal(err)
	}
	return w.Buffer()
}

// TestProduceDecodeAllocsIndependentOfSize pins the no-copy records invariant: decoding a
// Produce request allocates the same for 1 KiB and 1 MiB of records.
func TestProduceDecodeAllocsIndependentOfSize(t *testing.T) {
	allocs := map[int]float64{}
	for _, size := range []int{1 << 10, 1 << 20} {
		body := produceBody(t, size)
		allocs[size] = testing.AllocsPerRun(50, func() {
			var m message.ProduceRequest
			r := wire.NewReader(body)
			if err := m.Decode(&r, 9); err != nil {
				t.Fatal(err)
			}
			if b, _ := m.TopicData[0].PartitionData[0].Records.Bytes(); len(b) != size {
				t.Fatal("records lost")
			}
		})
	}
	if allocs[1<<10] != allocs[1<<20] {
		t.Fatalf("allocations grow with records size: %v", allocs)
	}
}

func BenchmarkDecodeProduce(b *testing.B) {
	for _, size := range []int{1 << 10, 1 << 20} {
		body := produceBody(b, size)
		b.Run(fmt.Sprintf("records=%dKiB", size>>10), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			var m message.ProduceRequest
			var r wire.Reader
			for b.Loop() {
				r.Reset(body)
				if err := m.Decode(&r, 9); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkEncodeFetchResponse encodes a Fetch v16 response for 100 partitions (10 topics
// of 10) whose records are 64 KiB file regions of a segment, as the fetch path does. The
// writer is reused across iterations, as a connection's writer would be.
func BenchmarkEncodeFetchResponse(b *testing.B) {
	path := filepath.Join(b.TempDir(), "seg.log")
	if err := os.WriteFile(path, make([]byte, 1<<20), 0o644); err != nil {
		b.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	resp := message.NewFetchResponse()
	for t := 0; t < 10; t++ {
		topic := message.FetchResponseFetchableTopicResponse{TopicId: wire.UUID{byte(t + 1)}}
		for p := 0; p < 10; p++ {
			part := message.FetchResponsePartitionData{}
			part.Default()
			part.PartitionIndex = int32(p)
			part.HighWatermark = 1 << 30
			part.LastStableOffset = 1 << 30
			part.Records = wire.RecordChunks([]wire.Chunk{{Region: wire.FileRegion{File: f, Offset: int64(p) << 16, Length: 64 << 10}}})
			topic.Partitions = append(topic.Partitions, part)
		}
		resp.Responses = append(resp.Responses, topic)
	}
	w := wire.NewWriter(make([]byte, 0, 16<<10))
	b.ReportAllocs()
	for b.Loop() {
		w.Reset()
		if err := message.EncodeResponse(w, 1, 16, resp); err != nil {
			b.Fatal(err)
		}
		if out := w.Output(); out.Size < 100*64<<10 {
			b.Fatal("short output")
		}
	}
}

// BenchmarkDecodeMetadataResponse decodes a Metadata v12 response describing 1,000
// partitions (10 topics of 100, three replicas each).
func BenchmarkDecodeMetadataResponse(b *testing.B) {
	resp := message.NewMetadataResponse()
	for i := 0; i < 3; i++ {
		resp.Brokers = append(resp.Brokers, message.MetadataResponseBroker{NodeId: int32(i), Host: "broker.local", Port: 9092})
	}
	for t := 0; t < 10; t++ {
		topic := message.MetadataResponseTopic{Name: wire.Ptr(fmt.Sprintf("topic-%d", t)), TopicId: wire.UUID{byte(t + 1)}}
		for p := 0; p < 100; p++ {
			topic.Partitions = append(topic.Partitions, message.MetadataResponsePartition{
				PartitionIndex: int32(p), LeaderId: int32(p % 3), LeaderEpoch: 7,
				ReplicaNodes: []int32{0, 1, 2}, IsrNodes: []int32{0, 1, 2}, OfflineReplicas: []int32{},
			})
		}
		resp.Topics = append(resp.Topics, topic)
	}
	w := wire.NewWriter(nil)
	if err := resp.Encode(w, 12); err != nil {
		b.Fatal(err)
	}
	body := w.Buffer()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	var m message.MetadataResponse
	var r wire.Reader
	for b.Loop() {
		r.Reset(body)
		if err := m.Decode(&r, 12); err != nil {
			b.Fatal(err)
		}
	}
}
