package logdump

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/goleak"

	"github.com/sluicehq/sluice/internal/cli"
	"github.com/sluicehq/sluice/internal/cli/clitest"
	"github.com/sluicehq/sluice/internal/node/nodetest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// topicRecords are records a client made with opts produces to topic, one batch each.
type topicRecords struct {
	topic string
	opts  []kgo.Opt
	recs  []*kgo.Record
}

// segmentDirs writes each topic's records (one partition each) through a real broker, stops
// it (so the index files and the producer snapshots are written) and returns the
// partitions' directories.
func segmentDirs(t *testing.T, topics ...topicRecords) []string {
	t.Helper()
	c := nodetest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	one := "1"
	var dirs []string
	for _, tr := range topics {
		if r, err := c.Admin(t).CreateTopic(ctx, 1, 1, map[string]*string{"index.interval.bytes": &one}, tr.topic); err != nil || r.Err != nil {
			t.Fatal(err, r.Err)
		}
		cl := c.Client(t, append(tr.opts, kgo.DefaultProduceTopic(tr.topic))...)
		for _, r := range tr.recs { // one batch each
			if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
		cl.Close()
		dirs = append(dirs, filepath.Join(c.Dir, "data", tr.topic+"-0"))
	}
	c.Stop(t)
	return dirs
}

func segmentDir(t *testing.T, topic string, opts []kgo.Opt, recs ...*kgo.Record) string {
	t.Helper()
	return segmentDirs(t, topicRecords{topic, opts, recs})[0]
}

func rec(ms int64, key, value string, headers ...string) *kgo.Record {
	r := &kgo.Record{Timestamp: time.UnixMilli(ms), Value: []byte(value)}
	if key != "" {
		r.Key = []byte(key)
	}
	for _, h := range headers {
		r.Headers = append(r.Headers, kgo.RecordHeader{Key: h, Value: []byte("x")})
	}
	return r
}

func run(t *testing.T, args ...string) clitest.Result {
	t.Helper()
	return clitest.Run(t, func() *cobra.Command { return Command() }, "", append([]string{"dump"}, args...)...)
}

// The dump of a segment the broker wrote, its indexes and its producer snapshot.
func TestDumpSegment(t *testing.T) {
	dir := segmentDir(t, "orders", nil,
		rec(1_700_000_000_000, "alice", "1 apple", "src"), rec(1_700_000_001_000, "", "no key"),
		rec(1_700_000_002_000, "bob", "tab\there", "src", "v"))
	base := filepath.Join(dir, "00000000000000000000")
	var out strings.Builder
	for _, args := range [][]string{
		{base + ".log"},
		{base + ".log", "--print-data"},
		{base + ".index", base + ".timeindex"},
	} {
		r := run(t, args...)
		if r.Err != nil {
			t.Fatalf("%v: %v\n%s", args, r.Err, r.Stdout)
		}
		out.WriteString(strings.ReplaceAll("$ sluice log dump "+strings.Join(args, " ")+"\n"+r.Stdout, dir, "<dir>"))
	}
	clitest.Golden(t, "segment", out.String())

	snaps, _ := filepath.Glob(filepath.Join(dir, "*.snapshot"))
	if len(snaps) != 1 {
		t.Fatalf("snapshots %v", snaps)
	}
	r := run(t, snaps[0])
	if r.Err != nil || !strings.Contains(r.Stdout, "count: 1 ") || !strings.Contains(r.Stdout, "isValid: true") ||
		!strings.Contains(r.Stdout, "lastSequence: 2 lastOffset: 2 ") {
		t.Fatalf("snapshot dump: %v\n%s", r.Err, r.Stdout)
	}
}

// Compressed batches are decompressed, whatever the codec.
func TestDumpCompressed(t *testing.T) {
	var topics []topicRecords
	for i, codec := range []kgo.CompressionCodec{kgo.GzipCompression(), kgo.SnappyCompression(), kgo.Lz4Compression(), kgo.ZstdCompression()} {
		topics = append(topics, topicRecords{fmt.Sprint("z", i), []kgo.Opt{kgo.ProducerBatchCompression(codec)},
			[]*kgo.Record{rec(1000, "k", strings.Repeat("compressible ", 50))}})
	}
	for i, dir := range segmentDirs(t, topics...) {
		r := run(t, filepath.Join(dir, "00000000000000000000.log"), "-d")
		if r.Err != nil || !strings.Contains(r.Stdout, "isValid: true") ||
			!regexp.MustCompile(`compression: (gzip|snappy|lz4|zstd) `).MatchString(r.Stdout) ||
			!strings.Contains(r.Stdout, "key: k payload: compressible compressible") {
			t.Fatalf("codec %d: %v\n%s", i, r.Err, r.Stdout)
		}
	}
}

// A flipped byte and a torn tail are reported, the rest is still printed, and the command
// fails.
func TestDumpDamaged(t *testing.T) {
	dir := segmentDir(t, "d", nil, rec(1000, "a", "one"), rec(2000, "b", "two"))
	data, err := os.ReadFile(filepath.Join(dir, "00000000000000000000.log"))
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	flipped := bytes.Clone(data)
	flipped[len(flipped)-1] ^= 0xff // in the second batch's last record
	torn := append(bytes.Clone(data), data[:30]...)
	for name, content := range map[string][]byte{"flipped": flipped, "torn": torn} {
		path := filepath.Join(tmp, name, "00000000000000000000.log")
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, content, 0o644); err != nil {
			t.Fatal(err)
		}
		r := run(t, path, "--records")
		if !errors.Is(r.Err, cli.ErrFailed) || !strings.Contains(r.Err.Error(), "damaged") {
			t.Fatalf("%s: error %v", name, r.Err)
		}
		if got := strings.Count(r.Stdout, "baseOffset: "); got != 2 {
			t.Fatalf("%s: %d batches printed:\n%s", name, got, r.Stdout)
		}
		want := map[string]string{"flipped": "isValid: false error: ", "torn": "30 bytes at the end are not a whole batch"}[name]
		if !strings.Contains(r.Stdout, want) {
			t.Fatalf("%s: output lacks %q:\n%s", name, want, r.Stdout)
		}
	}
}

func TestDumpUsage(t *testing.T) {
	for _, args := range [][]string{
		{"/tmp/x.txt"},
		{"/tmp/notanumber.index"},
		{"/tmp/00000000000000000000.log", "--max-batch-bytes", "10"},
	} {
		if r := run(t, args...); !errors.Is(r.Err, cli.ErrUsage) {
			t.Errorf("%v: error %v, want a usage error", args, r.Err)
		}
	}
	if r := run(t, "/nonexistent/00000000000000000000.log"); !errors.Is(r.Err, cli.ErrFailed) {
		t.Errorf("missing file: %v", r.Err)
	}
}
