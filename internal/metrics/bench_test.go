package metrics

import (
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/protocol/message"
	"github.com/sluicehq/sluice/internal/server"
)

// BenchmarkRequestDone is the observer's cost per request: a one-partition Produce
// response (the typed path) and a Heartbeat response (the reflective path).
func BenchmarkRequestDone(b *testing.B) {
	produce := message.NewProduceResponse()
	produce.Responses = []message.ProduceResponseTopicProduceResponse{{
		PartitionResponses: []message.ProduceResponsePartitionProduceResponse{{}}}}
	for _, bc := range []struct {
		name string
		ev   server.RequestEvent
	}{
		{"produce", server.RequestEvent{APIKey: message.KeyProduce, Response: produce}},
		{"heartbeat", server.RequestEvent{APIKey: message.KeyHeartbeat, Response: message.NewHeartbeatResponse()}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			m := New()
			ev := bc.ev
			ev.RequestBytes, ev.ResponseBytes, ev.Sent = 1<<20, 100, true
			ev.QueueTime, ev.HandleTime, ev.SendTime = 50*time.Microsecond, 3*time.Millisecond, 20*time.Microsecond
			b.ReportAllocs()
			for b.Loop() {
				m.RequestDone(ev)
			}
		})
	}
}
