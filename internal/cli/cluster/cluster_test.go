package cluster

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"go.uber.org/goleak"

	"github.com/sluicehq/sluice/internal/cli/clitest"
	"github.com/sluicehq/sluice/internal/node/nodetest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestClusterInfo(t *testing.T) {
	c := nodetest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if r, err := c.Admin(t).CreateTopics(ctx, 3, 1, nil, "a", "b"); err != nil || r.Error() != nil {
		t.Fatal(err, r.Error())
	}
	build := func() *cobra.Command { return Command(clitest.Env(c.Addr)) }
	out := clitest.MustRun(t, build, "", "info")
	// The cluster id is the one the node formatted its data with.
	if id := c.Node.ClusterID(); !strings.Contains(out, "ID          "+id+"\n") {
		t.Fatalf("cluster id %s missing:\n%s", id, out)
	}
	host, port, _ := strings.Cut(c.Addr, ":")
	if !strings.Contains(out, "1   "+host+"  "+port+"  -\n") {
		t.Fatalf("broker row missing:\n%s", out)
	}
	clitest.Golden(t, "info", clitest.Mask(strings.ReplaceAll(out, port, "<port>")))
}
