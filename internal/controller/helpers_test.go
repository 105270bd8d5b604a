package controller

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/metadata"
	"github.com/sluicehq/sluice/internal/quorum"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Unix(1_700_000_000, 0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func testConfig(t *testing.T, extra map[string]string) *config.Broker {
	t.Helper()
	props := map[string]string{
		"node.id":                   "1",
		"process.roles":             "broker,controller",
		"listeners":                 "PLAINTEXT://localhost:9092,CONTROLLER://localhost:9093",
		"controller.listener.names": "CONTROLLER",
		"controller.quorum.voters":  "1@localhost:9093",
		"log.dirs":                  t.TempDir(),
	}
	for k, v := range extra {
		props[k] = v
	}
	cfg, _, err := config.New(config.NewProps(props, config.Origin{Name: "test"}))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// node is one controller node: quorum, FSM and controller, the way the server assembles it.
type node struct {
	q     *quorum.Node
	fsm   *metadata.FSM
	ctl   *Controller
	clock *fakeClock
}

func (n *node) close() {
	n.ctl.Close()
	n.q.Close()
	n.fsm.Close()
}

type nodeOpts struct {
	id      int32
	voters  []quorum.Voter
	stream  *quorum.StreamLayer
	dir     string
	cfg     *config.Broker
	timeout time.Duration
}

func openNode(t *testing.T, o nodeOpts) *node {
	t.Helper()
	fsm := metadata.NewFSM(metadata.FSMOptions{ClusterID: "test-cluster", Logger: testLogger(t)})
	q, err := quorum.Open(context.Background(), quorum.Options{
		NodeID: o.id, Voters: o.voters, Dir: o.dir, Stream: o.stream, Logger: testLogger(t), FSM: fsm,
		HeartbeatTimeout: o.timeout, ElectionTimeout: o.timeout,
	})
	if err != nil {
		fsm.Close()
		t.Fatal(err)
	}
	clock := newFakeClock()
	ctl, err := New(Options{NodeID: o.id, Quorum: q, FSM: fsm, Config: o.cfg, Logger: testLogger(t), Clock: clock, TickInterval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return &node{q: q, fsm: fsm, ctl: ctl, clock: clock}
}

// openSingle opens a one-voter node in dir (reusing its raft state if any).
func openSingle(t *testing.T, dir string, cfg *config.Broker) *node {
	t.Helper()
	s, err := quorum.Listen("127.0.0.1:0", "", testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	n := openNode(t, nodeOpts{id: 1, voters: []quorum.Voter{{ID: 1, Addr: s.Addr().String()}}, stream: s, dir: dir, cfg: cfg})
	waitActive(t, n)
	return n
}

func waitActive(t *testing.T, n *node) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if ok, _ := n.ctl.Active(); ok && n.fsm.Current().MetadataVersion() != 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("controller never became active")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

var ctx = context.Background()

// addBroker registers a broker and heartbeats it until unfenced; it returns its epoch.
func addBroker(t *testing.T, n *node, id int32, rack string) int64 {
	t.Helper()
	epoch, err := n.ctl.RegisterBroker(ctx, Registration{
		BrokerID: id, IncarnationID: metadata.RandomUUID(), Rack: rack,
		Endpoints: []metadata.Endpoint{{Name: "PLAINTEXT", Host: "localhost", Port: uint16(9000 + id)}},
		Features:  []metadata.Feature{{Name: metadata.MetadataVersionFeature, Min: 1, Max: metadata.MetadataVersionLevel}},
	})
	if err != nil {
		t.Fatal(err)
	}
	res := heartbeat(t, n, id, epoch, false, false)
	if res.IsFenced || !res.IsCaughtUp {
		t.Fatalf("broker %d not unfenced: %+v", id, res)
	}
	return epoch
}

func heartbeat(t *testing.T, n *node, id int32, epoch int64, fence, shutdown bool) HeartbeatResult {
	t.Helper()
	res, err := n.ctl.BrokerHeartbeat(ctx, Heartbeat{
		BrokerID: id, BrokerEpoch: epoch, MetadataOffset: int64(n.fsm.Current().Offset),
		WantFence: fence, WantShutdown: shutdown,
	})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func createTopic(t *testing.T, n *node, s TopicSpec) TopicResult {
	t.Helper()
	res, off, err := n.ctl.CreateTopics(ctx, []TopicSpec{s}, false)
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Err != nil {
		t.Fatalf("create %s: %v", s.Name, res[0].Err)
	}
	if n.fsm.Current().Offset < off {
		t.Fatalf("image at %d after commit at %d", n.fsm.Current().Offset, off)
	}
	return res[0]
}

func wantErr(t *testing.T, got, want error) {
	t.Helper()
	if want == nil {
		if got != nil {
			t.Fatalf("unexpected error %v", got)
		}
		return
	}
	if !errors.Is(got, want) {
		t.Fatalf("error %v, want %v", got, want)
	}
}

func str(s string) *string { return &s }

func errorsIs(err, target error) bool { return errors.Is(err, target) }
