package main

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// consume848 reads records of topic as a KIP-848 member of group until want distinct keys
// arrived, committing after every poll, and returns how often each key was read.
func consume848(t *testing.T, addr, group, topic string, want int) map[string]int {
	t.Helper()
	cl := client(t, addr, kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic),
		kgo.Balancers(kgo.StickyBalancer()), kgo.ServerSideBalancer(),
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

// A KIP-848 group's committed offsets and the group itself survive kill -9: after a
// restart the offsets are where the last acknowledged commit put them and a new member of
// the loaded consumer group resumes there.
func TestServeConsumerGroupSurvivesKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("kill -9 test")
	}
	b := startBroker(t, append(groupCrashProps,
		"group.consumer.min.session.timeout.ms=100", "group.consumer.session.timeout.ms=1000",
		"group.consumer.min.heartbeat.interval.ms=50", "group.consumer.heartbeat.interval.ms=100")...)
	requireAPIs(t, b.addr, append(groupAPIs, keyCreateTopics, 68, 69)...)
	adm := kadm.NewClient(client(t, b.addr))
	createTopic(t, adm, "gk848", 6, nil)
	p := client(t, b.addr, kgo.DefaultProduceTopic("gk848"))
	produce := func(from, n int) {
		var recs []*kgo.Record
		for i := from; i < from+n; i++ {
			recs = append(recs, &kgo.Record{Key: []byte(strconv.Itoa(i))})
		}
		produceSync(t, p, recs...)
	}
	produce(0, 600)
	if seen := consume848(t, b.addr, "gk848-group", "gk848", 600); len(seen) != 600 {
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
		if offs, err = adm.FetchOffsets(ctx, "gk848-group"); err == nil && offs.Error() == nil {
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
	listed, err := adm.ListGroups(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if g, ok := listed["gk848-group"]; !ok || g.ProtocolType != "consumer" {
		t.Fatalf("the consumer group after the restart: %+v", listed)
	}
	produce(600, 300)
	for k, n := range consume848(t, b.addr, "gk848-group", "gk848", 300) {
		if i, _ := strconv.Atoi(k); i < 600 || n > 1 {
			t.Fatalf("after the crash record %s was read %d times (committed before the crash: %v)", k, n, i < 600)
		}
	}
}
