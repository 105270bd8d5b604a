package server

import (
	"context"
	"log/slog"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/controller"
)

// AdminDeps are the components only the metadata and administration handlers use
// (Metadata, CreateTopics, DeleteTopics, CreatePartitions, DescribeConfigs, AlterConfigs,
// IncrementalAlterConfigs, DescribeCluster, DescribeTopicPartitions). See Deps.
type AdminDeps struct {
	// Controller makes the changes that go through the metadata log: topic creation
	// (CreateTopics, Metadata's auto-creation), deletion, partition increases and dynamic
	// configs. Its offsets are raft indexes that Deps.Metadata.WaitForOffset understands.
	// On a combined node it is the local *controller.Controller; a broker-only node will
	// reach the active controller over the network through the same interface. Nil makes
	// those requests fail with NOT_CONTROLLER (retriable: clients refresh and retry).
	Controller AdminController

	// Config returns the broker's current configuration (static settings with the
	// dynamic broker configs applied), read on every request because dynamic broker
	// configs replace it at runtime. Nil means the server's own (Options.Config, as
	// replaced by Reconfigure).
	Config func() *config.Broker

	// WaitApplied, when set, returns once this broker has acted on the metadata image at
	// offset (replicas made or removed, topic configs applied to its partitions, dynamic
	// broker configs swapped in), or ctx ends. The handlers that change metadata call it
	// before answering, so the client's next request here already sees the change take
	// effect (a lowered max.message.bytes refuses the next produce). Nil waits for the
	// image only (Deps.Metadata.WaitForOffset), which the node's metadata subscriber
	// follows shortly after.
	WaitApplied func(ctx context.Context, offset uint64) error

	// LogLevel, when set, is the level of the node's logger: DescribeConfigs and
	// IncrementalAlterConfigs serve it as the BROKER_LOGGER resource's one logger, "root"
	// (Kafka's log4j root logger), so `kafka-configs --entity-type broker-loggers` can read
	// and change it at runtime. Nil answers BROKER_LOGGER requests with INVALID_REQUEST.
	LogLevel *slog.LevelVar
}

// AdminController is what the administration handlers need of the active controller; the
// methods are those of *controller.Controller. Per-item results carry *controller.Error
// values whose Error() is the client message; the returned offset is the commit's raft
// index (0 when nothing was written); the error is for the request as a whole.
type AdminController interface {
	CreateTopics(ctx context.Context, specs []controller.TopicSpec, validateOnly bool) ([]controller.TopicResult, uint64, error)
	DeleteTopics(ctx context.Context, refs []controller.TopicRef) ([]controller.DeleteTopicResult, uint64, error)
	CreatePartitions(ctx context.Context, specs []controller.PartitionsSpec, validateOnly bool) ([]controller.PartitionsResult, uint64, error)
	AlterConfigs(ctx context.Context, specs []controller.AlterConfigsSpec, validateOnly bool) ([]controller.ConfigResult, uint64, error)
	IncrementalAlterConfigs(ctx context.Context, specs []controller.IncrementalAlterConfigsSpec, validateOnly bool) ([]controller.ConfigResult, uint64, error)
	// Active reports whether this node is the active controller and otherwise which node
	// is (-1 when unknown): DescribeCluster on a controller listener names it.
	Active() (active bool, leaderID int32)
}

// The combined node passes its controller directly.
var _ AdminController = (*controller.Controller)(nil)
