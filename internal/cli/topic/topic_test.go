package topic

import (
	"errors"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"go.uber.org/goleak"

	"github.com/sluicehq/sluice/internal/cli"
	"github.com/sluicehq/sluice/internal/cli/clitest"
	"github.com/sluicehq/sluice/internal/node/nodetest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The life of a topic as a user drives it: create, list, describe, change a config, add
// partitions, delete; outputs pinned by golden files.
func TestTopicLifecycle(t *testing.T) {
	c := nodetest.Start(t)
	build := func() *cobra.Command { return Command(clitest.Env(c.Addr)) }
	run := func(args ...string) string { t.Helper(); return clitest.MustRun(t, build, "", args...) }

	var out strings.Builder
	step := func(args ...string) {
		t.Helper()
		out.WriteString("$ sluice topic " + strings.Join(args, " ") + "\n")
		out.WriteString(clitest.Mask(dropDefaults(run(args...))))
	}
	step("create", "orders", "-p", "2", "-c", "retention.ms=3600000")
	step("create", "logs", "-c", "cleanup.policy=compact", "--dry-run")
	step("list")
	step("create", "orders", "--if-not-exists")
	step("describe", "orders")
	step("alter-config", "orders", "--set", "segment.bytes=1048576", "--delete", "retention.ms")
	step("describe", "orders", "-c")
	step("add-partitions", "orders", "-n", "1")
	step("describe", "orders", "-p", "-s")
	step("list", "-i")
	step("delete", "orders")
	step("list")
	clitest.Golden(t, "lifecycle", out.String())
}

// Failures name what failed, exit 1 (not usage), and the table still shows each topic.
func TestTopicFailures(t *testing.T) {
	c := nodetest.Start(t)
	build := func() *cobra.Command { return Command(clitest.Env(c.Addr)) }
	clitest.MustRun(t, build, "", "create", "exists")
	for _, tc := range []struct {
		name   string
		args   []string
		stdout []string
		errSub string
	}{
		{"already exists", []string{"create", "exists", "fresh"}, []string{"TOPIC_ALREADY_EXISTS: Topic 'exists' already exists.", "fresh   OK"}, "1 of 2 topics failed"},
		{"bad config", []string{"create", "bad", "-c", "retention.ms=soon"}, []string{"INVALID_CONFIG"}, "1 of 1"},
		{"unknown config", []string{"alter-config", "exists", "--set", "no.such.key=1"}, []string{"exists"}, "1 of 1"},
		{"describe missing", []string{"describe", "missing"}, nil, "topic missing does not exist"},
		{"delete missing", []string{"delete", "missing"}, []string{"UNKNOWN_TOPIC_OR_PARTITION"}, "1 of 1"},
		{"fewer partitions", []string{"add-partitions", "missing", "-n", "1"}, []string{"UNKNOWN_TOPIC_OR_PARTITION"}, "1 of 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := clitest.Run(t, build, "", tc.args...)
			if !errors.Is(r.Err, cli.ErrFailed) || errors.Is(r.Err, cli.ErrUsage) || !strings.Contains(r.Err.Error(), tc.errSub) {
				t.Fatalf("error %v, want a failure saying %q\n%s", r.Err, tc.errSub, r.Stdout)
			}
			for _, s := range tc.stdout {
				if !strings.Contains(r.Stdout, s) {
					t.Errorf("stdout lacks %q:\n%s", s, r.Stdout)
				}
			}
		})
	}
}

// dropDefaults leaves out config rows at their default (but cleanup.policy), so that a new
// topic config in internal/config does not change the golden files.
func dropDefaults(s string) string {
	var b strings.Builder
	for _, l := range strings.SplitAfter(s, "\n") {
		if strings.HasSuffix(l, "DEFAULT_CONFIG\n") && !strings.HasPrefix(l, "cleanup.policy ") {
			continue
		}
		b.WriteString(l)
	}
	return b.String()
}

func TestTopicUsageErrors(t *testing.T) {
	build := func() *cobra.Command { return Command(clitest.Env("127.0.0.1:1")) }
	for _, args := range [][]string{
		{"create", "t", "-p", "0"},
		{"create", "t", "-r", "-2"},
		{"create", "t", "-c", "novalue"},
		{"create", "t", "-c", "a=1", "-c", "a=2"},
		{"alter-config", "t"},
		{"alter-config", "t", "--set", "a=1", "--delete", "a"},
		{"add-partitions", "t"},
		{"create", "t", "-b", "nohostport"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			r := clitest.Run(t, build, "", args...)
			if !errors.Is(r.Err, cli.ErrUsage) {
				t.Fatalf("error %v, want a usage error", r.Err)
			}
		})
	}
	// Nothing listens on port 1: the error says so and what to do.
	r := clitest.Run(t, build, "", "list")
	if !errors.Is(r.Err, cli.ErrUnreachable) || !strings.Contains(r.Err.Error(), "sluice serve") ||
		!strings.Contains(r.Err.Error(), "SLUICE_BROKERS") {
		t.Fatalf("unreachable broker: %v", r.Err)
	}
}
