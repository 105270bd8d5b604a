package server_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/internal/node/nodetest"
)

// BenchmarkGroupRebalanceAfterLeave: with 10 members of a group on a 12-partition topic,
// the time from a member's graceful leave (franz-go's Close: revoke, LeaveGroup or a
// ConsumerGroupHeartbeat with epoch -1) until the 9 others own every partition again (the
// group is Stable with its new assignment): classic eager (range) and cooperative
// (cooperative-sticky), and KIP-848 (franz-go's ServerSideBalancer, the uniform assignor),
// with the default heartbeat (franz-go's 3 s for classic; the broker's
// group.consumer.heartbeat.interval.ms, 5 s, for KIP-848) and with a 100 ms one (members
// learn of the rebalance from a heartbeat).
// The same scenario runs against kfake, franz-go's in-process fake broker, as a reference.
// Each iteration puts a member back (untimed) before the next leave.
func BenchmarkGroupRebalanceAfterLeave(b *testing.B) {
	brokers := []struct {
		name  string
		start func(b *testing.B, topic string, props map[string]string) string
	}{
		{"sluice", func(b *testing.B, topic string, props map[string]string) string {
			c := nodetest.Start(b, nodetest.Config(props))
			if _, err := c.Admin(b).CreateTopic(b.Context(), groupPartitions, 1, nil, topic); err != nil {
				b.Fatal(err)
			}
			return c.Addr
		}},
		{"sluice-flush-none", func(b *testing.B, topic string, props map[string]string) string {
			// Kafka's durability (page cache) instead of Sluice's default group commit:
			// separates fsync latency from the coordinator's.
			c := nodetest.Start(b, nodetest.Config(props), nodetest.Override("sluice.log.flush.policy", "none"))
			if _, err := c.Admin(b).CreateTopic(b.Context(), groupPartitions, 1, nil, topic); err != nil {
				b.Fatal(err)
			}
			return c.Addr
		}},
		{"kfake", func(b *testing.B, topic string, props map[string]string) string {
			c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(groupPartitions, topic), kfake.BrokerConfigs(props))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(c.Close)
			return c.ListenAddrs()[0]
		}},
	}
	protocols := []struct {
		name       string
		balancer   func() kgo.GroupBalancer
		serverSide bool
	}{
		{"eager", func() kgo.GroupBalancer { return kgo.RangeBalancer() }, false},
		{"cooperative", func() kgo.GroupBalancer { return kgo.CooperativeStickyBalancer() }, false},
		{"kip848", func() kgo.GroupBalancer { return kgo.StickyBalancer() }, true},
	}
	for _, br := range brokers {
		for _, p := range protocols {
			for _, hb := range []time.Duration{0, 100 * time.Millisecond} {
				hbName := "hb=3s"
				if p.serverSide {
					hbName = "hb=5s"
				}
				props := map[string]string{}
				if hb > 0 {
					hbName = "hb=" + hb.String()
					if p.serverSide {
						// KIP-848 members heartbeat at the broker's interval.
						props["group.consumer.min.heartbeat.interval.ms"] = "50"
						props["group.consumer.heartbeat.interval.ms"] = fmt.Sprint(hb.Milliseconds())
					}
				}
				b.Run(br.name+"/"+p.name+"/"+hbName, func(b *testing.B) {
					addr := br.start(b, "rebalance", props)
					benchLeave(b, addr, memberOpts{balancer: p.balancer(), session: 10 * time.Second, heartbeat: hb, serverSide: p.serverSide})
				})
			}
		}
	}
}

func benchLeave(b *testing.B, addr string, o memberOpts) {
	l := newLedger(b)
	var live []*member
	next := 0
	names := func() []string {
		var out []string
		for _, m := range live {
			out = append(out, m.name)
		}
		return out
	}
	add := func() {
		next++
		live = append(live, startMember(b, addr, l, "rebalance-group", "rebalance", fmt.Sprintf("m%d", next), o))
	}
	// settle waits until the live members own every partition and, with 10 members on 12
	// partitions, each owns at least one: a member that joined last has its share (under
	// KIP-848 and cooperative rebalancing it gets it only after others revoked), so the
	// next leave always moves partitions.
	settle := func() {
		deadline := time.Now().Add(60 * time.Second)
		for !l.settled(names()) || !l.everyoneOwns(names()) {
			if time.Now().After(deadline) {
				b.Fatalf("the group did not settle: %v", names())
			}
			time.Sleep(time.Millisecond)
		}
	}
	defer func() {
		for _, m := range live {
			m.close()
		}
	}()
	for range 10 {
		add()
	}
	settle()
	var total time.Duration
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		m := live[i%len(live)]
		live = slices.DeleteFunc(live, func(x *member) bool { return x == m })
		b.StartTimer()
		start := time.Now()
		m.close()
		settle()
		total += time.Since(start)
		b.StopTimer()
		add()
		settle()
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms/rebalance")
}

// everyoneOwns reports whether each of live owns a partition.
func (l *ledger) everyoneOwns(live []string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	owning := map[string]bool{}
	for _, o := range l.owners {
		owning[o] = true
	}
	for _, m := range live {
		if !owning[m] {
			return false
		}
	}
	return true
}
