package node_test

import (
	"context"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/goleak"

	"github.com/sluicehq/sluice/internal/node/nodetest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// ApiVersions answers end to end through a started node, before and after a clean restart,
// and the restart finds the clean-shutdown marker.
func TestStartRestartApiVersions(t *testing.T) {
	c := nodetest.Start(t)
	if c.Node.HadCleanShutdown() {
		t.Fatal("a fresh node reports a clean shutdown before it ever ran")
	}
	cl := c.Client(t)
	apiVersions := func() *kmsg.ApiVersionsResponse {
		t.Helper()
		req := kmsg.NewPtrApiVersionsRequest()
		req.ClientSoftwareName, req.ClientSoftwareVersion = "nodetest", "1.0"
		resp, err := req.RequestWith(context.Background(), cl)
		if err != nil {
			t.Fatal(err)
		}
		if resp.ErrorCode != 0 || len(resp.ApiKeys) == 0 {
			t.Fatalf("ApiVersions: error %d, %d keys", resp.ErrorCode, len(resp.ApiKeys))
		}
		return resp
	}
	first := apiVersions()
	clusterID := c.Node.ClusterID()
	port := c.Port("PLAINTEXT")

	c.Restart(t)
	if !c.Node.HadCleanShutdown() {
		t.Fatal("restart after a clean stop did not find the clean-shutdown marker")
	}
	if got := c.Node.ClusterID(); got != clusterID {
		t.Fatalf("cluster id changed across restart: %s -> %s", clusterID, got)
	}
	if got := c.Port("PLAINTEXT"); got != port {
		t.Fatalf("port changed across restart: %d -> %d", port, got)
	}
	second := apiVersions()
	if len(second.ApiKeys) != len(first.ApiKeys) {
		t.Fatalf("advertised %d APIs before restart, %d after", len(first.ApiKeys), len(second.ApiKeys))
	}
	if second.FinalizedFeaturesEpoch < 0 || len(second.FinalizedFeatures) == 0 {
		t.Fatalf("no finalized features after start: epoch %d, %v", second.FinalizedFeaturesEpoch, second.FinalizedFeatures)
	}
}
