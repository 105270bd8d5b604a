package group

import (
	"context"
	"errors"
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

// A group's life as an operator sees it: a member consumes and commits, describe shows
// members and lag, seek refuses while the member is there, then resets offsets (start,
// end, offset, time, dry run), and delete removes the group.
func TestGroupLifecycle(t *testing.T) {
	c := nodetest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	adm := c.Admin(t)
	if r, err := adm.CreateTopic(ctx, 2, 1, nil, "orders"); err != nil || r.Err != nil {
		t.Fatal(err, r.Err)
	}
	prod := c.Client(t, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	for i, p := range []int32{0, 0, 0, 1, 1} {
		r := &kgo.Record{Topic: "orders", Partition: p, Value: []byte("v"), Timestamp: time.UnixMilli(int64(1000 * (i + 1)))}
		if err := prod.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	// A member reads 3 records and commits them.
	member, err := kgo.NewClient(kgo.SeedBrokers(c.Addr), kgo.ConsumerGroup("billing"), kgo.ConsumeTopics("orders"),
		kgo.ClientID("billing-app"), kgo.DisableAutoCommit(), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer member.Close()
	var recs []*kgo.Record
	for len(recs) < 5 {
		fs := member.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatal("member read nothing")
		}
		recs = append(recs, fs.Records()...)
	}
	var commit []*kgo.Record
	for _, r := range recs {
		if r.Partition == 0 && r.Offset < 2 || r.Partition == 1 && r.Offset < 1 {
			commit = append(commit, r)
		}
	}
	if err := member.CommitRecords(ctx, commit...); err != nil {
		t.Fatal(err)
	}

	build := func() *cobra.Command { return Command(clitest.Env(c.Addr)) }
	var out strings.Builder
	step := func(args ...string) {
		t.Helper()
		out.WriteString("$ sluice group " + strings.Join(args, " ") + "\n")
		out.WriteString(clitest.Mask(clitest.MustRun(t, build, "", args...)))
	}
	step("list")
	step("describe", "billing")
	r := clitest.Run(t, build, "", "seek", "billing", "--to", "start")
	if !errors.Is(r.Err, cli.ErrFailed) || !strings.Contains(r.Err.Error(), "stop its consumers first") {
		t.Fatalf("seek of an active group: %v", r.Err)
	}
	r = clitest.Run(t, build, "", "delete", "billing")
	if !errors.Is(r.Err, cli.ErrFailed) || !strings.Contains(r.Stdout, "NON_EMPTY_GROUP") {
		t.Fatalf("delete of an active group: %v\n%s", r.Err, r.Stdout)
	}
	member.Close()
	step("list", "--state", "Empty")
	step("describe", "billing")
	step("seek", "billing", "--to", "start", "--dry-run")
	step("seek", "billing", "--to", "end")
	step("seek", "billing", "--to", "1")
	step("seek", "billing", "--to", "@4000")
	step("seek", "billing", "--to", "99")
	step("describe", "billing")
	step("seek", "fresh", "--to", "start", "--topics", "orders")
	step("delete", "billing", "fresh")
	step("list")
	clitest.Golden(t, "lifecycle", out.String())
}

func TestGroupErrors(t *testing.T) {
	c := nodetest.Start(t)
	build := func() *cobra.Command { return Command(clitest.Env(c.Addr)) }
	for _, tc := range []struct {
		args  []string
		usage bool
		msg   string
	}{
		{[]string{"seek", "g"}, true, "--to is required"},
		{[]string{"seek", "g", "--to", "middle"}, true, "--to must be"},
		{[]string{"seek", "g", "--to", "start"}, true, "no committed offsets"},
		{[]string{"seek", "g", "--to", "start", "--topics", "missing"}, false, "does every topic exist"},
		{[]string{"describe", "nobody"}, false, "could not be described"},
		{[]string{"delete", "nobody"}, false, "were not deleted"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			r := clitest.Run(t, build, "", tc.args...)
			if r.Err == nil || errors.Is(r.Err, cli.ErrUsage) != tc.usage || !strings.Contains(r.Err.Error(), tc.msg) {
				t.Fatalf("error %v, want one saying %q (usage %v)\n%s", r.Err, tc.msg, tc.usage, r.Stdout)
			}
		})
	}
}
