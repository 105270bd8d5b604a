package server_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/internal/node/nodetest"
)

// produceKeyed writes n records with keys "0".."n-1" to topic.
func produceKeyed(t *testing.T, c *nodetest.Cluster, topic string, from, n int) {
	t.Helper()
	p := c.Client(t, kgo.DefaultProduceTopic(topic))
	var recs []*kgo.Record
	for i := from; i < from+n; i++ {
		recs = append(recs, &kgo.Record{Key: []byte(strconv.Itoa(i)), Value: []byte("v")})
	}
	if err := p.ProduceSync(kgoCtx(t), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// A single group member consumes everything, commits, and a second consumer of the same
// group after a broker restart resumes where the first stopped.
func TestGroupSmokeCommitResume(t *testing.T) {
	c := nodetest.Start(t)
	adm := c.Admin(t)
	createTopic(t, adm, "smoke", 3, nil)
	produceKeyed(t, c, "smoke", 0, 30)

	consume := func(n int) map[string]bool {
		cl := c.Client(t, kgo.ConsumerGroup("g1"), kgo.ConsumeTopics("smoke"),
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
			fs.EachError(func(tp string, p int32, err error) { t.Fatalf("fetch %s-%d: %v", tp, p, err) })
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
	if got := consume(30); len(got) != 30 {
		t.Fatalf("got %d", len(got))
	}
	c.Restart(t)
	produceKeyed(t, c, "smoke", 30, 9)
	got := consume(9)
	for k := range got {
		if i, _ := strconv.Atoi(k); i < 30 {
			t.Fatalf("record %s consumed again after the restart", k)
		}
	}
	ctx := kgoCtx(t)
	adm = c.Admin(t)
	offs, err := adm.FetchOffsets(ctx, "g1")
	if err != nil {
		t.Fatal(err)
	}
	total := int64(0)
	offs.Each(func(o kadm.OffsetResponse) { total += o.At })
	if total != 39 {
		t.Fatalf("committed offsets sum to %d, want 39: %+v", total, offs)
	}
}
