package server

import (
	"context"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/protocol/message"
)

// FuzzConnStream feeds arbitrary bytes to a server connection over a loopback socket, then
// half-closes it. Whatever the bytes, the server must not crash, must close the connection
// (it answers what it can first) and must give back every byte of the memory budget.
func FuzzConnStream(f *testing.F) {
	s := startServer(f, map[string]string{"socket.request.max.bytes": "1048576"}, func(o *Options) {
		o.Logger = slog.New(slog.DiscardHandler) // hundreds of thousands of connections
		o.FrameTimeout = 200 * time.Millisecond
		o.ExtraHandlers = []Handler{metadataHandler(), {
			Versions: Versions{Min: 0, Max: 4},
			Fn: Handle(func(_ context.Context, _ *Request, req *message.HeartbeatRequest) (message.Response, error) {
				if req.GenerationId == 666 {
					panic("fuzz: handler bug")
				}
				resp := message.NewHeartbeatResponse()
				resp.ErrorCode = int16(req.GenerationId)
				return resp, nil
			}),
		}}
	})
	av := func(v int16) []byte {
		req := message.NewApiVersionsRequest()
		req.ClientSoftwareName, req.ClientSoftwareVersion = "fuzz", "1"
		return requestFrame(f, v, int32(v), req)
	}
	for v := int16(0); v <= 4; v++ {
		f.Add(av(v))
	}
	f.Add(append(av(3), av(0)...))
	f.Add(requestFrame(f, 12, 7, message.NewMetadataRequest()))
	f.Add(requestFrame(f, 4, 8, heartbeat(666)))
	f.Add(append(requestFrame(f, 4, 9, heartbeat(1)), requestFrame(f, 4, 10, heartbeat(2))...))
	f.Add([]byte{0, 0, 0, 12, 0, 18, 0, 99, 0, 0, 0, 1, 0, 0, 0, 0})
	f.Add([]byte{0x7f, 0xff, 0xff, 0xff})
	f.Add([]byte{0, 0, 0})
	f.Add([]byte{})

	f.Fuzz(func(t *testing.T, stream []byte) {
		nc, err := net.Dial("tcp", s.addr())
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		// Write and drain concurrently, so a stream of many requests cannot deadlock on
		// full socket buffers.
		done := make(chan struct{})
		go func() {
			defer close(done)
			readAll(nc)
		}()
		_ = nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
		_, _ = nc.Write(stream)
		_ = nc.(*net.TCPConn).CloseWrite()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			t.Fatal("the server kept the connection open after the client finished")
		}
		deadline := time.Now().Add(10 * time.Second)
		for s.connCount() != 0 || s.reqBytes.available() != s.reqBytes.capacity {
			if time.Now().After(deadline) {
				t.Fatalf("connections %d, budget %d of %d", s.connCount(), s.reqBytes.available(), s.reqBytes.capacity)
			}
			time.Sleep(100 * time.Microsecond)
		}
	})
}
