package controller

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/metadata"
)

// threeBrokers is a one-voter controller with brokers 1, 2 and 3 registered and unfenced,
// and a topic "a.b" (3 partitions, RF 2).
func threeBrokers(t *testing.T, extra map[string]string) (*node, map[int32]int64) {
	t.Helper()
	n := openSingle(t, t.TempDir(), testConfig(t, extra))
	epochs := map[int32]int64{}
	for _, id := range []int32{1, 2, 3} {
		epochs[id] = addBroker(t, n, id, "")
	}
	createTopic(t, n, TopicSpec{Name: "a.b", NumPartitions: 3, ReplicationFactor: 2})
	return n, epochs
}

func TestCreateTopicsValidation(t *testing.T) {
	n, _ := threeBrokers(t, nil)
	defer n.close()
	long := strings.Repeat("x", 250)
	tests := []struct {
		name string
		spec TopicSpec
		want error // Kafka error code in the comment
	}{
		{"ok", TopicSpec{Name: "ok", NumPartitions: 2, ReplicationFactor: 3}, nil},
		{"empty name", TopicSpec{Name: "", NumPartitions: 1, ReplicationFactor: 1}, ErrInvalidTopic},                                                        // INVALID_TOPIC_EXCEPTION
		{"dot", TopicSpec{Name: ".", NumPartitions: 1, ReplicationFactor: 1}, ErrInvalidTopic},                                                              // INVALID_TOPIC_EXCEPTION
		{"dotdot", TopicSpec{Name: "..", NumPartitions: 1, ReplicationFactor: 1}, ErrInvalidTopic},                                                          // INVALID_TOPIC_EXCEPTION
		{"bad char", TopicSpec{Name: "a/b", NumPartitions: 1, ReplicationFactor: 1}, ErrInvalidTopic},                                                       // INVALID_TOPIC_EXCEPTION
		{"space", TopicSpec{Name: "a b", NumPartitions: 1, ReplicationFactor: 1}, ErrInvalidTopic},                                                          // INVALID_TOPIC_EXCEPTION
		{"too long", TopicSpec{Name: long, NumPartitions: 1, ReplicationFactor: 1}, ErrInvalidTopic},                                                        // INVALID_TOPIC_EXCEPTION
		{"249 chars ok", TopicSpec{Name: long[:249], NumPartitions: 1, ReplicationFactor: 1}, nil},                                                          //
		{"exists", TopicSpec{Name: "a.b", NumPartitions: 1, ReplicationFactor: 1}, ErrTopicExists},                                                          // TOPIC_ALREADY_EXISTS
		{"collides", TopicSpec{Name: "a_b", NumPartitions: 1, ReplicationFactor: 1}, ErrInvalidTopic},                                                       // INVALID_TOPIC_EXCEPTION
		{"zero partitions", TopicSpec{Name: "p0", NumPartitions: 0, ReplicationFactor: 1}, ErrInvalidPartitions},                                            // INVALID_PARTITIONS
		{"negative partitions", TopicSpec{Name: "pn", NumPartitions: -2, ReplicationFactor: 1}, ErrInvalidPartitions},                                       // INVALID_PARTITIONS
		{"too many partitions", TopicSpec{Name: "pbig", NumPartitions: 1 << 30, ReplicationFactor: 1}, ErrInvalidPartitions},                                // INVALID_PARTITIONS (Sluice's bound)
		{"zero rf", TopicSpec{Name: "r0", NumPartitions: 1, ReplicationFactor: 0}, ErrInvalidReplicationFactor},                                             // INVALID_REPLICATION_FACTOR
		{"rf above brokers", TopicSpec{Name: "r4", NumPartitions: 1, ReplicationFactor: 4}, ErrInvalidReplicationFactor},                                    // INVALID_REPLICATION_FACTOR
		{"bad config", TopicSpec{Name: "c1", NumPartitions: 1, ReplicationFactor: 1, Configs: map[string]string{"retention.ms": "soon"}}, ErrInvalidConfig}, // INVALID_CONFIG
		{"unknown config", TopicSpec{Name: "c2", NumPartitions: 1, ReplicationFactor: 1, Configs: map[string]string{"no.such": "1"}}, ErrInvalidConfig},     // INVALID_CONFIG
		{"assignment ok", TopicSpec{Name: "m1", NumPartitions: -1, ReplicationFactor: -1, Assignments: map[int32][]int32{0: {3, 1}, 1: {1, 2}}}, nil},
		{"assignment with counts", TopicSpec{Name: "m2", NumPartitions: 2, ReplicationFactor: -1, Assignments: map[int32][]int32{0: {1}, 1: {2}}}, ErrInvalidRequest},             // INVALID_REQUEST
		{"assignment with rf", TopicSpec{Name: "m3", NumPartitions: -1, ReplicationFactor: 1, Assignments: map[int32][]int32{0: {1}}}, ErrInvalidRequest},                         // INVALID_REQUEST
		{"assignment gap", TopicSpec{Name: "m4", NumPartitions: -1, ReplicationFactor: -1, Assignments: map[int32][]int32{0: {1}, 2: {2}}}, ErrInvalidReplicaAssignment},          // INVALID_REPLICA_ASSIGNMENT
		{"assignment dup replica", TopicSpec{Name: "m5", NumPartitions: -1, ReplicationFactor: -1, Assignments: map[int32][]int32{0: {1, 1}}}, ErrInvalidReplicaAssignment},       // INVALID_REPLICA_ASSIGNMENT
		{"assignment unknown broker", TopicSpec{Name: "m6", NumPartitions: -1, ReplicationFactor: -1, Assignments: map[int32][]int32{0: {1, 9}}}, ErrInvalidReplicaAssignment},    // INVALID_REPLICA_ASSIGNMENT
		{"assignment empty", TopicSpec{Name: "m7", NumPartitions: -1, ReplicationFactor: -1, Assignments: map[int32][]int32{0: {}}}, ErrInvalidReplicaAssignment},                 // INVALID_REPLICA_ASSIGNMENT
		{"assignment uneven rf", TopicSpec{Name: "m8", NumPartitions: -1, ReplicationFactor: -1, Assignments: map[int32][]int32{0: {1, 2}, 1: {3}}}, ErrInvalidReplicaAssignment}, // INVALID_REPLICA_ASSIGNMENT
	}
	for _, validateOnly := range []bool{true, false} {
		for _, tc := range tests {
			t.Run(fmt.Sprintf("%s/validateOnly=%v", tc.name, validateOnly), func(t *testing.T) {
				before := n.fsm.Current()
				res, off, err := n.ctl.CreateTopics(ctx, []TopicSpec{tc.spec}, validateOnly)
				if err != nil {
					t.Fatal(err)
				}
				wantErr(t, res[0].Err, tc.want)
				_, exists := n.fsm.Current().TopicByName(tc.spec.Name)
				_, existed := before.TopicByName(tc.spec.Name)
				created := exists && !existed
				if created != (tc.want == nil && !validateOnly) || (off != 0) != created {
					t.Fatalf("created %v, offset %d", created, off)
				}
			})
		}
	}
	// Manual assignments keep their order; the first replica leads.
	tp, _ := n.fsm.Current().TopicByName("m1")
	if p := tp.Partitions[0]; !slices.Equal(p.Replicas, []int32{3, 1}) || p.Leader != 3 {
		t.Fatalf("manual partition %+v", p)
	}
	// Duplicates within one request, and a collision between two new names.
	res, _, err := n.ctl.CreateTopics(ctx, []TopicSpec{
		{Name: "dup", NumPartitions: 1, ReplicationFactor: 1},
		{Name: "dup", NumPartitions: 1, ReplicationFactor: 1},
		{Name: "x.y", NumPartitions: 1, ReplicationFactor: 1},
		{Name: "x_y", NumPartitions: 1, ReplicationFactor: 1},
	}, false)
	if err != nil {
		t.Fatal(err)
	}
	wantErr(t, res[0].Err, ErrInvalidRequest) // INVALID_REQUEST
	wantErr(t, res[1].Err, ErrInvalidRequest)
	wantErr(t, res[2].Err, nil)
	wantErr(t, res[3].Err, ErrInvalidTopic) // INVALID_TOPIC_EXCEPTION
	// The config error keeps internal/config's message and kind.
	res, _, _ = n.ctl.CreateTopics(ctx, []TopicSpec{{Name: "c3", NumPartitions: 1, ReplicationFactor: 1, Configs: map[string]string{"retention.ms": "soon"}}}, true)
	if !strings.Contains(res[0].Err.Error(), "retention.ms") || !isConfigErr(res[0].Err, config.ErrInvalidValue) {
		t.Fatalf("config error %v", res[0].Err)
	}
}

func isConfigErr(err, kind error) bool {
	e, ok := err.(*Error)
	return ok && e.Cause != nil && errorsIs(e, kind)
}

func TestPlacementSpreads(t *testing.T) {
	n := openSingle(t, t.TempDir(), testConfig(t, nil))
	defer n.close()
	for id := int32(1); id <= 6; id++ {
		addBroker(t, n, id, fmt.Sprintf("rack%d", id%3))
	}
	createTopic(t, n, TopicSpec{Name: "spread", NumPartitions: 12, ReplicationFactor: 3})
	tp, _ := n.fsm.Current().TopicByName("spread")
	leaders := map[int32]int{}
	for _, p := range tp.Partitions {
		leaders[p.Leader]++
		racks := map[string]bool{}
		for _, r := range p.Replicas {
			b, _ := n.fsm.Current().Broker(r)
			racks[b.Rack] = true
		}
		if len(racks) != 3 || len(p.Replicas) != 3 || !slices.Equal(p.ISR, p.Replicas) || p.Leader != p.Replicas[0] {
			t.Fatalf("partition %d: replicas %v on %d racks, ISR %v, leader %d", p.ID, p.Replicas, len(racks), p.ISR, p.Leader)
		}
	}
	for id := int32(1); id <= 6; id++ {
		if leaders[id] != 2 {
			t.Fatalf("leaders not spread evenly: %v", leaders)
		}
	}
}

func TestDeleteTopics(t *testing.T) {
	n, _ := threeBrokers(t, nil)
	defer n.close()
	created := createTopic(t, n, TopicSpec{Name: "gone", NumPartitions: 1, ReplicationFactor: 1, Configs: map[string]string{"retention.ms": "1"}})
	res, off, err := n.ctl.DeleteTopics(ctx, []TopicRef{
		{Name: "gone"},
		{ID: created.TopicID},       // the same topic by id: removed once
		{Name: "never"},             // UNKNOWN_TOPIC_OR_PARTITION
		{ID: metadata.RandomUUID()}, // UNKNOWN_TOPIC_ID
	})
	if err != nil {
		t.Fatal(err)
	}
	wantErr(t, res[0].Err, nil)
	wantErr(t, res[1].Err, nil)
	wantErr(t, res[2].Err, ErrUnknownTopic)
	wantErr(t, res[3].Err, ErrUnknownTopicID)
	im, _ := n.fsm.WaitForOffset(ctx, off)
	if _, ok := im.TopicByName("gone"); ok || len(im.TopicConfig("gone")) != 0 {
		t.Fatal("topic or its configs remain")
	}
	// Re-creating the name starts clean.
	again := createTopic(t, n, TopicSpec{Name: "gone", NumPartitions: 1, ReplicationFactor: 1})
	if again.TopicID == created.TopicID {
		t.Fatal("topic id reused")
	}

	d, _ := threeBrokers(t, map[string]string{"delete.topic.enable": "false"})
	defer d.close()
	res, off, err = d.ctl.DeleteTopics(ctx, []TopicRef{{Name: "a.b"}})
	if err != nil || off != 0 {
		t.Fatal(err, off)
	}
	wantErr(t, res[0].Err, ErrTopicDeletionDisabled) // TOPIC_DELETION_DISABLED
}

func TestCreatePartitionsValidation(t *testing.T) {
	n, _ := threeBrokers(t, nil)
	defer n.close()
	tests := []struct {
		name string
		spec PartitionsSpec
		want error
	}{
		{"unknown topic", PartitionsSpec{Topic: "nope", Count: 4}, ErrUnknownTopic},                                                 // UNKNOWN_TOPIC_OR_PARTITION
		{"fewer", PartitionsSpec{Topic: "a.b", Count: 2}, ErrInvalidPartitions},                                                     // INVALID_PARTITIONS
		{"same", PartitionsSpec{Topic: "a.b", Count: 3}, ErrInvalidPartitions},                                                      // INVALID_PARTITIONS
		{"assignment count", PartitionsSpec{Topic: "a.b", Count: 5, Assignments: [][]int32{{1, 2}}}, ErrInvalidReplicaAssignment},   // INVALID_REPLICA_ASSIGNMENT
		{"assignment rf", PartitionsSpec{Topic: "a.b", Count: 4, Assignments: [][]int32{{1}}}, ErrInvalidReplicaAssignment},         // INVALID_REPLICA_ASSIGNMENT
		{"assignment dup", PartitionsSpec{Topic: "a.b", Count: 4, Assignments: [][]int32{{1, 1}}}, ErrInvalidReplicaAssignment},     // INVALID_REPLICA_ASSIGNMENT
		{"assignment unknown", PartitionsSpec{Topic: "a.b", Count: 4, Assignments: [][]int32{{1, 8}}}, ErrInvalidReplicaAssignment}, // INVALID_REPLICA_ASSIGNMENT
		{"manual ok", PartitionsSpec{Topic: "a.b", Count: 4, Assignments: [][]int32{{2, 3}}}, nil},
		{"automatic ok", PartitionsSpec{Topic: "a.b", Count: 6}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before, _ := n.fsm.Current().TopicByName("a.b")
			res, _, err := n.ctl.CreatePartitions(ctx, []PartitionsSpec{tc.spec}, false)
			if err != nil {
				t.Fatal(err)
			}
			wantErr(t, res[0].Err, tc.want)
			after, _ := n.fsm.Current().TopicByName("a.b")
			if tc.want == nil && len(after.Partitions) != int(tc.spec.Count) || tc.want != nil && len(after.Partitions) != len(before.Partitions) {
				t.Fatalf("partitions %d → %d", len(before.Partitions), len(after.Partitions))
			}
		})
	}
	tp, _ := n.fsm.Current().TopicByName("a.b")
	if p := tp.Partitions[3]; !slices.Equal(p.Replicas, []int32{2, 3}) || p.Leader != 2 {
		t.Fatalf("manual new partition %+v", p)
	}
	// validateOnly changes nothing.
	res, off, err := n.ctl.CreatePartitions(ctx, []PartitionsSpec{{Topic: "a.b", Count: 10}}, true)
	if err != nil || res[0].Err != nil || off != 0 || len(tp.Partitions) != 6 {
		t.Fatal(err, res, off)
	}
}

func TestAlterConfigs(t *testing.T) {
	n, _ := threeBrokers(t, nil)
	defer n.close()
	topic := metadata.ConfigResource{Type: metadata.ResourceTopic, Name: "a.b"}
	cluster := metadata.ConfigResource{Type: metadata.ResourceBroker, Name: ""}
	broker1 := metadata.ConfigResource{Type: metadata.ResourceBroker, Name: "1"}
	tests := []struct {
		name    string
		spec    IncrementalAlterConfigsSpec
		want    error
		wantCfg map[string]string // resource's configs afterwards (when no error)
	}{
		{"set", IncrementalAlterConfigsSpec{topic, []ConfigChange{{"retention.ms", OpSet, str("1000")}, {"cleanup.policy", OpSet, str("compact")}}}, nil,
			map[string]string{"retention.ms": "1000", "cleanup.policy": "compact"}},
		{"append", IncrementalAlterConfigsSpec{topic, []ConfigChange{{"cleanup.policy", OpAppend, str("delete,compact")}}}, nil,
			map[string]string{"retention.ms": "1000", "cleanup.policy": "compact,delete"}},
		{"subtract", IncrementalAlterConfigsSpec{topic, []ConfigChange{{"cleanup.policy", OpSubtract, str("compact")}}}, nil,
			map[string]string{"retention.ms": "1000", "cleanup.policy": "delete"}},
		{"delete", IncrementalAlterConfigsSpec{topic, []ConfigChange{{"retention.ms", OpDelete, nil}}}, nil,
			map[string]string{"cleanup.policy": "delete"}},
		{"append to non-list", IncrementalAlterConfigsSpec{topic, []ConfigChange{{"retention.ms", OpAppend, str("1")}}}, ErrInvalidConfig, nil},                       // INVALID_CONFIG
		{"bad value", IncrementalAlterConfigsSpec{topic, []ConfigChange{{"retention.ms", OpSet, str("x")}}}, ErrInvalidConfig, nil},                                   // INVALID_CONFIG
		{"unknown topic key", IncrementalAlterConfigsSpec{topic, []ConfigChange{{"nope", OpSet, str("x")}}}, ErrInvalidConfig, nil},                                   // INVALID_CONFIG
		{"null value", IncrementalAlterConfigsSpec{topic, []ConfigChange{{"retention.ms", OpSet, nil}}}, ErrInvalidRequest, nil},                                      // INVALID_REQUEST
		{"key twice", IncrementalAlterConfigsSpec{topic, []ConfigChange{{"retention.ms", OpSet, str("1")}, {"retention.ms", OpDelete, nil}}}, ErrInvalidRequest, nil}, // INVALID_REQUEST
		{"unknown topic", IncrementalAlterConfigsSpec{metadata.ConfigResource{Type: metadata.ResourceTopic, Name: "x"}, nil}, ErrUnknownTopic, nil},                   // UNKNOWN_TOPIC_OR_PARTITION
		{"bad broker name", IncrementalAlterConfigsSpec{metadata.ConfigResource{Type: metadata.ResourceBroker, Name: "b1"}, nil}, ErrInvalidRequest, nil},             // INVALID_REQUEST
		{"unsupported resource", IncrementalAlterConfigsSpec{metadata.ConfigResource{Type: 8, Name: "1"}, nil}, ErrInvalidRequest, nil},                               // INVALID_REQUEST
		{"cluster default", IncrementalAlterConfigsSpec{cluster, []ConfigChange{{"log.cleaner.threads", OpSet, str("2")}}}, nil,
			map[string]string{"log.cleaner.threads": "2"}},
		{"read-only broker key", IncrementalAlterConfigsSpec{broker1, []ConfigChange{{"node.id", OpSet, str("5")}}}, config.ErrReadOnly, nil},                          // INVALID_REQUEST (config.ErrReadOnly)
		{"per-broker key as default", IncrementalAlterConfigsSpec{cluster, []ConfigChange{{"listeners", OpSet, str("PLAINTEXT://:1")}}}, config.ErrPerBrokerOnly, nil}, // INVALID_CONFIG
		{"unknown broker key", IncrementalAlterConfigsSpec{broker1, []ConfigChange{{"no.such.key", OpSet, str("1")}}}, ErrInvalidConfig, nil},                          // INVALID_CONFIG
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := n.fsm.Current()
			res, _, err := n.ctl.IncrementalAlterConfigs(ctx, []IncrementalAlterConfigsSpec{tc.spec}, false)
			if err != nil {
				t.Fatal(err)
			}
			wantErr(t, res[0].Err, tc.want)
			after := n.fsm.Current()
			if tc.want != nil {
				if !maps.Equal(before.Config(tc.spec.Resource), after.Config(tc.spec.Resource)) {
					t.Fatal("a failed change changed the configs")
				}
				return
			}
			if got := after.Config(tc.spec.Resource); !maps.Equal(got, tc.wantCfg) {
				t.Fatalf("configs %v, want %v", got, tc.wantCfg)
			}
		})
	}
	// A read-only key fails as invalid config too, for servers that test only that.
	res, _, _ := n.ctl.IncrementalAlterConfigs(ctx, []IncrementalAlterConfigsSpec{{broker1, []ConfigChange{{"node.id", OpSet, str("5")}}}}, false)
	wantErr(t, res[0].Err, ErrInvalidConfig)

	// Legacy AlterConfigs replaces everything; validateOnly writes nothing.
	ares, off, err := n.ctl.AlterConfigs(ctx, []AlterConfigsSpec{{topic, map[string]string{"segment.bytes": "1048576"}}}, true)
	if err != nil || ares[0].Err != nil || off != 0 {
		t.Fatal(err, ares, off)
	}
	ares, off, err = n.ctl.AlterConfigs(ctx, []AlterConfigsSpec{{topic, map[string]string{"segment.bytes": "1048576"}}}, false)
	if err != nil || ares[0].Err != nil {
		t.Fatal(err, ares)
	}
	im, _ := n.fsm.WaitForOffset(ctx, off)
	if got := im.TopicConfig("a.b"); !maps.Equal(got, map[string]string{"segment.bytes": "1048576"}) {
		t.Fatalf("after replace: %v", got)
	}
	// APPEND on a key the topic does not override starts from the effective default.
	res, _, err = n.ctl.IncrementalAlterConfigs(ctx, []IncrementalAlterConfigsSpec{{topic, []ConfigChange{{"cleanup.policy", OpAppend, str("compact")}}}}, false)
	if err != nil || res[0].Err != nil {
		t.Fatal(err, res)
	}
	if got := n.fsm.Current().TopicConfig("a.b")["cleanup.policy"]; got != "delete,compact" {
		t.Fatalf("append from default gave %q", got)
	}
}
