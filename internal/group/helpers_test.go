package group

import (
	"context"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sluicehq/sluice/internal/protocol/message"
	"github.com/sluicehq/sluice/internal/replica"
	"github.com/sluicehq/sluice/internal/storage"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// testWait bounds waits that must end on their own: a safety net, not an assertion.
const testWait = 30 * time.Second

func testLogger() *slog.Logger {
	if os.Getenv("GROUP_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// env is a group coordinator over real storage and replicas: the __consumer_offsets
// partitions are made leaders here as the node's subscriber does, and the coordinator is
// elected for each.
type env struct {
	t     testing.TB
	dir   string
	cfg   Config
	sm    *storage.Manager
	rm    *replica.Manager
	c     *Coordinator
	parts []*replica.Partition
	epoch int32
	flush replica.FlushPolicy // "" is the default (group commit)
}

// testConfig is Kafka's defaults with small partition counts and timeouts that tests can
// wait out.
func testConfig() Config {
	c := DefaultConfig()
	c.OffsetsTopicNumPartitions = 3
	c.OffsetsTopicReplicationFactor = 1
	c.InitialRebalanceDelay = 0
	c.MinSessionTimeout = 10 * time.Millisecond
	return c
}

func newEnv(t testing.TB, mod func(*Config)) *env {
	t.Helper()
	return newEnvFlush(t, "", mod)
}

func newEnvFlush(t testing.TB, flush replica.FlushPolicy, mod func(*Config)) *env {
	t.Helper()
	e := &env{t: t, dir: t.TempDir(), cfg: testConfig(), flush: flush}
	if mod != nil {
		mod(&e.cfg)
	}
	e.open()
	t.Cleanup(e.close)
	return e
}

var offsetsTopicID = storage.TopicID{1, 2, 3}

func (e *env) open() {
	e.t.Helper()
	ctx := context.Background()
	sm, err := storage.OpenManager(ctx, storage.ManagerOptions{
		Dir: e.dir, FS: storage.NewOSFS(), Logger: testLogger(), CleanerThreads: -1,
	})
	if err != nil {
		e.t.Fatal(err)
	}
	e.sm = sm
	rm, err := replica.NewManager(replica.ManagerOptions{Storage: sm, BrokerID: 1, Logger: testLogger(), FlushPolicy: e.flush})
	if err != nil {
		e.t.Fatal(err)
	}
	e.rm = rm
	c, err := New(Options{Config: e.cfg, Replicas: rm, Logger: testLogger()})
	if err != nil {
		e.t.Fatal(err)
	}
	e.c = c
	rc := replica.DefaultConfig()
	rc.Log.CleanupPolicy = storage.CleanupCompact
	e.epoch++
	e.parts = nil
	for i := range e.cfg.OffsetsTopicNumPartitions {
		tp := storage.TopicPartition{Topic: OffsetsTopic, Partition: i}
		p, err := rm.MakeLeader(ctx, tp, offsetsTopicID, replica.PartitionState{
			Leader: 1, LeaderEpoch: e.epoch, PartitionEpoch: e.epoch, Replicas: []int32{1}, ISR: []int32{1},
		}, rc)
		if err != nil {
			e.t.Fatal(err)
		}
		e.parts = append(e.parts, p)
		c.Elect(i, e.epoch, p)
	}
	e.waitLoaded()
}

func (e *env) waitLoaded() {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testWait)
	defer cancel()
	if err := e.c.WaitLoaded(ctx); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) close() {
	if e.c != nil {
		e.c.Close()
		e.c = nil
	}
	if e.rm != nil {
		_ = e.rm.Close(context.Background())
		e.rm = nil
	}
	if e.sm != nil {
		_ = e.sm.Close(context.Background())
		e.sm = nil
	}
}

// restart stops everything and opens it again on the same directory: the coordinator
// loads its state from the log.
func (e *env) restart() {
	e.t.Helper()
	e.close()
	e.open()
}

func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), testWait)
	t.Cleanup(cancel)
	return c
}

func req(version int16) Request {
	return Request{Version: version, ClientID: "client", ClientHost: "/127.0.0.1"}
}

func protos(names ...string) []message.JoinGroupRequestProtocol {
	var out []message.JoinGroupRequestProtocol
	for _, n := range names {
		out = append(out, message.JoinGroupRequestProtocol{Name: n, Metadata: []byte("meta-" + n)})
	}
	return out
}

// joinReq is a JoinGroup request of a consumer with session 10 s, rebalance 10 s.
func joinReq(group, member string, instance *string, protocols ...message.JoinGroupRequestProtocol) *message.JoinGroupRequest {
	r := message.NewJoinGroupRequest()
	r.GroupId = group
	r.MemberId = member
	r.GroupInstanceId = instance
	r.SessionTimeoutMs = 10_000
	r.RebalanceTimeoutMs = 10_000
	r.ProtocolType = "consumer"
	r.Protocols = protocols
	if len(protocols) == 0 {
		r.Protocols = protos("range")
	}
	return r
}

// join sends a JoinGroup and waits for its answer.
func (e *env) join(version int16, r *message.JoinGroupRequest) *message.JoinGroupResponse {
	e.t.Helper()
	resp, err := e.c.JoinGroup(ctx(e.t), req(version), r)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp
}

// joinAsync sends a JoinGroup whose answer will come later.
func (e *env) joinAsync(version int16, r *message.JoinGroupRequest) <-chan *message.JoinGroupResponse {
	ch := make(chan *message.JoinGroupResponse, 1)
	go func() {
		resp, err := e.c.JoinGroup(context.Background(), req(version), r)
		if err != nil {
			resp = nil
		}
		ch <- resp
	}()
	return ch
}

func recv[T any](t testing.TB, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(testWait):
		t.Fatal("no answer")
	}
	var zero T
	return zero
}

// newMember joins a group as a new dynamic member (v9: MEMBER_ID_REQUIRED first) and
// returns its id; the join itself is left parked and returned.
func (e *env) newMember(group string, protocols ...message.JoinGroupRequestProtocol) (string, <-chan *message.JoinGroupResponse) {
	e.t.Helper()
	first := e.join(9, joinReq(group, "", nil, protocols...))
	if first.ErrorCode != 79 { // MEMBER_ID_REQUIRED
		e.t.Fatalf("first join: error %d, want MEMBER_ID_REQUIRED", first.ErrorCode)
	}
	return first.MemberId, e.joinAsync(9, joinReq(group, first.MemberId, nil, protocols...))
}

func syncReq(group, member string, generation int32, assignments map[string]string) *message.SyncGroupRequest {
	r := message.NewSyncGroupRequest()
	r.GroupId, r.MemberId, r.GenerationId = group, member, generation
	r.ProtocolType, r.ProtocolName = ptr("consumer"), ptr("range")
	for m, a := range assignments {
		r.Assignments = append(r.Assignments, message.SyncGroupRequestAssignment{MemberId: m, Assignment: []byte(a)})
	}
	return r
}

func (e *env) sync(version int16, r *message.SyncGroupRequest) *message.SyncGroupResponse {
	e.t.Helper()
	resp, err := e.c.SyncGroup(ctx(e.t), req(version), r)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp
}

func (e *env) syncAsync(version int16, r *message.SyncGroupRequest) <-chan *message.SyncGroupResponse {
	ch := make(chan *message.SyncGroupResponse, 1)
	go func() {
		resp, _ := e.c.SyncGroup(context.Background(), req(version), r)
		ch <- resp
	}()
	return ch
}

func (e *env) heartbeat(group, member string, instance *string, generation int32) int16 {
	e.t.Helper()
	r := message.NewHeartbeatRequest()
	r.GroupId, r.MemberId, r.GroupInstanceId, r.GenerationId = group, member, instance, generation
	resp, err := e.c.Heartbeat(ctx(e.t), req(4), r)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp.ErrorCode
}

func (e *env) commit(version int16, group, member string, instance *string, generation int32, offsets map[string]map[int32]int64, metadata string) *message.OffsetCommitResponse {
	e.t.Helper()
	r := message.NewOffsetCommitRequest()
	r.GroupId, r.MemberId, r.GroupInstanceId, r.GenerationIdOrMemberEpoch = group, member, instance, generation
	for topic, parts := range offsets {
		t := message.OffsetCommitRequestTopic{Name: topic}
		for p, off := range parts {
			t.Partitions = append(t.Partitions, message.OffsetCommitRequestPartition{
				PartitionIndex: p, CommittedOffset: off, CommittedLeaderEpoch: 3, CommittedMetadata: ptr(metadata),
			})
		}
		r.Topics = append(r.Topics, t)
	}
	resp, err := e.c.OffsetCommit(ctx(e.t), req(version), r)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp
}

// committed returns a group's committed offsets (OffsetFetch v8, all topics).
func (e *env) committed(group string) map[string]map[int32]int64 {
	e.t.Helper()
	r := message.NewOffsetFetchRequest()
	r.Groups = []message.OffsetFetchRequestGroup{{GroupId: group, Topics: nil}}
	resp, err := e.c.OffsetFetch(ctx(e.t), req(8), r)
	if err != nil {
		e.t.Fatal(err)
	}
	if code := resp.Groups[0].ErrorCode; code != 0 {
		e.t.Fatalf("offset fetch of %s: error %d", group, code)
	}
	out := map[string]map[int32]int64{}
	for _, t := range resp.Groups[0].Topics {
		out[t.Name] = map[int32]int64{}
		for _, p := range t.Partitions {
			out[t.Name][p.PartitionIndex] = p.CommittedOffset
		}
	}
	return out
}

func (e *env) describe(group string) message.DescribeGroupsResponseDescribedGroup {
	e.t.Helper()
	r := message.NewDescribeGroupsRequest()
	r.Groups = []string{group}
	resp, err := e.c.DescribeGroups(ctx(e.t), req(5), r)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp.Groups[0]
}

// eventually polls cond until it holds (bounded by testWait).
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testWait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
