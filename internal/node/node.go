package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/controller"
	"github.com/sluicehq/sluice/internal/group"
	"github.com/sluicehq/sluice/internal/metadata"
	"github.com/sluicehq/sluice/internal/metrics"
	"github.com/sluicehq/sluice/internal/quorum"
	"github.com/sluicehq/sluice/internal/replica"
	"github.com/sluicehq/sluice/internal/server"
	"github.com/sluicehq/sluice/internal/storage"
	"github.com/sluicehq/sluice/internal/txn"
)

var (
	// ErrUnsupported: the configuration asks for something this build cannot run yet
	// (a broker without a local controller, several log directories).
	ErrUnsupported = errors.New("node: unsupported configuration")
	// ErrStartup: a startup step failed; the error names the step.
	ErrStartup = errors.New("node: startup failed")
)

// Options configure Start. Every field may be left zero.
type Options struct {
	// Logger receives every component's logs; nil discards them.
	Logger *slog.Logger
	// LogLevel is Logger's level, when it is a LevelVar: the server serves it as the
	// BROKER_LOGGER config resource, so an operator can change it at runtime. May be nil.
	LogLevel *slog.LevelVar
	// Observer receives the server's connection and request events (metrics, issue 6).
	Observer server.Observer
	// ExtraHandlers are passed to the server (server.Options.ExtraHandlers): APIs whose
	// implementation lives outside the server package, and test doubles.
	ExtraHandlers []server.Handler
	// Server, when set, adjusts the server's options before server.New (tests lower
	// frame timeouts this way).
	Server func(*server.Options)
}

// Node is one running Sluice process: the components of its roles, started in dependency
// order and stopped in reverse. See doc.go for the order.
type Node struct {
	log    *slog.Logger
	opts   Options
	static *config.Broker // the config Start was given, ports resolved
	ports  map[string]int // listener name -> bound port, for listeners configured with port 0
	cfg    atomic.Pointer[config.Broker]
	meta   *metadata.MetaProperties

	fsm      *metadata.FSM
	stream   *quorum.StreamLayer
	quorum   *quorum.Node
	ctrl     *controller.Controller
	storage  *storage.Manager
	replicas *replica.Manager
	pids     *txn.ProducerIDs
	groups   *group.Coordinator // the group coordinator (groups.go); nil on a controller-only node
	srv      *server.Server
	life     *lifecycle // broker registration and heartbeats; nil on a controller-only node
	subs     *subscriber
	unsub    func()

	locks dirLocks // held from Start to the end of Close

	// metrics and metricsSrv exist when sluice.metrics.listener is set (metrics.go);
	// readiness is what /readyz reports.
	metrics    *metrics.Metrics
	metricsSrv *metricsServer
	readiness  readiness

	hadCleanShutdown bool
	firstStart       bool

	done      chan struct{}
	closeOnce sync.Once
	closeErr  error
}

// Start brings a node up: identity, metadata quorum, controller, broker registration,
// storage, replicas, and last the network server. It returns once the node serves clients
// (its broker is registered and unfenced, its partitions are open). On failure everything
// already started is stopped again.
func Start(ctx context.Context, cfg *config.Broker, opts Options) (n *Node, err error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if err := checkSupported(cfg); err != nil {
		return nil, err
	}
	n = &Node{log: opts.Logger, opts: opts, done: make(chan struct{})}
	defer func() {
		if err != nil {
			// Nothing is serving yet (the server starts last), so a plain teardown is right.
			cctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if cerr := n.shutdown(cctx); cerr != nil {
				n.log.Warn("stopping after failed start", slog.Any("err", cerr))
			}
			close(n.done)
			n = nil
		}
	}()

	cfg, n.ports, err = resolvePorts(cfg)
	if err != nil {
		return n, err
	}
	n.static = cfg
	n.cfg.Store(cfg)

	// 1. Identity: lock every directory, then meta.properties in each, formatting a fresh
	// node.
	n.locks, err = lockDirs(identityDirs(cfg))
	if err != nil {
		return n, fmt.Errorf("%w: %w", ErrStartup, err)
	}
	// The metrics listener next (a second process on the same data fails on the lock
	// first), so that /healthz and /readyz answer during the rest of the startup.
	n.readiness.setStep("loading meta.properties")
	if err := n.startMetrics(cfg.MetricsListener); err != nil {
		return n, err
	}
	n.firstStart = !fileExists(filepath.Join(cfg.LogDirs[0], metadata.MetaPropertiesFile))
	n.meta, err = metadata.LoadOrFormat(identityDirs(cfg), cfg.NodeID, "")
	if err != nil {
		return n, fmt.Errorf("%w: log directories: %w", ErrStartup, err)
	}

	// 2. The metadata image and the quorum that feeds it.
	n.fsm = metadata.NewFSM(metadata.FSMOptions{ClusterID: n.meta.ClusterID, Logger: n.log.With("component", "metadata")})
	if cfg.Roles.Controller {
		n.readiness.setStep("opening the metadata quorum")
		if err := n.startQuorum(ctx, cfg); err != nil {
			return n, err
		}
	}

	if cfg.Roles.Broker {
		if err := n.startBroker(ctx, cfg); err != nil {
			return n, err
		}
	}

	// 3. The network edge, last: every request it takes finds the broker registered and
	// unfenced and its partitions open.
	n.metricsSources()
	n.readiness.setStep("starting the listeners")
	sopts := server.Options{
		Config:        n.cfg.Load(),
		Logger:        n.log.With("component", "server"),
		Deps:          n.serverDeps(),
		Observer:      n.observer(),
		ExtraHandlers: opts.ExtraHandlers,
	}
	if n.stream != nil {
		sopts.Handoffs = []server.Handoff{{Prefix: quorum.Preamble[:4], Fn: n.stream.Handoff}}
	}
	if opts.Server != nil {
		opts.Server(&sopts)
	}
	srv, err := server.New(sopts)
	if err != nil {
		return n, fmt.Errorf("%w: server: %w", ErrStartup, err)
	}
	if err := srv.Start(); err != nil {
		return n, fmt.Errorf("%w: %w", ErrStartup, err)
	}
	n.srv = srv
	n.subs.setServer(srv)
	n.readiness.setServing()
	return n, nil
}

// startQuorum opens the raft quorum and the controller on it.
func (n *Node) startQuorum(ctx context.Context, cfg *config.Broker) error {
	self, ok := selfVoter(cfg)
	if !ok {
		return fmt.Errorf("%w: node.id %d is a controller but not in controller.quorum.voters", ErrStartup, cfg.NodeID)
	}
	stream, err := quorum.NewStreamLayer(self.Addr(), n.log)
	if err != nil {
		return fmt.Errorf("%w: raft transport: %w", ErrStartup, err)
	}
	voters := make([]quorum.Voter, 0, len(cfg.Quorum.Voters))
	for _, v := range cfg.Quorum.Voters {
		voters = append(voters, quorum.Voter{ID: v.ID, Addr: v.Addr()})
	}
	q, err := quorum.Open(ctx, quorum.Options{
		NodeID: cfg.NodeID, Voters: voters, Dir: cfg.MetadataLogDir, Stream: stream,
		Logger: n.log, FSM: n.fsm,
	})
	if err != nil { // Open closed stream
		return fmt.Errorf("%w: metadata quorum: %w", ErrStartup, err)
	}
	n.stream, n.quorum = stream, q
	n.ctrl, err = controller.New(controller.Options{
		NodeID: cfg.NodeID, Quorum: q, FSM: n.fsm, Config: cfg, Logger: n.log.With("component", "controller"),
	})
	if err != nil {
		return fmt.Errorf("%w: controller: %w", ErrStartup, err)
	}
	return nil
}

// startBroker registers the broker (fenced), opens storage and the replicas, follows the
// metadata log, and unfences.
func (n *Node) startBroker(ctx context.Context, cfg *config.Broker) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	regTimeout := cfg.Quorum.InitialBrokerRegistrationTimeout
	rctx, cancel := context.WithTimeout(ctx, regTimeout)
	defer cancel()

	n.readiness.setStep("registering the broker with the controller")
	n.life = newLifecycle(n, cfg)
	if err := n.life.register(rctx); err != nil {
		return fmt.Errorf("%w: broker registration: %w", ErrStartup, err)
	}
	// The image must show at least our registration before anything reads it.
	if _, err := n.fsm.WaitForOffset(rctx, uint64(n.life.epoch.Load())); err != nil {
		return fmt.Errorf("%w: waiting for the metadata log: %w", ErrStartup, err)
	}
	// Heartbeats keep the session alive (asking to stay fenced) while the logs load, which
	// can take long after a crash.
	n.life.start()

	// Storage removes the marker as it opens; whether it was there is what a restart after a
	// clean stop is judged by (no recovery scan), so it is read first.
	n.readiness.setStep("loading the logs")
	n.hadCleanShutdown = fileExists(filepath.Join(cfg.LogDirs[0], cleanShutdownFile))
	im := n.fsm.Current()
	topicDefaults := replicaConfig(cfg.TopicDefaults)
	sm, err := storage.OpenManager(ctx, storage.ManagerOptions{
		Dir:    cfg.LogDirs[0],
		FS:     newLogDirFS(storage.NewOSFS(), cfg.LogDirs[0]),
		Logger: n.log.With("component", "storage"),
		// Logs found on disk get their topic's config from the image as of now; the
		// subscriber applies the latest one when it makes the replica.
		TopicConfig: func(topic string) (storage.Config, bool) {
			if _, ok := im.TopicByName(topic); !ok {
				return storage.Config{}, false
			}
			tc, err := cfg.TopicConfig(im.TopicConfig(topic))
			if err != nil {
				return storage.Config{}, false
			}
			return replicaConfig(tc).Log, true
		},
		DefaultConfig:                     topicDefaults.Log,
		BrokerEpoch:                       n.life.epoch.Load(),
		RetentionCheckIntervalMs:          ms(cfg.LogRetentionCheckInterval),
		CheckpointIntervalMs:              ms(cfg.LogFlushOffsetCheckpointInterval),
		HighWatermarkCheckpointIntervalMs: ms(cfg.Replication.HighWatermarkCheckpoint),
		ProducerIDExpirationMs:            ms(cfg.Txn.ProducerIDExpiration),
		CleanerThreads:                    cleanerThreads(cfg),
		CleanerBackoffMs:                  ms(cfg.Cleaner.Backoff),
		RecoveryThreadsPerDataDir:         cfg.NumRecoveryThreadsPerDataDir,
		OnFlush:                           n.onFlush(),
	})
	if err != nil {
		return fmt.Errorf("%w: log directory %s: %w", ErrStartup, cfg.LogDirs[0], err)
	}
	n.storage = sm

	n.replicas, err = replica.NewManager(replica.ManagerOptions{
		Storage:     sm,
		BrokerID:    cfg.NodeID,
		FlushPolicy: replica.FlushPolicy(cfg.FlushPolicy),
		Logger:      n.log.With("component", "replica"),
	})
	if err != nil {
		return fmt.Errorf("%w: replicas: %w", ErrStartup, err)
	}
	n.pids, err = txn.NewProducerIDs(txn.ProducerIDsOptions{
		Source: producerIDSource{n: n},
		Logger: n.log.With("component", "txn"),
	})
	if err != nil {
		return fmt.Errorf("%w: producer ids: %w", ErrStartup, err)
	}

	if err := n.startGroups(cfg); err != nil {
		return err
	}

	n.subs = newSubscriber(n)
	n.unsub = n.fsm.Subscribe(n.subs.apply)

	// Ready: ask to be unfenced, and wait until the controller's answer (leaders for our
	// partitions) has reached the replicas.
	n.readiness.setStep("unfencing the broker and applying the metadata")
	off, err := n.life.unfence(rctx)
	if err != nil {
		return fmt.Errorf("%w: unfencing the broker: %w", ErrStartup, err)
	}
	if err := n.subs.waitApplied(rctx, off); err != nil {
		return fmt.Errorf("%w: applying metadata: %w", ErrStartup, err)
	}
	return nil
}

// Addr returns the bound address of the named listener ("PLAINTEXT", "CONTROLLER", …),
// or nil when there is no such listener.
func (n *Node) Addr(listenerName string) net.Addr {
	if n.srv == nil {
		return nil
	}
	return n.srv.Addr(listenerName)
}

// Config returns the node's current configuration: the static one with the dynamic
// broker configs from the metadata log layered over it, listener ports resolved.
func (n *Node) Config() *config.Broker { return n.cfg.Load() }

// ClusterID is the cluster id from meta.properties.
func (n *Node) ClusterID() string { return n.meta.ClusterID }

// HadCleanShutdown reports whether the log directory held the clean-shutdown marker when
// the node started, so that no log needed recovery.
func (n *Node) HadCleanShutdown() bool { return n.hadCleanShutdown }

// FirstStart reports whether the node formatted a new log directory at this start.
func (n *Node) FirstStart() bool { return n.firstStart }

// Advertised lists the APIs and version ranges the client listeners advertise.
func (n *Node) Advertised() []server.Versioned {
	if n.srv == nil {
		return nil
	}
	return n.srv.Advertised(server.ClientListeners)
}

// Done is closed once the node has stopped (Close returned).
func (n *Node) Done() <-chan struct{} { return n.done }

// Wait blocks until the node has stopped and returns Close's error.
func (n *Node) Wait() error {
	<-n.done
	return n.closeErr
}

// Close stops the node gracefully; see doc.go for the order. ctx bounds the whole
// shutdown: when it ends, requests still in flight are cut off and controlled shutdown is
// abandoned, but every component is still closed and every goroutine waited for. Later
// calls wait for the first and return its result.
func (n *Node) Close(ctx context.Context) error {
	first := false
	n.closeOnce.Do(func() { first = true })
	if !first {
		select {
		case <-n.done:
			return n.closeErr
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	n.closeErr = n.shutdown(ctx)
	close(n.done)
	return n.closeErr
}

// shutdown stops whatever was started, in reverse dependency order.
func (n *Node) shutdown(ctx context.Context) error {
	var errs []error
	add := func(what string, err error) {
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", what, err))
		}
	}
	n.readiness.setClosing()
	// 1. Stop taking requests; let those read finish and their responses go out. The
	// server gets two thirds of the time left, so that controlled shutdown still has some
	// when a request (a long poll, an acks=all wait) holds the server to its deadline.
	if n.srv != nil {
		sctx := ctx
		if dl, ok := ctx.Deadline(); ok {
			var cancel context.CancelFunc
			sctx, cancel = context.WithDeadline(ctx, time.Now().Add(time.Until(dl)*2/3))
			defer cancel()
		}
		add("server", n.srv.Close(sctx))
	}
	// 2. Controlled shutdown: the controller moves leadership away and then fences us,
	// so that the next start registers at once.
	if n.life != nil {
		add("controlled shutdown", n.life.stop(ctx))
	}
	// The collectors stop reading the components before they close.
	if n.metrics != nil {
		n.metrics.SetSources(metrics.Sources{})
	}
	if n.unsub != nil {
		n.unsub()
	}
	if n.subs != nil {
		n.subs.close()
	}
	if n.pids != nil {
		n.pids.Close()
	}
	// The group coordinator unloads before the replicas it writes close.
	if n.groups != nil {
		n.groups.Close()
	}
	// 3. Replicas, then the logs: Manager.Close flushes, writes checkpoints and the
	// clean-shutdown marker, so the next start needs no recovery.
	if n.replicas != nil {
		add("replicas", n.replicas.Close(ctx))
	}
	if n.storage != nil {
		// The storage close must run to the end even when ctx is over: a half-closed log
		// directory needs recovery at the next start.
		add("storage", n.storage.Close(context.WithoutCancel(ctx)))
	}
	// 4. The metadata side.
	if n.ctrl != nil {
		n.ctrl.Close()
	}
	if n.quorum != nil {
		add("quorum", n.quorum.Close())
	}
	if n.fsm != nil {
		n.fsm.Close()
	}
	n.locks.release()
	// Last, so that /healthz answers and /readyz says why not to the end.
	if n.metricsSrv != nil {
		add("metrics listener", n.metricsSrv.close(context.WithoutCancel(ctx)))
	}
	return errors.Join(errs...)
}

// checkSupported refuses configurations this build cannot run yet, with the reason.
func checkSupported(cfg *config.Broker) error {
	if cfg == nil {
		return fmt.Errorf("%w: no configuration", ErrUnsupported)
	}
	if cfg.Roles.Broker && !cfg.Roles.Controller {
		return fmt.Errorf("%w: process.roles=broker needs broker-to-controller RPCs, which are not built yet; run broker,controller", ErrUnsupported)
	}
	if cfg.Roles.Broker && len(cfg.Quorum.Voters) != 1 {
		return fmt.Errorf("%w: a broker in a quorum of %d controllers needs broker-to-controller RPCs, which are not built yet; use one voter", ErrUnsupported, len(cfg.Quorum.Voters))
	}
	if cfg.Roles.Broker && len(cfg.LogDirs) != 1 {
		return fmt.Errorf("%w: log.dirs lists %d directories; one is supported for now", ErrUnsupported, len(cfg.LogDirs))
	}
	return nil
}

// identityDirs are the directories meta.properties goes into: every log dir and the
// metadata log dir.
func identityDirs(cfg *config.Broker) []string {
	dirs := slices.Clone(cfg.LogDirs)
	if cfg.MetadataLogDir != "" && !slices.Contains(dirs, cfg.MetadataLogDir) {
		dirs = append(dirs, cfg.MetadataLogDir)
	}
	return dirs
}

func selfVoter(cfg *config.Broker) (config.Voter, bool) {
	for _, v := range cfg.Quorum.Voters {
		if v.ID == cfg.NodeID {
			return v, true
		}
	}
	return config.Voter{}, false
}

func cleanerThreads(cfg *config.Broker) int {
	if !cfg.Cleaner.Enable {
		return -1
	}
	return cfg.Cleaner.Threads
}

// producerIDSource hands the allocator blocks from the controller under this broker's
// current epoch.
type producerIDSource struct{ n *Node }

func (s producerIDSource) AllocateBlock(ctx context.Context) (int64, int32, error) {
	b, _, err := s.n.ctrl.AllocateProducerIDs(ctx, s.n.static.NodeID, s.n.life.epoch.Load())
	if err != nil {
		return 0, 0, err
	}
	return b.First, b.Count, nil
}

// cleanShutdownFile is Kafka's clean-shutdown marker, which storage writes on a clean close.
const cleanShutdownFile = ".kafka_cleanshutdown"

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
