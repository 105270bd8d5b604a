package server

import (
	"bufio"
	"fmt"
	"net"
	"testing"

	"github.com/sluicehq/sluice/internal/protocol/message"
	"github.com/sluicehq/sluice/internal/protocol/wire"
	"github.com/sluicehq/sluice/internal/replica"
)

// Produce and fetch through a real socket, one request in flight. The client reuses one
// encoded request and one read buffer, so allocs/op is (nearly) the broker's per request.
//
//	go test ./internal/server -run '^$' -bench 'Produce|FetchBench' -benchtime 3000x

func benchProduce(b *testing.B, policy replica.FlushPolicy, partitions, records, valueBytes int) {
	e := newDataEnv(b, dataEnvOptions{flush: policy})
	e.createTopic("t", topicSpec{partitions: partitions})
	req := message.NewProduceRequest()
	req.Acks, req.TimeoutMs = 1, 30_000
	td := message.ProduceRequestTopicProduceData{Name: "t"}
	size := 0
	for p := range partitions {
		batch := makeBatch(b, batchSpec{n: records, valueBytes: valueBytes, keyPrefix: "k"})
		size += len(batch)
		td.PartitionData = append(td.PartitionData, message.ProduceRequestPartitionProduceData{Index: int32(p), Records: wire.RecordBytes(batch)})
	}
	req.TopicData = []message.ProduceRequestTopicProduceData{td}
	frame := requestFrame(b, 9, 1, req)
	nc, err := net.Dial("tcp", e.srv.addr())
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	br := bufio.NewReader(nc)
	buf := make([]byte, 64<<10)
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := nc.Write(frame); err != nil {
			b.Fatal(err)
		}
		if _, err := wire.ReadFrame(br, 1<<20, buf); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if end := e.partition("t", 0).LogEndOffset(); end != int64(b.N*records) {
		b.Fatalf("log end %d after %d produces of %d records", end, b.N, records)
	}
}

func BenchmarkProduce(b *testing.B) {
	for _, policy := range []replica.FlushPolicy{replica.FlushNone, replica.FlushGroupCommit} {
		for _, parts := range []int{1, 8} {
			b.Run(fmt.Sprintf("%s/partitions=%d/16x1KiB", policy, parts), func(b *testing.B) {
				benchProduce(b, policy, parts, 16, 1024)
			})
		}
	}
}

// BenchmarkFetchBench: each fetch returns max_bytes of one partition from the page cache, sent
// with sendfile; the client discards it.
func BenchmarkFetchBench(b *testing.B) {
	for _, maxBytes := range []int32{64 << 10, 1 << 20} {
		b.Run(fmt.Sprintf("max_bytes=%d", maxBytes), func(b *testing.B) {
			e := newDataEnv(b, dataEnvOptions{flush: replica.FlushNone})
			e.createTopic("t", topicSpec{})
			c := e.dial()
			batch := makeBatch(b, batchSpec{n: 16, valueBytes: 1024})
			for range 200 { // ~3.3 MB
				e.produceOne(c, 9, "t", 0, 1, batch)
			}
			req := fetchReq(12, "t", wire.UUID{}, 0, 0)
			req.MaxBytes = maxBytes
			req.Topics[0].Partitions[0].PartitionMaxBytes = maxBytes
			frame := requestFrame(b, 12, 1, req)
			nc, err := net.Dial("tcp", e.srv.addr())
			if err != nil {
				b.Fatal(err)
			}
			defer nc.Close()
			br := bufio.NewReaderSize(nc, 256<<10)
			buf := make([]byte, 2<<20)
			var got int
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if _, err := nc.Write(frame); err != nil {
					b.Fatal(err)
				}
				f, err := wire.ReadFrame(br, 4<<20, buf)
				if err != nil {
					b.Fatal(err)
				}
				got = len(f)
			}
			b.SetBytes(int64(got))
			if got < int(maxBytes)/2 {
				b.Fatalf("fetch returned %d bytes", got)
			}
		})
	}
}
