package server_test

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluicehq/sluice/internal/node/nodetest"
)

// group848Props make KIP-848 sessions and heartbeats short enough for tests: the broker
// sets both for consumer-protocol members.
var group848Props = map[string]string{
	"group.consumer.min.session.timeout.ms":    "100",
	"group.consumer.session.timeout.ms":        "1500",
	"group.consumer.min.heartbeat.interval.ms": "50",
	"group.consumer.heartbeat.interval.ms":     "100",
}

// KIP-848 consumers (franz-go's ServerSideBalancer, with the range and uniform assignors)
// run the balancer scenario: join, leave gracefully and crash, one to six members on a
// 12-partition topic. After every rebalance each partition has exactly one owner; no record
// is processed by two members in the same member epoch; every record is processed.
func TestGroup848Balancers(t *testing.T) {
	c := nodetest.Start(t, nodetest.Config(group848Props))
	adm := c.Admin(t)
	tests := []struct {
		name     string
		balancer kgo.GroupBalancer // franz-go names the server assignor by its balancer
	}{
		{"range", kgo.RangeBalancer()},
		{"uniform", kgo.StickyBalancer()},
	}
	for _, tt := range tests {
		topic, group := "bal848-"+tt.name, "grp848-"+tt.name
		createTopic(t, adm, topic, groupPartitions, nil)
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			runBalancerScenario(t, c, topic, group, memberOpts{balancer: tt.balancer, serverSide: true})
			if typ := groupType(t, c, group); typ != "consumer" {
				t.Fatalf("group %s is of type %q, want consumer (the members used KIP-848)", group, typ)
			}
		})
	}
}

// groupType returns a group's type as ListGroups v5 reports it ("" when not listed).
func groupType(t *testing.T, c *nodetest.Cluster, group string) string {
	t.Helper()
	cl := c.Client(t)
	req := kmsg.NewPtrListGroupsRequest()
	resp, err := req.RequestWith(kgoCtx(t), cl)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range resp.Groups {
		if g.Group == group {
			return g.GroupType
		}
	}
	return ""
}
