package configcmd

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"go.uber.org/goleak"

	"github.com/sluicehq/sluice/internal/cli"
	"github.com/sluicehq/sluice/internal/cli/clitest"
	"github.com/sluicehq/sluice/internal/node/nodetest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestConfigGetSet(t *testing.T) {
	c := nodetest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if r, err := c.Admin(t).CreateTopic(ctx, 1, 1, nil, "orders"); err != nil || r.Err != nil {
		t.Fatal(err, r.Err)
	}
	build := func() *cobra.Command { return Command(clitest.Env(c.Addr)) }
	var out strings.Builder
	step := func(args ...string) {
		t.Helper()
		out.WriteString("$ sluice config " + strings.Join(args, " ") + "\n")
		out.WriteString(clitest.Mask(clitest.MustRun(t, build, "", args...)))
	}
	step("get", "topic", "orders", "retention.ms", "cleanup.policy")
	step("set", "topic", "orders", "retention.ms=3600000", "cleanup.policy=compact")
	step("get", "topic", "orders", "retention.ms", "cleanup.policy")
	step("set", "topic", "orders", "--delete", "cleanup.policy", "--dry-run")
	step("set", "topic", "orders", "--delete", "cleanup.policy")
	step("get", "topic", "orders", "retention.ms", "cleanup.policy")
	step("get", "broker", "1", "log.retention.hours", "num.partitions")
	step("set", "broker", "default", "log.retention.ms=7200000")
	step("get", "broker", "default", "log.retention.ms", "log.cleaner.threads")
	// The topic's default follows the new cluster-wide broker default.
	step("set", "topic", "orders", "--delete", "retention.ms")
	step("get", "topic", "orders", "retention.ms")
	step("set", "broker", "1", "log.retention.ms=1800000")
	step("get", "broker", "1", "log.retention.ms")
	step("get", "topic", "orders", "retention.ms")
	clitest.Golden(t, "getset", out.String())

	// The full listing has every topic config, with sources.
	full := clitest.MustRun(t, build, "", "get", "topic", "orders")
	for _, want := range []string{"KEY", "segment.bytes", "DEFAULT_CONFIG", "retention.ms", "DYNAMIC_BROKER_CONFIG"} {
		if !strings.Contains(full, want) {
			t.Errorf("full listing lacks %q:\n%s", want, full)
		}
	}

	for _, tc := range []struct {
		args  []string
		usage bool
		msg   string
	}{
		{[]string{"get", "group", "g"}, true, "topic or broker"},
		{[]string{"get", "broker", "one"}, true, "node id or `default`"},
		{[]string{"set", "topic", "orders"}, true, "nothing to change"},
		{[]string{"set", "topic", "orders", "a"}, true, "key=value"},
		{[]string{"set", "topic", "orders", "a=1", "--delete", "a"}, true, "also set"},
		{[]string{"get", "topic", "missing"}, false, "UNKNOWN_TOPIC_OR_PARTITION"},
		{[]string{"get", "topic", "orders", "no.such.key"}, false, "has no config no.such.key"},
		{[]string{"set", "topic", "orders", "retention.ms=soon"}, false, "was not changed"},
		{[]string{"set", "broker", "1", "node.id=7"}, false, "was not changed"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			r := clitest.Run(t, build, "", tc.args...)
			if r.Err == nil || errors.Is(r.Err, cli.ErrUsage) != tc.usage || !strings.Contains(r.Err.Error(), tc.msg) {
				t.Fatalf("error %v, want one saying %q (usage %v)\n%s", r.Err, tc.msg, tc.usage, r.Stdout)
			}
		})
	}
}
