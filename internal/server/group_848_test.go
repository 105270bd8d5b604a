package server_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluicehq/sluice/internal/node/nodetest"
)

// group848Props make KIP-848 sessions and heartbeats short enough for tests: the broker
// sets both for consumer-protocol members.
var group848Props = map[string]string{
	"group.consumer.min.session.timeout.ms":    "100",
	"group.consumer.session.timeout.ms":        "1500",
	"group.consumer.min.heartbeat.interval.ms": "50",
	"group.consumer.heartbeat.interval.ms":     "100",
}

// KIP-848 consumers (franz-go's ServerSideBalancer, with the range and uniform assignors)
// run the balancer scenario: join, leave gracefully and crash, one to six members on a
// 12-partition topic. After every rebalance each partition has exactly one owner; no record
// is processed by two members in the same member epoch; every record is processed.
func TestGroup848Balancers(t *testing.T) {
	c := nodetest.Start(t, nodetest.Config(group848Props))
	adm := c.Admin(t)
	tests := []struct {
		name     string
		balancer kgo.GroupBalancer // franz-go names the server assignor by its balancer
	}{
		{"range", kgo.RangeBalancer()},
		{"uniform", kgo.StickyBalancer()},
	}
	for _, tt := range tests {
		topic, group := "bal848-"+tt.name, "grp848-"+tt.name
		createTopic(t, adm, topic, groupPartitions, nil)
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			runBalancerScenario(t, c, topic, group, memberOpts{balancer: tt.balancer, serverSide: true})
			if typ := groupType(t, c, group); typ != "consumer" {
				t.Fatalf("group %s is of type %q, want consumer (the members used KIP-848)", group, typ)
			}
		})
	}
}

// groupType returns a group's type as ListGroups v5 reports it ("" when not listed).
func groupType(t *testing.T, c *nodetest.Cluster, group string) string {
	t.Helper()
	cl := c.Client(t)
	req := kmsg.NewPtrListGroupsRequest()
	resp, err := req.RequestWith(kgoCtx(t), cl)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range resp.Groups {
		if g.Group == group {
			return g.GroupType
		}
	}
	return ""
}

// member848 starts a KIP-848 consumer of group on topics (a regex when regex is set),
// recording its assignment callbacks in cb.
func member848(t *testing.T, c *nodetest.Cluster, group string, instance string, regex bool, cb *callbacks, topics ...string) *kgo.Client {
	t.Helper()
	opts := []kgo.Opt{
		kgo.SeedBrokers(c.Addr),
		kgo.ConsumerGroup(group),
		kgo.ConsumeTopics(topics...),
		kgo.Balancers(kgo.StickyBalancer()),
		kgo.ServerSideBalancer(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.MetadataMinAge(100 * time.Millisecond),
		kgo.MetadataMaxAge(500 * time.Millisecond),
		kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, a map[string][]int32) {
			cb.mu.Lock()
			defer cb.mu.Unlock()
			cb.events++
			for topic, ps := range a {
				for _, p := range ps {
					cb.assigned[partKey(topic, p)] = true
				}
			}
		}),
		kgo.OnPartitionsRevoked(func(_ context.Context, _ *kgo.Client, r map[string][]int32) {
			cb.mu.Lock()
			defer cb.mu.Unlock()
			cb.events++
			for topic, ps := range r {
				for _, p := range ps {
					delete(cb.assigned, partKey(topic, p))
				}
			}
		}),
	}
	if instance != "" {
		opts = append(opts, kgo.InstanceID(instance))
	}
	if regex {
		opts = append(opts, kgo.ConsumeRegex())
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			if fs := cl.PollFetches(context.Background()); fs.IsClientClosed() {
				return
			}
		}
	}()
	return cl
}

// partKey folds a topic and partition into the callbacks' int32 keys (topics are numbered
// by their first byte; the tests use few short topics).
func partKey(topic string, p int32) int32 { return int32(topic[len(topic)-1])<<16 | p }

// KIP-848 static members restart without a reassignment: a closed static member leaves
// with epoch -2, keeps its partitions, and its next incarnation gets them back; the other
// members see no revocation and no assignment. Across a broker restart too.
func TestGroup848StaticMembers(t *testing.T) {
	c := nodetest.Start(t, nodetest.Config(group848Props))
	createTopic(t, c.Admin(t), "static848", 6, nil)
	instances := []string{"a", "b", "c"}
	cbs := make([]*callbacks, len(instances))
	clients := make([]*kgo.Client, len(instances))
	for i, inst := range instances {
		cbs[i] = &callbacks{assigned: map[int32]bool{}}
		clients[i] = member848(t, c, "static848", inst, false, cbs[i], "static848")
	}
	defer func() {
		for _, cl := range clients {
			cl.Close()
		}
	}()
	waitFor(t, "three static members own two partitions each", func() bool {
		for _, cb := range cbs {
			if a, _ := cb.snapshot(); len(a) != 2 {
				return false
			}
		}
		return true
	})
	restart := func(i int) {
		t.Helper()
		before := make([]int, len(cbs))
		for j, cb := range cbs {
			_, before[j] = cb.snapshot()
		}
		want, _ := cbs[i].snapshot()
		clients[i].Close() // leaves with epoch -2
		cbs[i] = &callbacks{assigned: map[int32]bool{}}
		clients[i] = member848(t, c, "static848", instances[i], false, cbs[i], "static848")
		waitFor(t, "the restarted instance gets its partitions back", func() bool {
			got, _ := cbs[i].snapshot()
			return len(got) == len(want)
		})
		got, _ := cbs[i].snapshot()
		for p := range want {
			if !got[p] {
				t.Fatalf("instance %s got %v back, had %v", instances[i], got, want)
			}
		}
		time.Sleep(300 * time.Millisecond) // a reassignment, had one started, would show
		for j, cb := range cbs {
			if _, ev := cb.snapshot(); j != i && ev != before[j] {
				t.Fatalf("instance %s saw a reassignment when %s restarted", instances[j], instances[i])
			}
		}
	}
	for i := range instances {
		restart(i)
	}
	for _, cl := range clients {
		cl.Close()
	}
	c.Restart(t)
	for i := range instances {
		want, _ := cbs[i].snapshot()
		cbs[i] = &callbacks{assigned: map[int32]bool{}}
		clients[i] = member848(t, c, "static848", instances[i], false, cbs[i], "static848")
		waitFor(t, "after a broker restart the instance gets its partitions back", func() bool {
			got, _ := cbs[i].snapshot()
			return len(got) == len(want)
		})
		got, _ := cbs[i].snapshot()
		for p := range want {
			if !got[p] {
				t.Fatalf("after a broker restart instance %s got %v, had %v", instances[i], got, want)
			}
		}
	}
}

// A regex subscription picks up a topic created after the member joined.
func TestGroup848Regex(t *testing.T) {
	c := nodetest.Start(t, nodetest.Config(group848Props))
	adm := c.Admin(t)
	createTopic(t, adm, "rx-1", 2, nil)
	createTopic(t, adm, "other", 2, nil)
	cb := &callbacks{assigned: map[int32]bool{}}
	cl := member848(t, c, "regex848", "", true, cb, "rx-.*")
	defer cl.Close()
	waitFor(t, "the matching topic is assigned", func() bool { a, _ := cb.snapshot(); return len(a) == 2 })
	createTopic(t, adm, "rx-2", 3, nil)
	waitFor(t, "the new matching topic is assigned", func() bool { a, _ := cb.snapshot(); return len(a) == 5 })
	if a, _ := cb.snapshot(); a[partKey("other", 0)] {
		t.Fatalf("a topic the regex does not match was assigned: %v", a)
	}
}

// KIP-848 members commit; the offsets and the group survive a broker restart, and a member
// of the group afterwards resumes where the first stopped.
func TestGroup848CommitResumeAcrossRestart(t *testing.T) {
	c := nodetest.Start(t, nodetest.Config(group848Props))
	createTopic(t, c.Admin(t), "resume848", 3, nil)
	produceKeyed(t, c, "resume848", 0, 30)
	consume := func(n int) map[string]bool {
		cl := c.Client(t, kgo.ConsumerGroup("resume848"), kgo.ConsumeTopics("resume848"),
			kgo.Balancers(kgo.StickyBalancer()), kgo.ServerSideBalancer(),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.DisableAutoCommit())
		defer cl.Close()
		seen := map[string]bool{}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for len(seen) < n {
			fs := cl.PollFetches(ctx)
			if ctx.Err() != nil {
				t.Fatalf("consumed %d of %d", len(seen), n)
			}
			for _, r := range fs.Records() {
				if seen[string(r.Key)] {
					t.Fatalf("record %s consumed twice", r.Key)
				}
				seen[string(r.Key)] = true
			}
		}
		if err := cl.CommitUncommittedOffsets(ctx); err != nil {
			t.Fatalf("commit: %v", err)
		}
		return seen
	}
	consume(30)
	c.Restart(t)
	if typ := groupType(t, c, "resume848"); typ != "consumer" {
		t.Fatalf("after the restart the group is of type %q", typ)
	}
	produceKeyed(t, c, "resume848", 30, 9)
	for k := range consume(9) {
		if i, _ := strconv.Atoi(k); i < 30 {
			t.Fatalf("record %s consumed again after the restart", k)
		}
	}
}

// ApiVersions advertises ConsumerGroupHeartbeat and ConsumerGroupDescribe only while
// group.coordinator.rebalance.protocols includes consumer.
func TestGroup848Advertised(t *testing.T) {
	for _, tt := range []struct {
		protocols string
		want      bool
	}{{"classic,consumer", true}, {"classic", false}} {
		c := nodetest.Start(t, nodetest.Config(map[string]string{"group.coordinator.rebalance.protocols": tt.protocols}))
		resp, err := kmsg.NewPtrApiVersionsRequest().RequestWith(kgoCtx(t), c.Client(t))
		if err != nil {
			t.Fatal(err)
		}
		got := map[int16]bool{}
		for _, k := range resp.ApiKeys {
			got[k.ApiKey] = true
		}
		if got[68] != tt.want || got[69] != tt.want {
			t.Fatalf("protocols %s: 68 advertised %v, 69 %v, want %v", tt.protocols, got[68], got[69], tt.want)
		}
		c.Stop(t)
	}
}
