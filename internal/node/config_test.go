package node

import (
	"context"
	"errors"
	"math"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/replica"
	"github.com/sluicehq/sluice/internal/storage"
)

func brokerConfig(t *testing.T, extra map[string]string) *config.Broker {
	t.Helper()
	p := config.SingleNodeDefaults()
	p["log.dirs"] = t.TempDir()
	p["sluice.metrics.listener"] = "127.0.0.1:0" // tests run nodes side by side
	for k, v := range extra {
		p[k] = v
	}
	cfg, _, err := config.New(config.NewProps(p, config.Origin{Name: "test"}))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// Topic configs reach the replica layer with Kafka's units and "never"/"unlimited" values.
func TestReplicaConfig(t *testing.T) {
	cfg := brokerConfig(t, nil)
	for _, tc := range []struct {
		name      string
		overrides map[string]string
		check     func(t *testing.T, rc replica.Config)
	}{
		{"defaults", nil, func(t *testing.T, rc replica.Config) {
			if rc.Log.RetentionMs != 7*24*3600*1000 || rc.Log.RetentionBytes != -1 || rc.Log.FlushMs != math.MaxInt64 ||
				rc.Log.FlushMessages != math.MaxInt64 || rc.Log.CleanupPolicy != storage.CleanupDelete ||
				rc.CompressionType != replica.CompressionProducer || rc.MinInsyncReplicas != 1 {
				t.Fatalf("%+v", rc)
			}
		}},
		{"unlimited retention", map[string]string{"retention.ms": "-1"}, func(t *testing.T, rc replica.Config) {
			if rc.Log.RetentionMs != -1 {
				t.Fatalf("retention %d", rc.Log.RetentionMs)
			}
		}},
		{"compaction", map[string]string{"cleanup.policy": "compact,delete", "min.compaction.lag.ms": "1000"}, func(t *testing.T, rc replica.Config) {
			if rc.Log.CleanupPolicy != storage.CleanupCompactDelete || rc.Log.MinCompactionLagMs != 1000 {
				t.Fatalf("%+v", rc.Log)
			}
		}},
		{"gzip default level", map[string]string{"compression.type": "gzip"}, func(t *testing.T, rc replica.Config) {
			if rc.CompressionType != replica.CompressionGzip || rc.CompressionLevel != 0 {
				t.Fatalf("%s level %d", rc.CompressionType, rc.CompressionLevel)
			}
		}},
		{"zstd level", map[string]string{"compression.type": "zstd", "compression.zstd.level": "7"}, func(t *testing.T, rc replica.Config) {
			if rc.CompressionLevel != 7 {
				t.Fatalf("level %d", rc.CompressionLevel)
			}
		}},
		{"message limits", map[string]string{"max.message.bytes": "2048", "message.timestamp.type": "LogAppendTime", "min.insync.replicas": "2"}, func(t *testing.T, rc replica.Config) {
			if rc.Log.MaxMessageBytes != 2048 || rc.TimestampType != replica.LogAppendTime || rc.MinInsyncReplicas != 2 {
				t.Fatalf("%+v", rc)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tcfg, err := cfg.TopicConfig(tc.overrides)
			if err != nil {
				t.Fatal(err)
			}
			rc := replicaConfig(tcfg)
			if err := rc.Validate(); err != nil {
				t.Fatalf("replica rejects the translated config: %v", err)
			}
			tc.check(t, rc)
		})
	}
	if ms(time.Duration(math.MaxInt64)) != math.MaxInt64 || ms(1500*time.Millisecond) != 1500 {
		t.Fatal("ms conversion")
	}
}

func TestCheckSupported(t *testing.T) {
	for _, tc := range []struct {
		name  string
		extra map[string]string
		ok    bool
	}{
		{"single node", nil, true},
		{"controller only", map[string]string{"process.roles": "controller", "listeners": "CONTROLLER://localhost:9093"}, true},
		{"broker only", map[string]string{"process.roles": "broker", "node.id": "2", "listeners": "PLAINTEXT://localhost:9092"}, false},
		{"three voters", map[string]string{"controller.quorum.voters": "1@localhost:9093,2@localhost:9094,3@localhost:9095"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := brokerConfig(t, tc.extra)
			err := checkSupported(cfg)
			if tc.ok != (err == nil) || err != nil && !errors.Is(err, ErrUnsupported) {
				t.Fatalf("checkSupported: %v", err)
			}
		})
	}
	two := brokerConfig(t, map[string]string{"log.dirs": t.TempDir() + "," + t.TempDir()})
	if err := checkSupported(two); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("two log dirs: %v", err)
	}
}

// Port-0 listeners get a concrete port in listeners, advertised listeners and this node's
// voter entry; fixed ports are kept.
func TestResolvePorts(t *testing.T) {
	cfg := brokerConfig(t, map[string]string{
		"listeners":                "PLAINTEXT://127.0.0.1:0,CONTROLLER://127.0.0.1:0",
		"controller.quorum.voters": "1@127.0.0.1:0",
	})
	got, ports, err := resolvePorts(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if ports["PLAINTEXT"] == 0 || ports["CONTROLLER"] == 0 {
		t.Fatalf("ports %v", ports)
	}
	if got.Listeners[0].Port != ports["PLAINTEXT"] || got.AdvertisedListeners[0].Port != ports["PLAINTEXT"] ||
		got.Quorum.Voters[0].Port != ports["CONTROLLER"] {
		t.Fatalf("listeners %v advertised %v voters %v", got.Listeners, got.AdvertisedListeners, got.Quorum.Voters)
	}
	if cfg.Listeners[0].Port != 0 {
		t.Fatal("the given config was modified")
	}
	fixed := brokerConfig(t, nil)
	if same, _, _ := resolvePorts(fixed); same != fixed {
		t.Fatal("a config without port 0 was copied")
	}
}

// A start that fails late (the client port is taken) stops everything it started: the
// test's goleak check covers the goroutines, and the port of the failed node is free again.
func TestStartFailureCleansUp(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	cfg := brokerConfig(t, map[string]string{
		"listeners":                "PLAINTEXT://" + taken.Addr().String() + ",CONTROLLER://127.0.0.1:0",
		"controller.quorum.voters": "1@127.0.0.1:0",
	})
	n, err := Start(context.Background(), cfg, Options{})
	if err == nil {
		n.Close(context.Background())
		t.Fatal("started on a port that is taken")
	}
	if !errors.Is(err, syscall.EADDRINUSE) {
		t.Fatalf("error %v does not say the address is in use", err)
	}
}

// A second node on the same directories is refused at once while the first runs.
func TestDirectoryLocked(t *testing.T) {
	cfg := brokerConfig(t, map[string]string{
		"listeners":                "PLAINTEXT://127.0.0.1:0,CONTROLLER://127.0.0.1:0",
		"controller.quorum.voters": "1@127.0.0.1:0",
	})
	n, err := Start(context.Background(), cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close(context.Background())
	if second, err := Start(context.Background(), cfg, Options{}); !errors.Is(err, ErrDirInUse) {
		if second != nil {
			second.Close(context.Background())
		}
		t.Fatalf("second start on the same directory: %v, want ErrDirInUse", err)
	}
}
