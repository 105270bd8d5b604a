package controller

import (
	"slices"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/metadata"
)

// waitFor polls the image until cond holds (the fencing tick runs on the controller loop).
func waitFor(t *testing.T, n *node, what string, cond func(im *metadata.Image) bool) *metadata.Image {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		im := n.fsm.Current()
		if cond(im) {
			return im
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestSessionExpiryFencesAndMovesLeadership(t *testing.T) {
	n := openSingle(t, t.TempDir(), testConfig(t, nil))
	defer n.close()
	epochs := map[int32]int64{}
	for _, id := range []int32{1, 2, 3} {
		epochs[id] = addBroker(t, n, id, "")
	}
	createTopic(t, n, TopicSpec{Name: "led-by-3", Assignments: map[int32][]int32{0: {3, 1, 2}}, NumPartitions: -1, ReplicationFactor: -1})
	createTopic(t, n, TopicSpec{Name: "only-3", Assignments: map[int32][]int32{0: {3}}, NumPartitions: -1, ReplicationFactor: -1})
	createTopic(t, n, TopicSpec{Name: "follower-3", Assignments: map[int32][]int32{0: {1, 3}}, NumPartitions: -1, ReplicationFactor: -1})
	createTopic(t, n, TopicSpec{Name: "unclean", Assignments: map[int32][]int32{0: {3, 2}}, NumPartitions: -1, ReplicationFactor: -1,
		Configs: map[string]string{"unclean.leader.election.enable": "true"}})
	// Take 2 out of the unclean topic's ISR, so only an unclean election can pick it.
	tp, _ := n.fsm.Current().TopicByName("unclean")
	ap, _, err := n.ctl.AlterPartition(ctx, 3, epochs[3], []AlterPartitionSpec{{TopicID: tp.ID, Partition: 0, NewISR: []int32{3}}})
	if err != nil || ap[0].Err != nil {
		t.Fatal(err, ap)
	}

	// Brokers 1 and 2 keep heartbeating; 3 falls silent past broker.session.timeout.ms.
	timeout := n.ctl.opts.Config.Quorum.BrokerSessionTimeout
	n.clock.Advance(timeout / 2)
	heartbeat(t, n, 1, epochs[1], false, false)
	heartbeat(t, n, 2, epochs[2], false, false)
	n.clock.Advance(timeout/2 + time.Millisecond)
	im := waitFor(t, n, "broker 3 fenced", func(im *metadata.Image) bool { b, _ := im.Broker(3); return b.Fenced })
	for _, id := range []int32{1, 2} {
		if b, _ := im.Broker(id); b.Fenced {
			t.Fatalf("broker %d fenced although it heartbeats", id)
		}
	}
	part := func(im *metadata.Image, name string) *metadata.Partition { p, _ := im.Partition(name, 0); return p }
	if p := part(im, "led-by-3"); p.Leader != 1 || !slices.Equal(p.ISR, []int32{1, 2}) || p.LeaderEpoch != 1 {
		t.Fatalf("led-by-3 after fencing: %+v", p)
	}
	if p := part(im, "only-3"); p.Leader != metadata.NoLeader || !slices.Equal(p.ISR, []int32{3}) || p.LeaderEpoch != 1 {
		t.Fatalf("only-3 after fencing: %+v (the last ISR member stays)", p)
	}
	if p := part(im, "follower-3"); p.Leader != 1 || !slices.Equal(p.ISR, []int32{1}) || p.LeaderEpoch != 0 {
		t.Fatalf("follower-3 after fencing: %+v (leader unchanged, epoch kept)", p)
	}
	if p := part(im, "unclean"); p.Leader != 2 || !slices.Equal(p.ISR, []int32{2}) || p.LeaderRecoveryState != 1 {
		t.Fatalf("unclean after fencing: %+v", p)
	}

	// Broker 3 comes back: its heartbeat unfences it once caught up, and the leaderless
	// partition elects it with a new leader epoch.
	res, err := n.ctl.BrokerHeartbeat(ctx, Heartbeat{BrokerID: 3, BrokerEpoch: epochs[3], MetadataOffset: epochs[3] - 1})
	if err != nil || !res.IsFenced || res.IsCaughtUp {
		t.Fatalf("behind broker: %+v %v", res, err)
	}
	res = heartbeat(t, n, 3, epochs[3], false, false)
	if res.IsFenced || !res.IsCaughtUp {
		t.Fatalf("caught-up broker: %+v", res)
	}
	im = n.fsm.Current()
	if p := part(im, "only-3"); p.Leader != 3 || p.LeaderEpoch != 2 {
		t.Fatalf("only-3 after unfencing: %+v", p)
	}
	if p := part(im, "led-by-3"); p.Leader != 1 {
		t.Fatalf("unfencing moved an elected leader: %+v", p)
	}
}

func TestHeartbeatErrorsAndStates(t *testing.T) {
	n := openSingle(t, t.TempDir(), testConfig(t, nil))
	defer n.close()
	inc := metadata.RandomUUID()
	epoch, err := n.ctl.RegisterBroker(ctx, Registration{BrokerID: 1, IncarnationID: inc})
	if err != nil {
		t.Fatal(err)
	}
	_, err = n.ctl.BrokerHeartbeat(ctx, Heartbeat{BrokerID: 9, BrokerEpoch: epoch})
	wantErr(t, err, ErrBrokerIDNotRegistered) // BROKER_ID_NOT_REGISTERED
	_, err = n.ctl.BrokerHeartbeat(ctx, Heartbeat{BrokerID: 1, BrokerEpoch: epoch - 1})
	wantErr(t, err, ErrStaleBrokerEpoch) // STALE_BROKER_EPOCH
	// wantFence keeps a fenced broker fenced.
	if res := heartbeat(t, n, 1, epoch, true, false); !res.IsFenced {
		t.Fatalf("%+v", res)
	}
	heartbeat(t, n, 1, epoch, false, false)
	createTopic(t, n, TopicSpec{Name: "t", NumPartitions: 2, ReplicationFactor: 1})

	// A different incarnation while the first is alive: DUPLICATE_BROKER_REGISTRATION.
	_, err = n.ctl.RegisterBroker(ctx, Registration{BrokerID: 1, IncarnationID: metadata.RandomUUID()})
	wantErr(t, err, ErrDuplicateBrokerRegistration)
	// A broker that cannot read the cluster's metadata.version: UNSUPPORTED_VERSION.
	_, err = n.ctl.RegisterBroker(ctx, Registration{BrokerID: 2, IncarnationID: metadata.RandomUUID(),
		Features: []metadata.Feature{{Name: metadata.MetadataVersionFeature, Min: 1, Max: 7}}})
	wantErr(t, err, ErrUnsupportedVersion)
	_, err = n.ctl.RegisterBroker(ctx, Registration{BrokerID: -1})
	wantErr(t, err, ErrInvalidRequest)

	// Controlled shutdown of the only broker: leadership leaves it (no other replica, so no
	// leader), and it may stop once it has seen that change.
	res, err := n.ctl.BrokerHeartbeat(ctx, Heartbeat{BrokerID: 1, BrokerEpoch: epoch, MetadataOffset: 0, WantShutdown: true})
	if err != nil || res.ShouldShutdown || res.Offset == 0 {
		t.Fatalf("first shutdown heartbeat: %+v %v", res, err)
	}
	im := n.fsm.Current()
	if b, _ := im.Broker(1); !b.InControlledShutdown {
		t.Fatal("not in controlled shutdown")
	}
	if p, _ := im.Partition("t", 0); p.Leader != metadata.NoLeader {
		t.Fatalf("still leads %+v", p)
	}
	if res := heartbeat(t, n, 1, epoch, false, true); !res.ShouldShutdown {
		t.Fatalf("second shutdown heartbeat: %+v", res)
	}

	// The restarted broker re-registers (same id, new incarnation is fine once the old one
	// is shutting down and its session lapses) and leads again when unfenced.
	n.clock.Advance(n.ctl.opts.Config.Quorum.BrokerSessionTimeout + time.Second)
	waitFor(t, n, "broker fenced", func(im *metadata.Image) bool { b, _ := im.Broker(1); return b.Fenced })
	epoch2 := addBroker(t, n, 1, "")
	if epoch2 <= epoch {
		t.Fatalf("epoch went from %d to %d", epoch, epoch2)
	}
	if p, _ := n.fsm.Current().Partition("t", 1); p.Leader != 1 {
		t.Fatalf("not re-elected: %+v", p)
	}
}

func TestAllocateProducerIDs(t *testing.T) {
	n := openSingle(t, t.TempDir(), testConfig(t, nil))
	defer n.close()
	epoch := addBroker(t, n, 1, "")
	var last int64 = -1
	for range 3 {
		b, off, err := n.ctl.AllocateProducerIDs(ctx, 1, epoch)
		if err != nil || off == 0 || b.First != last+1 || b.Count != ProducerIDBlockSize {
			t.Fatalf("block %+v at %d: %v", b, off, err)
		}
		last = b.First + int64(b.Count) - 1
	}
	_, _, err := n.ctl.AllocateProducerIDs(ctx, 1, epoch+1)
	wantErr(t, err, ErrStaleBrokerEpoch) // STALE_BROKER_EPOCH
	_, _, err = n.ctl.AllocateProducerIDs(ctx, 5, epoch)
	wantErr(t, err, ErrStaleBrokerEpoch)
}

func TestAlterPartition(t *testing.T) {
	n, epochs := threeBrokers(t, nil)
	defer n.close()
	createTopic(t, n, TopicSpec{Name: "isr", Assignments: map[int32][]int32{0: {1, 2, 3}}, NumPartitions: -1, ReplicationFactor: -1})
	tp, _ := n.fsm.Current().TopicByName("isr")
	spec := func(mod func(*AlterPartitionSpec)) AlterPartitionSpec {
		p := tp.Partitions[0]
		s := AlterPartitionSpec{TopicID: tp.ID, Partition: 0, LeaderEpoch: p.LeaderEpoch, PartitionEpoch: p.PartitionEpoch, NewISR: []int32{1, 2}}
		if mod != nil {
			mod(&s)
		}
		return s
	}
	tests := []struct {
		name   string
		broker int32
		spec   AlterPartitionSpec
		want   error
	}{
		{"unknown topic id", 1, spec(func(s *AlterPartitionSpec) { s.TopicID = metadata.RandomUUID() }), ErrUnknownTopicID},                        // UNKNOWN_TOPIC_ID
		{"unknown partition", 1, spec(func(s *AlterPartitionSpec) { s.Partition = 4 }), ErrUnknownTopic},                                           // UNKNOWN_TOPIC_OR_PARTITION
		{"not the leader", 2, spec(nil), ErrInvalidRequest},                                                                                        // INVALID_REQUEST
		{"old leader epoch", 1, spec(func(s *AlterPartitionSpec) { s.LeaderEpoch = -1 }), ErrFencedLeaderEpoch},                                    // FENCED_LEADER_EPOCH
		{"new leader epoch", 1, spec(func(s *AlterPartitionSpec) { s.LeaderEpoch = 5 }), ErrNotLeaderOrFollower},                                   // NOT_LEADER_OR_FOLLOWER
		{"stale partition epoch", 1, spec(func(s *AlterPartitionSpec) { s.PartitionEpoch = 7 }), ErrInvalidUpdateVersion},                          // INVALID_UPDATE_VERSION
		{"leader not in isr", 1, spec(func(s *AlterPartitionSpec) { s.NewISR = []int32{2, 3} }), ErrInvalidRequest},                                // INVALID_REQUEST
		{"not a replica", 1, spec(func(s *AlterPartitionSpec) { s.NewISR = []int32{1, 4} }), ErrIneligibleReplica},                                 // INELIGIBLE_REPLICA
		{"duplicate member", 1, spec(func(s *AlterPartitionSpec) { s.NewISR = []int32{1, 1} }), ErrInvalidRequest},                                 // INVALID_REQUEST
		{"recovering from recovered", 1, spec(func(s *AlterPartitionSpec) { s.NewISR, s.LeaderRecoveryState = []int32{1}, 1 }), ErrInvalidRequest}, // INVALID_REQUEST
		{"shrink ok", 1, spec(nil), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, _, err := n.ctl.AlterPartition(ctx, tc.broker, epochs[tc.broker], []AlterPartitionSpec{tc.spec})
			if err != nil {
				t.Fatal(err)
			}
			wantErr(t, res[0].Err, tc.want)
			if tc.want == nil && (!slices.Equal(res[0].ISR, []int32{1, 2}) || res[0].PartitionEpoch != tc.spec.PartitionEpoch+1 || res[0].Leader != 1) {
				t.Fatalf("result %+v", res[0])
			}
		})
	}
	_, _, err := n.ctl.AlterPartition(ctx, 1, epochs[1]+100, nil)
	wantErr(t, err, ErrStaleBrokerEpoch) // STALE_BROKER_EPOCH

	// A fenced broker cannot rejoin the ISR.
	tp, _ = n.fsm.Current().TopicByName("isr")
	heartbeat(t, n, 3, epochs[3], true, false)
	res, _, err := n.ctl.AlterPartition(ctx, 1, epochs[1], []AlterPartitionSpec{spec(func(s *AlterPartitionSpec) { s.NewISR = []int32{1, 2, 3} })})
	if err != nil {
		t.Fatal(err)
	}
	wantErr(t, res[0].Err, ErrIneligibleReplica) // INELIGIBLE_REPLICA
}
