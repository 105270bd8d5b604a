package group

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicehq/sluice/internal/protocol/kerr"
	"github.com/sluicehq/sluice/internal/replica"
)

// Options configure a Coordinator.
type Options struct {
	Config Config
	// Replicas is the broker's replica manager: the coordinator watches its
	// __consumer_offsets partitions' high watermarks through it.
	Replicas *replica.Manager
	Logger   *slog.Logger
	// Now is the clock (tests); nil is time.Now.
	Now func() time.Time
}

// Coordinator is the broker's group coordinator. It holds one shard per __consumer_offsets
// partition this broker leads (Elect/Resign, from the node's metadata subscriber) and routes
// each request to the shard of its group. All methods are safe for concurrent use.
type Coordinator struct {
	cfg      Config
	replicas *replica.Manager
	log      *slog.Logger
	now      func() time.Time

	// partitions is the partition count of __consumer_offsets used for placement.
	partitions atomic.Int32
	// topics is the cluster's topics for KIP-848 assignment (SetTopics).
	topics atomic.Pointer[topicImage]

	mu struct {
		sync.Mutex
		shards map[int32]*shard
		closed bool
	}
}

// New returns a coordinator with no shards.
func New(opts Options) (*Coordinator, error) {
	if err := opts.Config.Validate(); err != nil {
		return nil, err
	}
	if opts.Replicas == nil {
		return nil, fmt.Errorf("%w: no replica manager", ErrInvalidConfig)
	}
	c := &Coordinator{cfg: opts.Config, replicas: opts.Replicas, log: opts.Logger, now: opts.Now}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.now == nil {
		c.now = time.Now
	}
	c.partitions.Store(opts.Config.OffsetsTopicNumPartitions)
	c.mu.shards = map[int32]*shard{}
	return c, nil
}

// Config returns the coordinator's configuration.
func (c *Coordinator) Config() Config { return c.cfg }

// SetPartitionCount sets the partition count of __consumer_offsets as the metadata has it.
// Placement must use the topic's actual count, which only differs from
// offsets.topic.num.partitions when the setting was changed after the topic was created.
func (c *Coordinator) SetPartitionCount(n int32) {
	if n > 0 {
		c.partitions.Store(n)
	}
}

// PartitionFor returns the __consumer_offsets partition of a group:
// abs(javaHashCode(groupID)) % partitions, as Kafka places groups.
func (c *Coordinator) PartitionFor(groupID string) int32 {
	return partitionFor(groupID, c.partitions.Load())
}

// Elect makes this broker the coordinator of a __consumer_offsets partition it now leads in
// leaderEpoch: a shard starts and loads the partition's groups and offsets from p's log in
// the background (requests meanwhile get COORDINATOR_LOAD_IN_PROGRESS). A shard of an older
// epoch is unloaded first; the same epoch again changes nothing.
func (c *Coordinator) Elect(partition, leaderEpoch int32, p *replica.Partition) {
	c.mu.Lock()
	if c.mu.closed {
		c.mu.Unlock()
		return
	}
	old := c.mu.shards[partition]
	if old != nil && old.epoch >= leaderEpoch && old.p == p {
		c.mu.Unlock()
		return
	}
	s := newShard(c, partition, leaderEpoch, p)
	c.mu.shards[partition] = s
	c.mu.Unlock()
	if old != nil {
		old.stop()
	}
	s.log.Info("loading group coordinator")
	s.start()
}

// Resign unloads the shard of a partition this broker no longer leads (a follower now, or
// the replica removed). leaderEpoch is the new epoch, or -1 to unload whatever is there.
// Waiters get NOT_COORDINATOR and find the new coordinator.
func (c *Coordinator) Resign(partition, leaderEpoch int32) {
	c.mu.Lock()
	s := c.mu.shards[partition]
	if s == nil || leaderEpoch >= 0 && s.epoch > leaderEpoch {
		c.mu.Unlock()
		return
	}
	delete(c.mu.shards, partition)
	c.mu.Unlock()
	s.stop()
	s.log.Info("group coordinator unloaded")
}

// Close unloads every shard and waits for their goroutines. Later Elect calls do nothing.
func (c *Coordinator) Close() {
	c.mu.Lock()
	c.mu.closed = true
	shards := c.mu.shards
	c.mu.shards = map[int32]*shard{}
	c.mu.Unlock()
	for _, s := range shards {
		s.cancel()
	}
	for _, s := range shards {
		s.stop()
	}
}

// shardFor returns the shard of a group: NOT_COORDINATOR when this broker does not lead its
// partition.
func (c *Coordinator) shardFor(groupID string) (*shard, error) {
	p := c.PartitionFor(groupID)
	c.mu.Lock()
	s := c.mu.shards[p]
	c.mu.Unlock()
	if s == nil {
		return nil, kerr.NotCoordinator
	}
	return s, nil
}

// shards returns the shards in partition order.
func (c *Coordinator) shards() []*shard {
	c.mu.Lock()
	out := make([]*shard, 0, len(c.mu.shards))
	for _, s := range c.mu.shards {
		out = append(out, s)
	}
	c.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].partition < out[j].partition })
	return out
}

// Loaded reports whether the coordinator serves a partition, loaded: for tests and
// readiness checks.
func (c *Coordinator) Loaded(partition int32) bool {
	c.mu.Lock()
	s := c.mu.shards[partition]
	c.mu.Unlock()
	return s != nil && shardState(s.state.Load()) == shardActive
}

// WaitLoaded waits until every shard that exists now has loaded, or ctx ends.
func (c *Coordinator) WaitLoaded(ctx context.Context) error {
	for _, s := range c.shards() {
		for shardState(s.state.Load()) == shardLoading {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-s.done:
			case <-time.After(time.Millisecond):
			}
		}
	}
	return nil
}

// Request is what the coordinator needs to know of a request besides its body.
type Request struct {
	// Version is the request's API version: responses are shaped for it.
	Version int16
	// ClientID is the request header's client id.
	ClientID string
	// ClientHost is the client's address as Kafka reports it ("/127.0.0.1").
	ClientHost string
}
