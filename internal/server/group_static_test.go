package server_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/internal/node/nodetest"
)

// callbacks counts a member's assignment callbacks.
type callbacks struct {
	mu       sync.Mutex
	assigned map[int32]bool
	events   int
}

func (c *callbacks) snapshot() (map[int32]bool, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[int32]bool{}
	for p, ok := range c.assigned {
		out[p] = ok
	}
	return out, c.events
}

func staticMember(t *testing.T, c *nodetest.Cluster, topic, instance string, cb *callbacks) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(c.Addr),
		kgo.ConsumerGroup("static-group"),
		kgo.ConsumeTopics(topic),
		kgo.InstanceID(instance),
		kgo.Balancers(kgo.RangeBalancer()),
		kgo.SessionTimeout(30*time.Second),
		kgo.HeartbeatInterval(100*time.Millisecond),
		kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, a map[string][]int32) {
			cb.mu.Lock()
			defer cb.mu.Unlock()
			cb.events++
			for _, p := range a[topic] {
				cb.assigned[p] = true
			}
		}),
		kgo.OnPartitionsRevoked(func(_ context.Context, _ *kgo.Client, r map[string][]int32) {
			cb.mu.Lock()
			defer cb.mu.Unlock()
			cb.events++
			for _, p := range r[topic] {
				delete(cb.assigned, p)
			}
		}),
	)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			fs := cl.PollFetches(context.Background())
			if fs.IsClientClosed() {
				return
			}
		}
	}()
	return cl
}

// Static members (group.instance.id) restart without a rebalance: the restarted instance
// gets its previous partitions back and the other members see no revocation, no
// assignment and no new generation — also when the restarted instance led the group, and
// across a restart of the broker.
func TestGroupStaticMembersRestartWithoutRebalance(t *testing.T) {
	c := nodetest.Start(t)
	createTopic(t, c.Admin(t), "static", 6, nil)
	instances := []string{"a", "b", "c"}
	cbs := make([]*callbacks, len(instances))
	clients := make([]*kgo.Client, len(instances))
	for i, inst := range instances {
		cbs[i] = &callbacks{assigned: map[int32]bool{}}
		clients[i] = staticMember(t, c, "static", inst, cbs[i])
	}
	defer func() {
		for _, cl := range clients {
			cl.Close()
		}
	}()
	stable := func() bool {
		total := 0
		for _, cb := range cbs {
			a, _ := cb.snapshot()
			if len(a) != 2 {
				return false
			}
			total += len(a)
		}
		return total == 6
	}
	waitFor(t, "three static members own two partitions each", stable)
	_, gen := clients[1].GroupMetadata()

	restart := func(i int) {
		t.Helper()
		before := make([]int, len(cbs))
		for j, cb := range cbs {
			_, before[j] = cb.snapshot()
		}
		want, _ := cbs[i].snapshot()
		clients[i].Close() // a static member does not leave
		cbs[i] = &callbacks{assigned: map[int32]bool{}}
		clients[i] = staticMember(t, c, "static", instances[i], cbs[i])
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
		// Give a rebalance, if one had started, the time to show.
		time.Sleep(500 * time.Millisecond)
		for j, cb := range cbs {
			if j == i {
				continue
			}
			if _, ev := cb.snapshot(); ev != before[j] {
				t.Fatalf("instance %s saw a rebalance when %s restarted", instances[j], instances[i])
			}
		}
		for j, cl := range clients {
			if _, g := cl.GroupMetadata(); g != gen {
				t.Fatalf("instance %s is in generation %d, want %d", instances[j], g, gen)
			}
		}
	}
	for i := range instances {
		restart(i)
	}

	// The broker restarts: the group loads from __consumer_offsets and the members carry on
	// in the same generation.
	for _, cl := range clients {
		cl.Close()
	}
	c.Restart(t)
	for i := range instances {
		cbs[i] = &callbacks{assigned: map[int32]bool{}}
		clients[i] = staticMember(t, c, "static", instances[i], cbs[i])
	}
	waitFor(t, "the members rejoin after the broker restart", stable)
	for j, cl := range clients {
		if _, g := cl.GroupMetadata(); g != gen {
			t.Fatalf("after the broker restart instance %s is in generation %d, want %d", instances[j], g, gen)
		}
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
