package controller

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/metadata"
	"github.com/sluicehq/sluice/internal/quorum"
)

// TestOneVoterLifecycle: bootstrap, broker registration, create/alter/delete topics, and a
// restart that finds the same image, first by replaying the log, then from a snapshot.
func TestOneVoterLifecycle(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(t, nil)
	n := openSingle(t, dir, cfg)
	im := n.fsm.Current()
	if im.MetadataVersion() != metadata.MetadataVersionLevel {
		t.Fatalf("metadata.version %d", im.MetadataVersion())
	}
	epoch := addBroker(t, n, 1, "")
	if b, _ := n.fsm.Current().Broker(1); b.Epoch != epoch || b.Fenced {
		t.Fatalf("broker %+v, epoch %d", b, epoch)
	}

	orders := createTopic(t, n, TopicSpec{Name: "orders", NumPartitions: 3, ReplicationFactor: -1, Configs: map[string]string{"retention.ms": "60000"}})
	if orders.NumPartitions != 3 || orders.ReplicationFactor != 1 || orders.TopicID.IsZero() {
		t.Fatalf("result %+v", orders)
	}
	def := createTopic(t, n, TopicSpec{Name: "defaults", NumPartitions: -1, ReplicationFactor: -1})
	if def.NumPartitions != cfg.NumPartitions {
		t.Fatalf("default partitions %d", def.NumPartitions)
	}
	tp, _ := n.fsm.Current().TopicByName("orders")
	for _, p := range tp.Partitions {
		if p.Leader != 1 || !slices.Equal(p.ISR, []int32{1}) || p.LeaderEpoch != 0 || p.PartitionEpoch != 0 {
			t.Fatalf("partition %+v", p)
		}
	}

	res, off, err := n.ctl.IncrementalAlterConfigs(ctx, []IncrementalAlterConfigsSpec{{
		Resource: metadata.ConfigResource{Type: metadata.ResourceTopic, Name: "orders"},
		Changes:  []ConfigChange{{Name: "cleanup.policy", Op: OpAppend, Value: str("compact")}, {Name: "retention.ms", Op: OpDelete}},
	}}, false)
	if err != nil || res[0].Err != nil {
		t.Fatal(err, res)
	}
	im, err = n.fsm.WaitForOffset(ctx, off)
	if err != nil {
		t.Fatal(err)
	}
	if got := im.TopicConfig("orders"); !reflect.DeepEqual(got, map[string]string{"cleanup.policy": "delete,compact"}) {
		t.Fatalf("configs %v", got)
	}
	pres, _, err := n.ctl.CreatePartitions(ctx, []PartitionsSpec{{Topic: "orders", Count: 5}}, false)
	if err != nil || pres[0].Err != nil {
		t.Fatal(err, pres)
	}
	dres, _, err := n.ctl.DeleteTopics(ctx, []TopicRef{{Name: "defaults"}})
	if err != nil || dres[0].Err != nil || dres[0].ID != def.TopicID {
		t.Fatal(err, dres)
	}
	pid, _, err := n.ctl.AllocateProducerIDs(ctx, 1, epoch)
	if err != nil || pid.First != 0 || pid.Count != ProducerIDBlockSize {
		t.Fatal(err, pid)
	}
	before := n.fsm.Current()
	n.close()

	// Restart: the image comes back by log replay.
	n = openSingle(t, dir, cfg)
	after, err := n.fsm.WaitForOffset(ctx, before.Offset)
	if err != nil {
		t.Fatal(err)
	}
	sameImage(t, before, after)
	if tp, _ := after.TopicByName("orders"); len(tp.Partitions) != 5 {
		t.Fatalf("orders has %d partitions", len(tp.Partitions))
	}
	if err := n.q.Snapshot(); err != nil {
		t.Fatal(err)
	}
	pid2, _, err := n.ctl.AllocateProducerIDs(ctx, 1, epoch)
	if err != nil || pid2.First != ProducerIDBlockSize {
		t.Fatal(err, pid2)
	}
	before = n.fsm.Current()
	n.close()

	// Restart again: snapshot plus the entries after it.
	n = openSingle(t, dir, cfg)
	defer n.close()
	after, err = n.fsm.WaitForOffset(ctx, before.Offset)
	if err != nil {
		t.Fatal(err)
	}
	sameImage(t, before, after)
}

// sameImage compares images by the records that recreate them.
func sameImage(t *testing.T, want, got *metadata.Image) {
	t.Helper()
	if !reflect.DeepEqual(want.Records(), got.Records()) {
		t.Fatalf("images differ:\nwant %+v\ngot  %+v", want.Records(), got.Records())
	}
}

// TestThreeVoters runs a controller on each of three voters over real TCP: only the raft
// leader's is active, the others answer NOT_CONTROLLER naming it, every node's image follows,
// and when the leader goes away another controller takes over.
func TestThreeVoters(t *testing.T) {
	const size = 3
	var streams [size]*quorum.StreamLayer
	var voters []quorum.Voter
	for i := range size {
		s, err := quorum.Listen("127.0.0.1:0", "", testLogger(t))
		if err != nil {
			t.Fatal(err)
		}
		streams[i] = s
		voters = append(voters, quorum.Voter{ID: int32(i + 1), Addr: s.Addr().String()})
	}
	var nodes [size]*node
	for i := range size {
		nodes[i] = openNode(t, nodeOpts{id: int32(i + 1), voters: voters, stream: streams[i], dir: t.TempDir(),
			cfg: testConfig(t, nil), timeout: 500 * time.Millisecond})
	}
	closed := [size]bool{}
	defer func() {
		for i, n := range nodes {
			if !closed[i] {
				n.close()
			}
		}
	}()
	// onActive runs fn on the active controller, again on the next one if leadership moves
	// under it (a loaded test machine can make a young leader step down).
	onActive := func(fn func(i int, n *node) error) int {
		t.Helper()
		for range 100 {
			i := findActive(t, nodes[:], closed[:])
			err := fn(i, nodes[i])
			if err == nil {
				return i
			}
			if !errors.Is(err, ErrNotController) {
				t.Fatal(err)
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatal("leadership never settled")
		return -1
	}

	var epoch int64
	onActive(func(_ int, n *node) error {
		var err error
		if epoch, err = n.ctl.RegisterBroker(ctx, Registration{BrokerID: 7, IncarnationID: metadata.RandomUUID()}); err != nil {
			return err
		}
		_, err = n.ctl.BrokerHeartbeat(ctx, Heartbeat{BrokerID: 7, BrokerEpoch: epoch, MetadataOffset: int64(n.fsm.Current().Offset)})
		return err
	})
	// A retried creation may find the topic made by its first attempt (committed although
	// the proposer lost leadership): both count as created.
	active := onActive(func(i int, n *node) error {
		res, _, err := n.ctl.CreateTopics(ctx, []TopicSpec{{Name: "replicated", NumPartitions: 2, ReplicationFactor: 1}}, false)
		if err == nil && res[0].Err != nil && !errors.Is(res[0].Err, ErrTopicExists) {
			t.Fatal(res[0].Err)
		}
		return err
	})
	created := nodes[active].fsm.Current()
	off := created.Offset
	want, ok := created.TopicByName("replicated")
	if !ok {
		t.Fatal("topic missing on the controller that created it")
	}
	for i, n := range nodes {
		if i == active {
			continue
		}
		if ok, _ := n.ctl.Active(); ok {
			continue // leadership moved meanwhile
		}
		_, _, err := n.ctl.CreateTopics(ctx, []TopicSpec{{Name: "x", NumPartitions: 1, ReplicationFactor: 1}}, false)
		var nce *NotControllerError
		if !errors.As(err, &nce) || !errors.Is(err, ErrNotController) {
			t.Fatalf("follower: %v", err)
		}
		if nce.LeaderID == int32(i+1) {
			t.Fatalf("follower %d names itself as the controller", i+1)
		}
	}
	for _, n := range nodes {
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		im, err := n.fsm.WaitForOffset(wctx, off)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		if tp, ok := im.TopicByName("replicated"); !ok || tp.ID != want.ID {
			t.Fatal("topic not replicated")
		}
	}

	// Close the active controller's node; another takes over, knowing the broker from the log.
	active = findActive(t, nodes[:], closed[:])
	nodes[active].close()
	closed[active] = true
	onActive(func(_ int, n *node) error {
		res, _, err := n.ctl.CreateTopics(ctx, []TopicSpec{{Name: "after-failover", NumPartitions: 1, ReplicationFactor: 1}}, false)
		if err == nil && res[0].Err != nil && !errors.Is(res[0].Err, ErrTopicExists) {
			t.Fatal(res[0].Err)
		}
		if err == nil {
			if b, ok := n.fsm.Current().Broker(7); !ok || b.Epoch != epoch {
				t.Fatal("broker registration lost in failover")
			}
		}
		return err
	})
}

func findActive(t *testing.T, nodes []*node, closed []bool) int {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		for i, n := range nodes {
			if ok, _ := n.ctl.Active(); ok && !closed[i] && n.fsm.Current().MetadataVersion() != 0 {
				return i
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("no active controller")
	return -1
}
