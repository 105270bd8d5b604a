package produce

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/goleak"

	"github.com/sluicehq/sluice/internal/cli"
	"github.com/sluicehq/sluice/internal/cli/clitest"
	"github.com/sluicehq/sluice/internal/cli/connect"
	"github.com/sluicehq/sluice/internal/node/nodetest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func createTopic(t *testing.T, c *nodetest.Cluster, topic string, partitions int32) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	resp, err := c.Admin(t).CreateTopic(ctx, partitions, 1, nil, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatal(err)
	}
}

// readAll reads every record of topic (which holds want records) with a plain kgo consumer.
func readAll(t *testing.T, c *nodetest.Cluster, topic string, want int) []*kgo.Record {
	t.Helper()
	cl := c.Client(t, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxWait(100*time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var got []*kgo.Record
	for len(got) < want {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of %d records of %s", len(got), want, topic)
		}
		got = append(got, fs.Records()...)
	}
	return got
}

func recordText(r *kgo.Record) string {
	var hs []string
	for _, h := range r.Headers {
		hs = append(hs, h.Key+"="+string(h.Value))
	}
	key := "<null>"
	if r.Key != nil {
		key = fmt.Sprintf("%q", r.Key)
	}
	val := "<null>"
	if r.Value != nil {
		val = fmt.Sprintf("%q", r.Value)
	}
	return fmt.Sprintf("p%d o%d key=%s value=%s headers=%v", r.Partition, r.Offset, key, val, hs)
}

// What a user types is what lands in the log: keys split at the separator, headers on
// every record, null keys for lines without the separator, tombstones for empty values,
// and the per-record output in the order the partition acknowledged them.
func TestProduceLines(t *testing.T) {
	c := nodetest.Start(t)
	createTopic(t, c, "lines", 1)
	build := func() *cobra.Command { return Command(clitest.Env(c.Addr)) }
	stdin := "alice:1 apple\nbob:2: pears\nno separator\n:empty key\nempty value:\n"
	out := clitest.MustRun(t, build, stdin, "lines", "-K", ":", "-H", "src=cli", "-H", "v=1", "-Z", "-v")
	recs := readAll(t, c, "lines", 5)
	var got strings.Builder
	got.WriteString(out + "---\n")
	for _, r := range recs {
		got.WriteString(recordText(r) + "\n")
	}
	clitest.Golden(t, "lines", got.String())

	// A summary without -v; a fixed key; files and stdin in the order given.
	dir := t.TempDir()
	f1 := filepath.Join(dir, "a.txt")
	if err := os.WriteFile(f1, []byte("from file\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out = clitest.MustRun(t, build, "from stdin\n", "lines", "-k", "K", "--file", f1, "--file", "-", "--acks", "1", "-z", "zstd")
	if out != "Produced 2 records (21 bytes) to lines.\n" {
		t.Fatalf("summary %q", out)
	}
	recs = readAll(t, c, "lines", 7)
	if a, b := recordText(recs[5]), recordText(recs[6]); a != `p0 o5 key="K" value="from file" headers=[]` || b != `p0 o6 key="K" value="from stdin" headers=[]` {
		t.Fatalf("records from files: %s / %s", a, b)
	}
}

// Each partitioner puts records where it says.
func TestPartitioners(t *testing.T) {
	c := nodetest.Start(t)
	build := func() *cobra.Command { return Command(clitest.Env(c.Addr)) }
	keys := []string{"a", "bb", "ccc", "dddd", "eeeee", "ffffff"}
	var keyed strings.Builder
	for _, k := range keys {
		keyed.WriteString(k + "=" + k + "\n")
	}
	for _, tc := range []struct {
		name  string
		args  []string
		stdin string
		check func(t *testing.T, recs []*kgo.Record)
	}{
		{"round-robin spreads evenly", []string{"--partitioner", "round-robin"}, "1\n2\n3\n4\n5\n6\n", func(t *testing.T, recs []*kgo.Record) {
			per := map[int32]int{}
			for _, r := range recs {
				per[r.Partition]++
			}
			if per[0] != 2 || per[1] != 2 || per[2] != 2 {
				t.Fatalf("records per partition %v, want 2 each", per)
			}
		}},
		{"manual partition", []string{"--partition", "2"}, "x\ny\n", func(t *testing.T, recs []*kgo.Record) {
			for _, r := range recs {
				if r.Partition != 2 {
					t.Fatalf("record in partition %d", r.Partition)
				}
			}
		}},
		{"hash places keys as Kafka does", []string{"--partitioner", "hash", "-K", "="}, keyed.String(), func(t *testing.T, recs []*kgo.Record) {
			kafka := kgo.StickyKeyPartitioner(nil).ForTopic("x")
			for _, r := range recs {
				if want := kafka.Partition(r, 3); int(r.Partition) != want {
					t.Fatalf("key %s in partition %d, Kafka's partitioner says %d", r.Key, r.Partition, want)
				}
			}
		}},
		{"hash sends null keys to one partition", []string{"--partitioner", "hash"}, "1\n2\n3\n4\n", func(t *testing.T, recs []*kgo.Record) {
			for _, r := range recs {
				if r.Partition != recs[0].Partition {
					t.Fatalf("null keys in partitions %d and %d", recs[0].Partition, r.Partition)
				}
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			topic := strings.ReplaceAll(tc.name, " ", "-")
			createTopic(t, c, topic, 3)
			clitest.MustRun(t, build, tc.stdin, append([]string{topic}, tc.args...)...)
			tc.check(t, readAll(t, c, topic, strings.Count(tc.stdin, "\n")))
		})
	}
}

// murmur2 agrees with franz-go's (Kafka's) hash on keys of every length mod 4: with n =
// 2^31-1 the partition is the masked hash itself.
func TestMurmur2MatchesKafka(t *testing.T) {
	kafka := kgo.StickyKeyPartitioner(nil).ForTopic("x")
	for i := range 64 {
		key := []byte(strings.Repeat("k", i) + fmt.Sprint(i*7919))
		want := kafka.Partition(&kgo.Record{Key: key}, 1<<31-1)
		got := int(murmur2(key) & 0x7fffffff)
		if got == 1<<31-1 {
			got = 0
		}
		if got != want {
			t.Fatalf("key %q: %d, want %d", key, got, want)
		}
	}
}

func TestProduceFailures(t *testing.T) {
	c := nodetest.Start(t, nodetest.Override("auto.create.topics.enable", "false"))
	createTopic(t, c, "one", 1)
	build := func() *cobra.Command { return Command(clitest.Env(c.Addr)) }
	for _, tc := range []struct {
		name  string
		args  []string
		stdin string
		usage bool
		msg   string
	}{
		{"bad acks", []string{"one", "--acks", "2"}, "", true, "--acks"},
		{"idempotent needs acks all", []string{"one", "--acks", "1", "--idempotent"}, "", true, "--idempotent"},
		{"bad compression", []string{"one", "-z", "brotli"}, "", true, "--compression"},
		{"bad partitioner", []string{"one", "--partitioner", "random"}, "", true, "--partitioner"},
		{"bad format", []string{"one", "-f", "%q"}, "", true, "%q"},
		{"bad header", []string{"one", "-H", "novalue"}, "", true, "key=value"},
		{"two topics", []string{"one", "two"}, "", false, "accepts 1 arg"},
		{"missing file", []string{"one", "--file", "/nonexistent/records.txt"}, "", false, "/nonexistent/records.txt"},
		{"line too long", []string{"one", "--max-line-bytes", "8"}, "short\nmuch too long\n", false, "line 2 is longer"},
		{"no such partition", []string{"one", "--partition", "5"}, "x\n", false, "does the topic have partition 5"},
		{"no such topic", []string{"nope"}, "x\n", false, "sluice topic create nope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := clitest.Run(t, build, tc.stdin, tc.args...)
			if r.Err == nil || errors.Is(r.Err, cli.ErrUsage) != tc.usage || !strings.Contains(r.Err.Error(), tc.msg) {
				t.Fatalf("error %v (usage %v), want one saying %q (usage %v)", r.Err, errors.Is(r.Err, cli.ErrUsage), tc.msg, tc.usage)
			}
		})
	}
	// The short line before the long one was produced and counted.
	if recs := readAll(t, c, "one", 1); string(recs[0].Value) != "short" {
		t.Fatalf("first record %q", recs[0].Value)
	}
}

// An interrupt while reading a stdin that never ends (a terminal) ends the run: what was
// read is produced and counted, and the run fails as interrupted.
func TestProduceInterrupt(t *testing.T) {
	c := nodetest.Start(t)
	createTopic(t, c, "intr", 1)
	pr, pw := io.Pipe()
	defer pw.Close()
	ctx, cancel := context.WithCancel(context.Background())
	var out bytes.Buffer
	done := make(chan error, 1)
	go func() {
		conn := connect.Flags{Brokers: []string{c.Addr}}
		done <- Run(ctx, &conn, Config{Topic: "intr", Acks: "all", Idempotent: true, Compression: "none",
			Partitioner: "sticky", Partition: -1, MaxLineBytes: 1 << 10}, pr, &out)
	}()
	if _, err := pw.Write([]byte("one\ntwo\n")); err != nil {
		t.Fatal(err)
	}
	readAll(t, c, "intr", 2) // both produced while stdin stays open
	cancel()
	err := <-done
	if !errors.Is(err, cli.ErrFailed) || !strings.Contains(err.Error(), "interrupted: 2 records acknowledged") {
		t.Fatalf("interrupted produce: %v", err)
	}
	if out.String() != "Produced 2 records (6 bytes) to intr.\n" {
		t.Fatalf("summary %q", out.String())
	}
	pw.Close() // lets the abandoned reader goroutine end before goleak looks
}
