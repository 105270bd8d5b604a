package main

import (
	"context"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// API keys of the group coordinator.
const (
	keyOffsetCommit    = 8
	keyOffsetFetch     = 9
	keyFindCoordinator = 10
	keyJoinGroup       = 11
	keySyncGroup       = 14
)

var groupAPIs = []int16{keyOffsetCommit, keyOffsetFetch, keyFindCoordinator, keyJoinGroup, keySyncGroup}

// groupCrashProps: a short broker session lets the restarted broker re-register soon after
// a crash; short group sessions let tests wait them out.
var groupCrashProps = []string{
	"broker.heartbeat.interval.ms=100", "broker.session.timeout.ms=1000",
	"group.min.session.timeout.ms=100",
}

// groupConsume reads records of topic as a member of group until want distinct keys
// arrived, committing after every poll (acks=all commits), and returns the keys read and
// how often each was read.
func groupConsume(t *testing.T, addr, group, topic string, want int) map[string]int {
	t.Helper()
	cl := client(t, addr, kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.DisableAutoCommit(),
		kgo.FetchMaxWait(200*time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	seen := map[string]int{}
	for len(seen) < want {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("group %s read %d of %d records", group, len(seen), want)
		}
		fs.EachRecord(func(r *kgo.Record) { seen[string(r.Key)]++ })
		if err := cl.CommitUncommittedOffsets(ctx); err != nil {
			t.Fatalf("commit: %v", err)
		}
	}
	cl.Close()
	return seen
}

// Committed offsets are acknowledged only once durable: after kill -9 and a restart the
// group's offsets are where its last acknowledged commit put them, a new member resumes
// there (reading every newer record, no older one), and static members restarted along
// with the broker rejoin the loaded group in their generation, with their partitions and no
// rebalance. (Static members left running through the crash rejoin too: franz-go ends its
// session when heartbeats cannot connect, and a rejoining leader rebalances, in Kafka too.)
func TestServeGroupOffsetsSurviveKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("kill -9 test")
	}
	b := startBroker(t, groupCrashProps...)
	requireAPIs(t, b.addr, append(dataPathAPIs, append(groupAPIs, keyCreateTopics)...)...)
	adm := kadm.NewClient(client(t, b.addr))
	createTopic(t, adm, "gk", 6, nil)
	p := client(t, b.addr, kgo.DefaultProduceTopic("gk"))
	produce := func(from, n int) {
		var recs []*kgo.Record
		for i := from; i < from+n; i++ {
			recs = append(recs, &kgo.Record{Key: []byte(strconv.Itoa(i))})
		}
		produceSync(t, p, recs...)
	}
	produce(0, 600)

	// Static members, which stop (without leaving: static members do not) while the broker
	// crashes and start again after it.
	createTopic(t, adm, "gk-static", 4, nil)
	statics := startStatics(t, b.addr)
	waitStatics(t, statics, nil)
	gen := statics[0].generation()
	owned := [2][]int32{statics[0].owned(), statics[1].owned()}
	for _, s := range statics {
		s.cl.Close()
	}

	if seen := groupConsume(t, b.addr, "gk-group", "gk", 600); len(seen) != 600 {
		t.Fatalf("read %d keys", len(seen))
	}
	b.kill()
	b.restart()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	adm = kadm.NewClient(client(t, b.addr))
	var offs kadm.OffsetResponses
	var err error
	for {
		// The coordinator may still be loading (COORDINATOR_LOAD_IN_PROGRESS is retried by
		// the client, but a fetch racing the topic's leadership can fail).
		if offs, err = adm.FetchOffsets(ctx, "gk-group"); err == nil && offs.Error() == nil {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("fetch offsets after the restart: %v / %v", err, offs.Error())
		}
		time.Sleep(50 * time.Millisecond)
	}
	total := int64(0)
	offs.Each(func(o kadm.OffsetResponse) { total += o.At })
	if total != 600 {
		t.Fatalf("committed offsets after kill -9 sum to %d, want 600: %v", total, offs)
	}
	produce(600, 300)
	seen := groupConsume(t, b.addr, "gk-group", "gk", 300)
	for k, n := range seen {
		if i, _ := strconv.Atoi(k); i < 600 || n > 1 {
			t.Fatalf("after the crash record %s was read %d times (committed before the crash: %v)", k, n, i < 600)
		}
	}

	// The restarted static members rejoin the loaded group: same generation, same
	// partitions, no rebalance.
	statics = startStatics(t, b.addr)
	waitStatics(t, statics, owned[:])
	for i, s := range statics {
		if g := s.generation(); g != gen {
			t.Fatalf("static member %d is in generation %d after the crash, was %d", i, g, gen)
		}
	}
}

// staticConsumer is a static member of group gk-static.
type staticConsumer struct {
	cl *kgo.Client
	mu sync.Mutex
	// assigned is the partitions assigned and not revoked.
	assigned map[int32]bool
}

func (s *staticConsumer) owned() []int32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []int32
	for p := range s.assigned {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

func (s *staticConsumer) generation() int32 {
	_, g := s.cl.GroupMetadata()
	return g
}

func startStatics(t *testing.T, addr string) []*staticConsumer {
	t.Helper()
	var out []*staticConsumer
	for i := range 2 {
		s := &staticConsumer{assigned: map[int32]bool{}}
		s.cl = client(t, addr, kgo.ConsumerGroup("gk-static"), kgo.ConsumeTopics("gk-static"),
			kgo.InstanceID("inst-"+strconv.Itoa(i)), kgo.SessionTimeout(30*time.Second),
			kgo.HeartbeatInterval(200*time.Millisecond), kgo.Balancers(kgo.RangeBalancer()),
			kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, a map[string][]int32) {
				s.mu.Lock()
				defer s.mu.Unlock()
				for _, p := range a["gk-static"] {
					s.assigned[p] = true
				}
			}),
			kgo.OnPartitionsRevoked(func(_ context.Context, _ *kgo.Client, r map[string][]int32) {
				s.mu.Lock()
				defer s.mu.Unlock()
				for _, p := range r["gk-static"] {
					delete(s.assigned, p)
				}
			}))
		go func() {
			for !s.cl.PollFetches(context.Background()).IsClientClosed() {
			}
		}()
		out = append(out, s)
	}
	return out
}

// waitStatics waits until the two static members own two partitions each (want, when set,
// says which).
func waitStatics(t *testing.T, statics []*staticConsumer, want [][]int32) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ok := true
		for i, s := range statics {
			got := s.owned()
			if len(got) != 2 || want != nil && !slices.Equal(got, want[i]) {
				ok = false
			}
		}
		if ok && statics[0].generation() == statics[1].generation() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("static members own %v and %v, want %v", statics[0].owned(), statics[1].owned(), want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
