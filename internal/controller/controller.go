package controller

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/metadata"
	"github.com/sluicehq/sluice/internal/protocol/metarecord"
	"github.com/sluicehq/sluice/internal/quorum"
)

// Quorum is what the controller needs of the metadata quorum (*quorum.Node).
type Quorum interface {
	Propose(ctx context.Context, data []byte) (uint64, error)
	Barrier(ctx context.Context) error
	Watch() (<-chan quorum.State, func())
}

// Clock tells the time; tests inject one to expire broker sessions without waiting.
type Clock interface{ Now() time.Time }

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// Options configure New.
type Options struct {
	NodeID int32
	Quorum Quorum
	FSM    *metadata.FSM
	// Config is the node's static config: num.partitions, default.replication.factor,
	// delete.topic.enable, broker.session.timeout.ms, topic config validation and defaults.
	// Dynamic cluster configs from the image are layered over it where Kafka does so.
	Config *config.Broker
	Logger *slog.Logger
	Clock  Clock
	// TickInterval is how often broker sessions are checked. Default: a tenth of
	// broker.session.timeout.ms, at least 10 ms.
	TickInterval time.Duration
	// QueueLen bounds the operations waiting for the controller loop. Default 256; a full
	// queue makes callers wait (their ctx bounds the wait).
	QueueLen int
}

// Controller is the active controller. Its operations run one at a time on a loop it owns;
// on a node that is not the raft leader they fail with *NotControllerError.
type Controller struct {
	opts   Options
	logger *slog.Logger
	ops    chan op
	ctx    context.Context // cancelled by Close; bounds proposals and barriers
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu struct {
		sync.Mutex
		active   bool
		leaderID int32
	}

	// Loop-owned state: touched only by the loop goroutine.
	active    bool
	lastState quorum.State // the latest leadership state seen, to retry a failed activation
	term      uint64
	leaderID  int32
	sessions  map[int32]*session
	rnd       *rand.Rand
	dynCache  dynConfig
}

// session is a broker's liveness as this controller sees it (not in the log: a new active
// controller gives every broker a fresh session, as Kafka's does).
type session struct {
	lastContact time.Time
	// shutdownOffset is the offset of the entry that moved leadership off a broker in
	// controlled shutdown; it may stop once it has seen that entry.
	shutdownOffset uint64
}

type op struct {
	run  func(ctx context.Context)
	done chan struct{}
}

// New starts the controller loop. It becomes active whenever this node is the raft leader.
func New(o Options) (*Controller, error) {
	if o.Quorum == nil || o.FSM == nil || o.Config == nil {
		return nil, errors.New("controller: Quorum, FSM and Config are required")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = systemClock{}
	}
	if o.TickInterval <= 0 {
		o.TickInterval = max(o.Config.Quorum.BrokerSessionTimeout/10, 10*time.Millisecond)
	}
	if o.QueueLen <= 0 {
		o.QueueLen = 256
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &Controller{
		opts:     o,
		logger:   o.Logger,
		ops:      make(chan op, o.QueueLen),
		ctx:      ctx,
		cancel:   cancel,
		leaderID: -1,
		sessions: map[int32]*session{},
		rnd:      rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())),
	}
	c.mu.leaderID = -1
	states, stop := o.Quorum.Watch()
	c.wg.Add(1)
	go c.loop(states, stop)
	return c, nil
}

// Close stops the loop; operations under way or queued fail with ErrClosed.
func (c *Controller) Close() {
	c.cancel()
	c.wg.Wait()
}

// Active reports whether this node is the active controller, and otherwise who is (-1 when
// unknown).
func (c *Controller) Active() (active bool, leaderID int32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mu.active, c.mu.leaderID
}

func (c *Controller) loop(states <-chan quorum.State, stopWatch func()) {
	defer c.wg.Done()
	defer stopWatch()
	tick := time.NewTicker(c.opts.TickInterval)
	defer tick.Stop()
	for {
		select {
		case <-c.ctx.Done():
			c.drain()
			return
		case st, ok := <-states:
			if !ok {
				states = nil
				c.setActive(false, -1, 0)
				continue
			}
			c.onLeadership(st)
		case o := <-c.ops:
			o.run(c.ctx)
			close(o.done)
		case <-tick.C:
			if c.active {
				c.checkSessions()
			} else if c.lastState.IsLeader {
				c.onLeadership(c.lastState) // the barrier failed last time; try again
			}
		}
	}
}

// drain fails queued operations after Close.
func (c *Controller) drain() {
	for {
		select {
		case o := <-c.ops:
			o.run(c.ctx) // every op checks ctx first and returns ErrClosed
			close(o.done)
		default:
			return
		}
	}
}

func (c *Controller) onLeadership(st quorum.State) {
	c.lastState = st
	if !st.IsLeader {
		c.setActive(false, st.LeaderID, st.Term)
		return
	}
	if c.active && st.Term == c.term {
		return
	}
	// A new term of leadership: apply everything the previous controllers committed before
	// acting on the image.
	if err := c.opts.Quorum.Barrier(c.ctx); err != nil {
		c.logger.Warn("controller barrier failed; not activating", "term", st.Term, "err", err)
		c.setActive(false, -1, st.Term)
		return
	}
	c.setActive(true, c.opts.NodeID, st.Term)
	now := c.opts.Clock.Now()
	c.sessions = map[int32]*session{}
	for _, b := range c.image().Brokers() {
		c.sessions[b.ID] = &session{lastContact: now}
	}
	c.logger.Info("became the active controller", "term", st.Term)
	if err := c.bootstrap(); err != nil {
		c.logger.Error("could not bootstrap the metadata log", "err", err)
	}
}

func (c *Controller) setActive(active bool, leader int32, term uint64) {
	c.active, c.leaderID, c.term = active, leader, term
	c.mu.Lock()
	c.mu.active, c.mu.leaderID = active, leader
	c.mu.Unlock()
}

// bootstrap writes what a new cluster's log starts with: metadata.version.
func (c *Controller) bootstrap() error {
	if c.image().MetadataVersion() != 0 {
		return nil
	}
	_, err := c.propose(&metarecord.FeatureLevelRecord{Name: metadata.MetadataVersionFeature, FeatureLevel: metadata.MetadataVersionLevel})
	if err == nil {
		c.logger.Info("bootstrapped the metadata log", "metadata.version", metadata.MetadataVersionLevel)
	}
	return err
}

func (c *Controller) image() *metadata.Image { return c.opts.FSM.Current() }

// propose writes records as one entry and waits until it is applied locally. It uses the
// controller's own context, not the caller's: once proposed, the loop waits for the outcome
// so that the next operation reads an image that includes it.
// commit proposes recs and returns their commit offset, unless the request only validates or
// changes nothing; then it proposes nothing and returns offset 0.
func (c *Controller) commit(recs []metarecord.Record, validateOnly bool) (uint64, error) {
	if validateOnly || len(recs) == 0 {
		return 0, nil
	}
	return c.propose(recs...)
}

func (c *Controller) propose(recs ...metarecord.Record) (uint64, error) {
	data, err := metadata.EncodeEntry(recs...)
	if err != nil {
		return 0, err
	}
	idx, err := c.opts.Quorum.Propose(c.ctx, data)
	if err != nil {
		var nle *quorum.NotLeaderError
		if errors.As(err, &nle) {
			c.setActive(false, nle.LeaderID, c.term)
			return 0, &NotControllerError{LeaderID: nle.LeaderID}
		}
		if errors.Is(err, quorum.ErrClosed) || c.ctx.Err() != nil {
			return 0, ErrClosed
		}
		return 0, fmt.Errorf("controller: propose: %w", err)
	}
	return idx, nil
}

// do runs fn on the loop, if this node is the active controller, and waits for it. ctx
// bounds the wait in the queue and for the result; a proposal already made is completed
// by the loop even if ctx ends.
func (c *Controller) do(ctx context.Context, fn func() error) error {
	var err error
	o := op{done: make(chan struct{})}
	o.run = func(loopCtx context.Context) {
		switch {
		case loopCtx.Err() != nil:
			err = ErrClosed
		case !c.active:
			err = &NotControllerError{LeaderID: c.leaderID}
		default:
			err = fn()
		}
	}
	select {
	case c.ops <- o:
	case <-ctx.Done():
		return ctx.Err()
	case <-c.ctx.Done():
		return ErrClosed
	}
	select {
	case <-o.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	case <-c.ctx.Done():
		// Queued after the loop drained its queue: it will never run.
		return ErrClosed
	}
}

// dynConfig caches the node config with the image's dynamic broker configs applied.
type dynConfig struct {
	cluster, broker map[string]string
	cfg             *config.Broker
}

// config returns the static config with the dynamic cluster default and this node's
// dynamic broker configs layered on, as topic defaults (unclean.leader.election.enable, …)
// follow them in Kafka. Invalid dynamic configs are ignored (they were validated when
// written; a later static change could make them conflict).
func (c *Controller) config(im *metadata.Image) *config.Broker {
	cluster, broker := im.ClusterConfig(), im.BrokerConfig(c.opts.NodeID)
	if c.dynCache.cfg != nil && maps.Equal(cluster, c.dynCache.cluster) && maps.Equal(broker, c.dynCache.broker) {
		return c.dynCache.cfg
	}
	cfg := c.opts.Config
	if len(cluster)+len(broker) > 0 {
		if d, _, err := c.opts.Config.WithDynamic(cluster, broker); err == nil {
			cfg = d
		} else {
			c.logger.Warn("ignoring dynamic broker configs that do not apply", "err", err)
		}
	}
	c.dynCache = dynConfig{cluster: cluster, broker: broker, cfg: cfg}
	return cfg
}
