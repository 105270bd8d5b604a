package server_test

import (
	"testing"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/server"
)

// queued.max.request.bytes sets the request-memory budget; unset (-1, Kafka's "unbounded",
// or 0) takes the default, and a value below socket.request.max.bytes is raised to it.
func TestQueuedMaxRequestBytes(t *testing.T) {
	tests := []struct {
		name             string
		configured, want int64
	}{
		{"set", 300 << 20, 300 << 20},
		{"kafka default -1", -1, server.DefaultQueuedMaxRequestBytes},
		{"zero", 0, server.DefaultQueuedMaxRequestBytes},
		{"below the largest request", 1 << 20, 100 << 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := &config.Broker{SocketRequestMaxBytes: 100 << 20, QueuedMaxRequestBytes: tt.configured}
			o := server.Options{Config: cfg}
			o.EnsureDefaults()
			if o.QueuedMaxRequestBytes != tt.want {
				t.Fatalf("budget %d, want %d", o.QueuedMaxRequestBytes, tt.want)
			}
		})
	}
}
