package node

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strconv"
	"sync"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/metadata"
	"github.com/sluicehq/sluice/internal/quorum"
	"github.com/sluicehq/sluice/internal/replica"
	"github.com/sluicehq/sluice/internal/server"
	"github.com/sluicehq/sluice/internal/storage"
)

// subscriber turns metadata deltas into replica calls (Kafka's BrokerMetadataPublisher): it
// makes this broker leader or follower of the partitions assigned to it, removes the
// replicas (and logs) of deleted topics and of partitions moved away, applies changed topic
// configs to live partitions, and layers dynamic broker configs over the static ones.
//
// It runs on the FSM's publisher goroutine, one delta at a time in commit order, so it needs
// no lock of its own for the replica calls; mu guards only what other goroutines read.
type subscriber struct {
	n      *Node
	self   int32
	ctx    context.Context // cancelled by close: replica calls in progress give up
	cancel context.CancelFunc
	first  bool // the first call sees every topic as created; strays are cleaned then

	mu struct {
		sync.Mutex
		applied uint64        // offset of the last image handled
		advance chan struct{} // closed and replaced whenever applied grows
		srv     *server.Server
		closed  bool
	}
}

func newSubscriber(n *Node) *subscriber {
	s := &subscriber{n: n, self: n.static.NodeID, first: true}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.mu.advance = make(chan struct{})
	return s
}

func (s *subscriber) close() {
	s.cancel()
	s.mu.Lock()
	s.mu.closed = true
	s.mu.Unlock()
}

// setServer hands over the server to reconfigure on dynamic broker config changes, and
// applies the current config in case one arrived while the server was being built.
func (s *subscriber) setServer(srv *server.Server) {
	if s == nil {
		return
	}
	s.mu.Lock()
	s.mu.srv = srv
	s.mu.Unlock()
	srv.Reconfigure(s.n.cfg.Load())
}

// waitApplied returns once the image at offset off (or a later one) has been handled.
func (s *subscriber) waitApplied(ctx context.Context, off uint64) error {
	for {
		s.mu.Lock()
		applied, ch, closed := s.mu.applied, s.mu.advance, s.mu.closed
		s.mu.Unlock()
		if applied >= off {
			return nil
		}
		if closed {
			return metadata.ErrClosed
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// apply is the FSM subscription callback.
func (s *subscriber) apply(prev, next *metadata.Image, d *metadata.Delta) {
	ctx := s.ctx
	log := s.n.log.With("component", "metadata-publisher")

	brokerChanged := false
	topicConfigChanged := map[string]bool{}
	for _, r := range d.ChangedConfigs {
		switch r.Type {
		case metadata.ResourceBroker:
			if r.Name == "" || r.Name == strconv.Itoa(int(s.self)) {
				brokerChanged = true
			}
		case metadata.ResourceTopic:
			topicConfigChanged[r.Name] = true
		}
	}
	if brokerChanged {
		s.reconfigure(next, log)
	}
	cfg := s.n.cfg.Load()

	s.coordinateTopics(next, d) // groups.go

	// Deletions first: a topic deleted and re-created under the same name within one
	// coalesced delta must lose its old log before the new one is made.
	for _, t := range d.DeletedTopics {
		for _, p := range t.Partitions {
			tp := storage.TopicPartition{Topic: t.Name, Partition: p.ID}
			if err := s.n.replicas.Remove(ctx, tp, true); err != nil && !errors.Is(err, replica.ErrUnknownPartition) {
				log.Error("removing a deleted topic's replica", slog.String("partition", tp.String()), slog.Any("err", err))
			}
		}
	}

	remade := map[storage.TopicPartition]bool{}
	for _, ref := range d.ChangedPartitions {
		t, ok := next.TopicByID(ref.TopicID)
		if !ok {
			continue
		}
		p := t.Partition(ref.Partition)
		if p == nil {
			continue
		}
		tp := storage.TopicPartition{Topic: t.Name, Partition: p.ID}
		if !slices.Contains(p.Replicas, s.self) {
			if was, ok := prev.TopicByID(ref.TopicID); ok {
				if wp := was.Partition(ref.Partition); wp != nil && slices.Contains(wp.Replicas, s.self) {
					s.coordinate(tp, -1, nil, false)
					if err := s.n.replicas.Remove(ctx, tp, true); err != nil && !errors.Is(err, replica.ErrUnknownPartition) {
						log.Error("removing a replica moved away", slog.String("partition", tp.String()), slog.Any("err", err))
					}
				}
			}
			continue
		}
		rc, err := topicReplicaConfig(cfg, next, t.Name)
		if err != nil {
			log.Error("topic config does not apply; using the broker defaults", slog.String("topic", t.Name), slog.Any("err", err))
		}
		st := replica.PartitionState{
			Leader: p.Leader, LeaderEpoch: p.LeaderEpoch, PartitionEpoch: p.PartitionEpoch,
			Replicas: p.Replicas, ISR: p.ISR,
		}
		var part *replica.Partition
		if p.Leader == s.self {
			part, err = s.n.replicas.MakeLeader(ctx, tp, storage.TopicID(t.ID), st, rc)
		} else {
			part, err = s.n.replicas.MakeFollower(ctx, tp, storage.TopicID(t.ID), st, rc)
		}
		switch {
		case err == nil:
			remade[tp] = true
			s.coordinate(tp, p.LeaderEpoch, part, p.Leader == s.self)
		case errors.Is(err, replica.ErrStaleLeaderEpoch):
			log.Debug("stale partition state ignored", slog.String("partition", tp.String()), slog.Any("err", err))
		case errors.Is(err, replica.ErrClosed), ctx.Err() != nil:
		default:
			log.Error("applying partition state", slog.String("partition", tp.String()),
				slog.Int("leader", int(p.Leader)), slog.Any("err", err))
		}
	}

	// Config changes of partitions whose state did not change: dynamic topic configs (and
	// broker defaults that topics inherit) take effect without a restart.
	if brokerChanged || len(topicConfigChanged) > 0 {
		for _, p := range s.n.replicas.Partitions() {
			tp := p.TopicPartition()
			if remade[tp] || !brokerChanged && !topicConfigChanged[tp.Topic] {
				continue
			}
			rc, err := topicReplicaConfig(cfg, next, tp.Topic)
			if err != nil {
				log.Error("topic config does not apply", slog.String("topic", tp.Topic), slog.Any("err", err))
				continue
			}
			if err := s.n.replicas.UpdateConfig(tp, rc); err != nil && !errors.Is(err, replica.ErrUnknownPartition) {
				log.Error("updating a partition's config", slog.String("partition", tp.String()), slog.Any("err", err))
			}
		}
	}

	if s.first {
		s.first = false
		s.removeStrays(ctx, next, log)
	}

	s.mu.Lock()
	if next.Offset > s.mu.applied {
		s.mu.applied = next.Offset
		close(s.mu.advance)
		s.mu.advance = make(chan struct{})
	}
	s.mu.Unlock()
}

// reconfigure layers the dynamic broker configs of next over the static config.
func (s *subscriber) reconfigure(next *metadata.Image, log *slog.Logger) {
	nc, warns, err := s.n.static.WithDynamic(next.ClusterConfig(), next.BrokerConfig(s.self))
	if err != nil {
		// The controller validated each change; a combination can still conflict.
		log.Error("dynamic broker configs rejected; keeping the previous config", slog.Any("err", err))
		return
	}
	for _, w := range warns {
		log.Warn("dynamic broker config", slog.String("warning", w.String()))
	}
	nc = withPorts(nc, s.n.ports)
	s.n.cfg.Store(nc)
	s.mu.Lock()
	srv := s.mu.srv
	s.mu.Unlock()
	if srv != nil {
		srv.Reconfigure(nc)
	}
	log.Info("dynamic broker config applied")
}

// removeStrays deletes logs found on disk that belong to no partition of this broker in the
// image: topics deleted while the broker was down (or just before a crash), or an older
// topic of the same name (its partition.metadata names another topic id). Kafka does the
// same at startup in KRaft mode.
func (s *subscriber) removeStrays(ctx context.Context, im *metadata.Image, log *slog.Logger) {
	for _, l := range s.n.storage.Logs() {
		tp := l.TopicPartition()
		if tp.DirName() == quorum.DirName {
			continue // never: logDirFS hides it; deleting it would delete the metadata log
		}
		stray := true
		if t, ok := im.TopicByName(tp.Topic); ok {
			if p := t.Partition(tp.Partition); p != nil && slices.Contains(p.Replicas, s.self) {
				stray = false
			}
		}
		if !stray {
			continue
		}
		log.Warn("deleting a stray log (its topic or partition no longer exists here)", slog.String("partition", tp.String()))
		if err := s.n.replicas.Remove(ctx, tp, true); err != nil && !errors.Is(err, replica.ErrUnknownPartition) {
			log.Error("deleting a stray log", slog.String("partition", tp.String()), slog.Any("err", err))
		}
	}
}

// topicReplicaConfig is the replica configuration of a topic: its overrides in the image
// over the broker's (dynamic and static) defaults. On error it returns the defaults.
func topicReplicaConfig(cfg *config.Broker, im *metadata.Image, topic string) (replica.Config, error) {
	tc, err := cfg.TopicConfig(im.TopicConfig(topic))
	if err != nil {
		return replicaConfig(cfg.TopicDefaults), err
	}
	return replicaConfig(tc), nil
}
