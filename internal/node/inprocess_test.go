package node_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/internal/node/nodetest"
	"github.com/sluicehq/sluice/internal/server"
)

// requireAdvertised skips while the server does not advertise an API the test needs (the
// handlers are other packages' work).
func requireAdvertised(t *testing.T, c *nodetest.Cluster, keys ...int16) {
	t.Helper()
	adv := c.Node.Advertised()
	for _, k := range keys {
		if !slices.ContainsFunc(adv, func(v server.Versioned) bool { return v.Key == k }) {
			t.Skipf("API key %d is not advertised yet", k)
		}
	}
}

func eventually(t *testing.T, msg string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal(msg)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The node's reactions to metadata, end to end through the harness: a created topic gets
// its logs, records survive a restart, a cluster-wide dynamic broker config reaches the
// node's config, and a deleted topic's logs are removed from disk.
func TestInProcessMetadataReactions(t *testing.T) {
	c := nodetest.Start(t)
	// Produce, Fetch, ListOffsets, Metadata, CreateTopics, DeleteTopics, InitProducerId,
	// IncrementalAlterConfigs.
	requireAdvertised(t, c, 0, 1, 2, 3, 19, 20, 22, 44)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	adm := c.Admin(t)
	if _, err := adm.CreateTopic(ctx, 2, 1, nil, "orders"); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"orders-0", "orders-1"} {
		eventually(t, p+" has no log directory", func() bool {
			_, err := os.Stat(filepath.Join(c.Dir, "data", p))
			return err == nil
		})
	}
	p := c.Client(t, kgo.DefaultProduceTopic("orders"))
	var recs []*kgo.Record
	for i := range 200 {
		recs = append(recs, &kgo.Record{Key: []byte(strconv.Itoa(i % 5)), Value: []byte(strconv.Itoa(i))})
	}
	if err := p.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}

	// Cluster-wide dynamic default: the node layers it over its static config.
	rs, err := adm.AlterBrokerConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "log.retention.ms", Value: kadm.StringPtr("3600000")}})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if r.Err != nil {
			t.Fatalf("alter broker config: %v", r.Err)
		}
	}
	eventually(t, "dynamic log.retention.ms not applied", func() bool {
		return c.Node.Config().TopicDefaults.Retention == time.Hour
	})

	c.Restart(t)
	if c.Node.Config().TopicDefaults.Retention != time.Hour {
		t.Fatal("dynamic broker config lost across restart")
	}
	cons := c.Client(t, kgo.ConsumeTopics("orders"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	got := 0
	for got < len(recs) && ctx.Err() == nil {
		got += len(cons.PollFetches(ctx).Records())
	}
	if got != len(recs) {
		t.Fatalf("read %d records after restart, produced %d", got, len(recs))
	}

	if _, err := adm.DeleteTopic(ctx, "orders"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "deleted topic's logs still on disk", func() bool {
		_, err0 := os.Stat(filepath.Join(c.Dir, "data", "orders-0"))
		_, err1 := os.Stat(filepath.Join(c.Dir, "data", "orders-1"))
		return os.IsNotExist(err0) && os.IsNotExist(err1)
	})
}

// A log directory on disk that no topic in the metadata owns (its topic was deleted while
// the node was down) is deleted at startup; the metadata log's directory is left alone.
func TestInProcessStrayLogDeleted(t *testing.T) {
	c := nodetest.Start(t)
	c.Stop(t)
	stray := filepath.Join(c.Dir, "data", "ghost-0")
	if err := os.MkdirAll(stray, 0o755); err != nil {
		t.Fatal(err)
	}
	c.Restart(t)
	eventually(t, "stray log ghost-0 still on disk", func() bool {
		_, err := os.Stat(stray)
		return os.IsNotExist(err)
	})
	if _, err := os.Stat(filepath.Join(c.Dir, "data", "__cluster_metadata-0", "raft.db")); err != nil {
		t.Fatalf("metadata log: %v", err)
	}
}
