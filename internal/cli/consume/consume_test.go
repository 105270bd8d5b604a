package consume

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
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

// fixture makes topic "t" with 2 partitions and 5 records at fixed times (partition 0:
// offsets 0-2 at 1000, 2000, 3000 ms; partition 1: offsets 0-1 at 1500, 2500 ms), and
// topic "u" with one record.
func fixture(t *testing.T) *nodetest.Cluster {
	t.Helper()
	c := nodetest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	adm := c.Admin(t)
	for topic, parts := range map[string]int32{"t": 2, "u": 1} {
		resp, err := adm.CreateTopic(ctx, parts, 1, nil, topic)
		if err == nil {
			err = resp.Err
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	cl := c.Client(t, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	rec := func(topic string, p int32, ms int64, k, v string, hs ...kgo.RecordHeader) *kgo.Record {
		r := &kgo.Record{Topic: topic, Partition: p, Timestamp: time.UnixMilli(ms), Value: []byte(v), Headers: hs}
		if k != "" {
			r.Key = []byte(k)
		}
		return r
	}
	h := kgo.RecordHeader{Key: "src", Value: []byte("test")}
	for _, r := range []*kgo.Record{
		rec("t", 0, 1000, "alice", "a1", h), rec("t", 0, 2000, "bob", "b1"), rec("t", 0, 3000, "", "n1"),
		rec("t", 1, 1500, "carol", "c1"), rec("t", 1, 2500, "dave", "d1", h, h),
		rec("u", 0, 4000, "eve", "e1"),
	} {
		if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// Starts, stops and formats, direct and in a group; the outputs are pinned.
func TestConsume(t *testing.T) {
	c := fixture(t)
	build := func() *cobra.Command { return Command(clitest.Env(c.Addr)) }
	var out strings.Builder
	step := func(args ...string) {
		t.Helper()
		out.WriteString("$ sluice consume " + strings.Join(args, " ") + "\n")
		got := clitest.MustRun(t, build, "", args...)
		if !strings.Contains(strings.Join(args, " "), "-p") && !strings.Contains(strings.Join(args, " "), "-n") {
			got = sortLines(got) // partitions interleave in any order
		}
		out.WriteString(got)
	}
	f := `%t %p %o %T key=%k value=%v headers=%h %K/%V\n`
	step("t", "-e", "-f", f)
	step("t", "-p", "0", "-o", "1", "-e", "-f", f)
	step("t", "-o", "1", "-e")
	step("t", "-p", "1", "-o", "@2000", "-e")
	step("t", "-o", "@3000", "-e")
	step("t", "-o", "end", "-e")
	step("t", "-o", "99", "-e")
	step("t", "-p", "0", "-n", "2", "-f", "json")
	step("t", "u", "-e", "-f", `%t:%v\n`)
	// A group: -n stops after 2 records and commits exactly those; the next run goes on
	// from there to the end; a third finds nothing left.
	step("t", "-g", "g1", "-n", "2", "-f", `%p:%o %v\n`)
	step("t", "-g", "g1", "-e", "-f", `%p:%o %v\n`)
	step("t", "-g", "g1", "-e")
	// -o applies only where the group has no committed offset; a run that printed
	// nothing commits nothing (unlike Kafka's console consumer, which commits the
	// position it reset to), so -o start then reads from the start.
	step("t", "-g", "g2", "-o", "end", "-e")
	step("t", "-g", "g2", "-o", "start", "-e")
	clitest.Golden(t, "consume", out.String())

	offs, err := c.Admin(t).FetchOffsets(context.Background(), "g1")
	if err != nil {
		t.Fatal(err)
	}
	for p, want := range map[int32]int64{0: 3, 1: 2} {
		if o, ok := offs.Lookup("t", p); !ok || o.At != want {
			t.Errorf("g1 committed %+v for partition %d, want %d", o, p, want)
		}
	}
}

func sortLines(s string) string {
	lines := strings.SplitAfter(s, "\n")
	for i := 1; i < len(lines); i++ {
		for j := i; j > 0 && lines[j] < lines[j-1]; j-- {
			lines[j], lines[j-1] = lines[j-1], lines[j]
		}
	}
	return strings.Join(lines, "")
}

// An interrupt ends an open-ended consume with success, after what was there is printed.
func TestConsumeInterrupt(t *testing.T) {
	c := fixture(t)
	for _, group := range []string{"", "gi"} {
		ctx, cancel := context.WithCancel(context.Background())
		var out lockedBuffer
		done := make(chan error, 1)
		conn := connect.Flags{Brokers: []string{c.Addr}}
		go func() {
			done <- Run(ctx, &conn, Config{Topics: []string{"u"}, Group: group, Offset: "start", Format: `%v\n`,
				FetchMaxWait: 100 * time.Millisecond}, &out, &bytes.Buffer{})
		}()
		deadline := time.Now().Add(20 * time.Second)
		for !strings.Contains(out.String(), "e1") && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("group %q: interrupted consume returned %v", group, err)
		}
		if out.String() != "e1\n" {
			t.Fatalf("group %q: printed %q", group, out.String())
		}
	}
}

// lockedBuffer is written by the consumer's goroutine and read by the test.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestConsumeErrors(t *testing.T) {
	c := fixture(t)
	build := func() *cobra.Command { return Command(clitest.Env(c.Addr)) }
	for _, tc := range []struct {
		args  []string
		usage bool
		msg   string
	}{
		{[]string{"t", "-o", "middle"}, true, "-o must be"},
		{[]string{"t", "-o", "@yesterday"}, true, "RFC 3339"},
		{[]string{"t", "-g", "g", "-p", "0"}, true, "exclude each other"},
		{[]string{"t", "-f", "%z"}, true, "%z"},
		{[]string{"t", "-n", "-1"}, true, "-n"},
		{[]string{"missing", "-e"}, false, "topic missing does not exist"},
		{[]string{"t", "-p", "7", "-e"}, false, "no partition 7"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			r := clitest.Run(t, build, "", tc.args...)
			if r.Err == nil || errors.Is(r.Err, cli.ErrUsage) != tc.usage || !strings.Contains(r.Err.Error(), tc.msg) {
				t.Fatalf("error %v, want one saying %q (usage %v)", r.Err, tc.msg, tc.usage)
			}
		})
	}
}
