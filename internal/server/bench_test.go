package server

import (
	"bufio"
	"context"
	"log/slog"
	"net"
	"testing"

	"github.com/sluicehq/sluice/internal/protocol/message"
	"github.com/sluicehq/sluice/internal/protocol/wire"
)

func benchServer(b *testing.B) *testServer {
	return startServer(b, nil, func(o *Options) {
		o.Logger = slog.New(slog.DiscardHandler)
		o.ExtraHandlers = []Handler{{Versions: Versions{Min: 0, Max: 4}, Fn: Handle(
			func(_ context.Context, _ *Request, req *message.HeartbeatRequest) (message.Response, error) {
				resp := message.NewHeartbeatResponse()
				resp.ErrorCode = int16(req.GenerationId)
				return resp, nil
			})}}
	})
}

// BenchmarkRoundTrip: one request in flight at a time over loopback (latency-bound).
func BenchmarkRoundTrip(b *testing.B) {
	s := benchServer(b)
	nc, err := net.Dial("tcp", s.addr())
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	frame := requestFrame(b, 4, 1, heartbeat(1))
	br := bufio.NewReader(nc)
	buf := make([]byte, 64)
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
}

// BenchmarkPipelined: a client keeping 64 requests in flight on one connection
// (throughput-bound: read-ahead, sequential handling, batched writes).
func BenchmarkPipelined(b *testing.B) {
	s := benchServer(b)
	nc, err := net.Dial("tcp", s.addr())
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	frame := requestFrame(b, 4, 1, heartbeat(1))
	const window = 64
	done := make(chan error, 1)
	b.ReportAllocs()
	b.ResetTimer()
	go func() {
		br := bufio.NewReaderSize(nc, 64<<10)
		buf := make([]byte, 64)
		for range b.N {
			if _, err := wire.ReadFrame(br, 1<<20, buf); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	bw := bufio.NewWriterSize(nc, 64<<10)
	for i := range b.N {
		bw.Write(frame)
		if i%window == window-1 {
			bw.Flush()
		}
	}
	bw.Flush()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
}
