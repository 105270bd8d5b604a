package server

import (
	"bytes"
	"context"
	"encoding/binary"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/controller"
	"github.com/sluicehq/sluice/internal/metadata"
	"github.com/sluicehq/sluice/internal/protocol/wire"
	"github.com/sluicehq/sluice/internal/quorum"
)

// adminCluster is a one-node cluster assembled from real components the way the node
// does it: the metadata FSM, a one-voter raft quorum, the controller and the server, with
// broker 1 registered (and unfenced) at the server's PLAINTEXT address. It has no
// replicas: the admin handlers only need metadata and the controller.
type adminCluster struct {
	*testServer
	t     testing.TB
	cfg   *config.Broker
	fsm   *metadata.FSM
	ctl   *controller.Controller
	level *slog.LevelVar
	cl    *kgo.Client
	adm   *kadm.Client
}

// frozenClock never advances, so the controller never fences the test's brokers for
// missing heartbeats (the harness sends none after registration).
type adminFrozenClock struct{}

func (adminFrozenClock) Now() time.Time { return time.Unix(1_700_000_000, 0) }

func adminQuietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// startAdminCluster starts the cluster; overrides are broker config properties.
func startAdminCluster(t testing.TB, overrides map[string]string) *adminCluster {
	t.Helper()
	cfg := testConfig(t, overrides)
	fsm := metadata.NewFSM(metadata.FSMOptions{ClusterID: "admin-test-cluster", Logger: adminQuietLogger()})
	stream, err := quorum.Listen("127.0.0.1:0", "", adminQuietLogger())
	if err != nil {
		fsm.Close()
		t.Fatal(err)
	}
	q, err := quorum.Open(context.Background(), quorum.Options{
		NodeID: cfg.NodeID, Voters: []quorum.Voter{{ID: cfg.NodeID, Addr: stream.Addr().String()}},
		Dir: t.TempDir(), Stream: stream, Logger: adminQuietLogger(), FSM: fsm,
	})
	if err != nil {
		fsm.Close()
		t.Fatal(err)
	}
	ctl, err := controller.New(controller.Options{
		NodeID: cfg.NodeID, Quorum: q, FSM: fsm, Config: cfg, Logger: adminQuietLogger(), Clock: adminFrozenClock{},
	})
	if err != nil {
		q.Close()
		fsm.Close()
		t.Fatal(err)
	}
	// Registered before the server's cleanup, so it runs after the server has closed.
	t.Cleanup(func() {
		ctl.Close()
		q.Close()
		fsm.Close()
	})
	waitUntil(t, "an active controller", func() bool {
		active, _ := ctl.Active()
		return active && fsm.Current().MetadataVersion() != 0
	})

	level := new(slog.LevelVar)
	srv := startServer(t, overrides, func(o *Options) {
		o.Config = cfg
		o.Deps.Metadata = fsm
		o.Deps.Controller = ctl
		o.Deps.LogLevel = level
	})
	c := &adminCluster{testServer: srv, t: t, cfg: cfg, fsm: fsm, ctl: ctl, level: level}
	c.addBroker(cfg.NodeID, "PLAINTEXT", srv.Addr("PLAINTEXT").(*net.TCPAddr).Port, "rack-a")

	cl, err := kgo.NewClient(kgo.SeedBrokers(srv.addr()), kgo.MetadataMinAge(10*time.Millisecond),
		kgo.RetryTimeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close) // runs before the server's cleanup
	c.cl, c.adm = cl, kadm.NewClient(cl)
	return c
}

// addBroker registers a broker with one endpoint and unfences it.
func (c *adminCluster) addBroker(id int32, listener string, port int, rack string) {
	c.t.Helper()
	ctx := context.Background()
	epoch, err := c.ctl.RegisterBroker(ctx, controller.Registration{
		BrokerID: id, IncarnationID: metadata.RandomUUID(), Rack: rack,
		Endpoints: []metadata.Endpoint{{Name: listener, Host: "127.0.0.1", Port: uint16(port)}},
		Features:  []metadata.Feature{{Name: metadata.MetadataVersionFeature, Min: 1, Max: metadata.MetadataVersionLevel}},
	})
	if err != nil {
		c.t.Fatal(err)
	}
	res, err := c.ctl.BrokerHeartbeat(ctx, controller.Heartbeat{BrokerID: id, BrokerEpoch: epoch, MetadataOffset: int64(c.fsm.Current().Offset)})
	if err != nil || res.IsFenced {
		c.t.Fatalf("broker %d heartbeat: %+v %v", id, res, err)
	}
	if _, err := c.fsm.WaitForOffset(ctx, res.Offset); err != nil {
		c.t.Fatal(err)
	}
}

func (c *adminCluster) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	c.t.Cleanup(cancel)
	return ctx
}

// createTopic creates a topic through kadm and fails the test on error.
func (c *adminCluster) createTopic(name string, partitions int32, rf int16, configs map[string]*string) kadm.CreateTopicResponse {
	c.t.Helper()
	resp, err := c.adm.CreateTopic(c.ctx(), partitions, rf, configs, name)
	if err != nil || resp.Err != nil {
		c.t.Fatalf("create %s: %v %v (%s)", name, err, resp.Err, resp.ErrMessage)
	}
	return resp
}

// kmsgRequest sends req at version on a fresh connection, encoded by kmsg, and decodes the
// answer with kmsg: franz-go is the oracle for what each version carries on the wire.
func (c *adminCluster) kmsgRequest(version int16, req kmsg.Request) kmsg.Response {
	c.t.Helper()
	return adminKmsgRoundTrip(c.t, c.addr(), version, req)
}

func adminKmsgRoundTrip(t testing.TB, addr string, version int16, req kmsg.Request) kmsg.Response {
	t.Helper()
	req.SetVersion(version)
	body := []byte{}
	body = binary.BigEndian.AppendUint16(body, uint16(req.Key()))
	body = binary.BigEndian.AppendUint16(body, uint16(version))
	body = binary.BigEndian.AppendUint32(body, 7)
	body = binary.BigEndian.AppendUint16(body, uint16(len("kmsg")))
	body = append(body, "kmsg"...)
	if req.IsFlexible() {
		body = append(body, 0) // no header tags
	}
	body = req.AppendTo(body)
	frame := binary.BigEndian.AppendUint32(nil, uint32(len(body)))
	frame = append(frame, body...)

	conn := dial(t, addr)
	conn.write(frame)
	f, err := conn.readFrame()
	if err != nil {
		t.Fatalf("%s v%d: read response: %v", kmsg.NameForKey(req.Key()), version, err)
	}
	if corr := binary.BigEndian.Uint32(f); corr != 7 {
		t.Fatalf("correlation id %d", corr)
	}
	f = f[4:]
	resp := req.ResponseKind()
	resp.SetVersion(version)
	if resp.IsFlexible() && req.Key() != int16(kmsg.ApiVersions) {
		r := wire.NewReader(f)
		for n := r.TagCount(); n > 0; n-- {
			r.TaggedField()
		}
		if r.Err() != nil {
			t.Fatalf("response header tags: %v", r.Err())
		}
		f = f[len(f)-r.Remaining():]
	}
	if err := resp.ReadFrom(bytes.Clone(f)); err != nil {
		t.Fatalf("kmsg cannot read the %s v%d response: %v", kmsg.NameForKey(req.Key()), version, err)
	}
	return resp
}
