package quorum

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
)

// DirName is the metadata log's directory under metadata.log.dir, Kafka's name for it.
const DirName = "__cluster_metadata-0"

var (
	// ErrNotLeader: this node is not the raft leader. The error is a *NotLeaderError that
	// names the leader when known.
	ErrNotLeader = errors.New("quorum: not the leader")
	// ErrClosed: the node is closed or closing.
	ErrClosed = errors.New("quorum: closed")
	// ErrNotVoter: the node is not one of the configured voters (non-voters are not built yet).
	ErrNotVoter = errors.New("quorum: node is not a voter")
	// ErrOptions: Options are incomplete or inconsistent.
	ErrOptions = errors.New("quorum: bad options")
)

// NotLeaderError is returned by Propose and Barrier on a node that is not the leader.
// LeaderID is the leader's node id, or -1 when no leader is known. When leadership was lost
// after the entry was appended (raft's ErrLeadershipLost), the entry may still commit: the
// caller cannot know, exactly as a Kafka client seeing NOT_CONTROLLER cannot.
type NotLeaderError struct {
	LeaderID int32
	Cause    error
}

func (e *NotLeaderError) Error() string {
	if e.LeaderID < 0 {
		return fmt.Sprintf("quorum: not the leader (leader unknown): %v", e.Cause)
	}
	return fmt.Sprintf("quorum: not the leader (leader is node %d): %v", e.LeaderID, e.Cause)
}

// Is makes errors.Is(err, ErrNotLeader) true.
func (e *NotLeaderError) Is(target error) bool { return target == ErrNotLeader }

// Unwrap returns raft's own error.
func (e *NotLeaderError) Unwrap() error { return e.Cause }

// FSM is the state machine the quorum drives. Apply is called from one goroutine in log
// order for every committed entry proposed through Propose; it must be deterministic. Its
// error is returned to the proposer (on the node that proposed) and must not be used to
// signal that the FSM is broken: entries are committed whatever Apply returns.
type FSM interface {
	Apply(index, term uint64, data []byte) error
	// Snapshot captures the current state quickly (an immutable view); the returned
	// WriterTo writes it later, possibly while Apply runs. If it also has a Release()
	// method, that is called when raft is done with the snapshot. Only standard-library
	// types appear here so that an FSM need not import this package (or net).
	Snapshot() (io.WriterTo, error)
	// Restore replaces the whole state with a snapshot the WriterTo wrote.
	Restore(r io.Reader) error
}

// Voter is one controller.quorum.voters entry.
type Voter struct {
	ID   int32
	Addr string // host:port exactly as configured
}

// Options configure Open. Zero durations and counts take the defaults described on each.
type Options struct {
	NodeID int32
	Voters []Voter
	// Dir is metadata.log.dir; the quorum keeps its files in Dir/__cluster_metadata-0.
	Dir string
	// Stream carries raft's traffic; Open takes ownership and closes it on Close (also on
	// a failed Open).
	Stream *StreamLayer
	Logger *slog.Logger
	FSM    FSM

	// HeartbeatTimeout is how long a follower waits without hearing from a leader before
	// standing for election. Default 100 ms for one voter, 1 s otherwise.
	HeartbeatTimeout time.Duration
	// ElectionTimeout is how long a candidate waits for votes. Same defaults.
	ElectionTimeout time.Duration
	// LeaderLeaseTimeout is how long a leader stays leader without reaching a majority.
	// Default half the heartbeat timeout.
	LeaderLeaseTimeout time.Duration
	// CommitTimeout bounds how long a follower may wait to learn of a commit. Default 50 ms.
	CommitTimeout time.Duration
	// RPCTimeout is the transport's I/O deadline. Default 10 s.
	RPCTimeout time.Duration

	// SnapshotThreshold is how many entries since the last snapshot trigger a new one
	// (checked every SnapshotInterval). Defaults 8192 entries and 2 minutes.
	SnapshotThreshold uint64
	SnapshotInterval  time.Duration
	// TrailingLogs is how many entries are kept behind a snapshot so that a slightly
	// lagging follower needs no snapshot. Default 10240.
	TrailingLogs uint64
	// SnapshotsRetained is how many snapshots are kept on disk. Default 2.
	SnapshotsRetained int
}

func (o *Options) ensureDefaults() {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	single := len(o.Voters) == 1
	if o.HeartbeatTimeout == 0 {
		o.HeartbeatTimeout = time.Second
		if single {
			o.HeartbeatTimeout = 100 * time.Millisecond
		}
	}
	if o.ElectionTimeout == 0 {
		o.ElectionTimeout = o.HeartbeatTimeout
	}
	if o.LeaderLeaseTimeout == 0 {
		o.LeaderLeaseTimeout = o.HeartbeatTimeout / 2
	}
	if o.CommitTimeout == 0 {
		o.CommitTimeout = 50 * time.Millisecond
	}
	if o.RPCTimeout == 0 {
		o.RPCTimeout = 10 * time.Second
	}
	if o.SnapshotThreshold == 0 {
		o.SnapshotThreshold = 8192
	}
	if o.SnapshotInterval == 0 {
		o.SnapshotInterval = 2 * time.Minute
	}
	if o.TrailingLogs == 0 {
		o.TrailingLogs = 10240
	}
	if o.SnapshotsRetained == 0 {
		o.SnapshotsRetained = 2
	}
}

func (o *Options) validate() error {
	switch {
	case o.Dir == "":
		return fmt.Errorf("%w: no directory", ErrOptions)
	case o.Stream == nil:
		return fmt.Errorf("%w: no stream layer", ErrOptions)
	case o.FSM == nil:
		return fmt.Errorf("%w: no FSM", ErrOptions)
	case len(o.Voters) == 0:
		return fmt.Errorf("%w: no voters", ErrOptions)
	}
	seen := make(map[int32]bool, len(o.Voters))
	self := false
	for _, v := range o.Voters {
		if seen[v.ID] {
			return fmt.Errorf("%w: voter %d listed twice", ErrOptions, v.ID)
		}
		seen[v.ID] = true
		if v.ID == o.NodeID {
			self = true
			if v.Addr != o.Stream.Addr().String() {
				return fmt.Errorf("%w: voter %d address %q differs from the stream layer's %q",
					ErrOptions, v.ID, v.Addr, o.Stream.Addr().String())
			}
		}
	}
	if !self {
		return fmt.Errorf("%w: node %d", ErrNotVoter, o.NodeID)
	}
	return nil
}

// State is the node's view of leadership.
type State struct {
	// LeaderID is the leader's node id, -1 when unknown.
	LeaderID int32
	// Term is the raft term, Sluice's controller epoch.
	Term     uint64
	IsLeader bool
}

// Node is one member of the metadata quorum.
type Node struct {
	opts   Options
	raft   *raft.Raft
	trans  *raft.NetworkTransport
	store  *raftboltdb.BoltStore
	logger *slog.Logger

	obsCh    chan raft.Observation
	observer *raft.Observer
	done     chan struct{}
	wg       sync.WaitGroup // the leadership watcher and Propose waiters

	mu struct {
		sync.Mutex
		closed   bool
		watchers map[int]chan State
		nextID   int
	}
}

// Open opens (or creates) the metadata log in o.Dir and starts raft. A voter with no raft
// state bootstraps the configured voters. Open does not wait for a leader: use Watch or
// State. ctx bounds only the opening work.
func Open(ctx context.Context, o Options) (n *Node, err error) {
	if o.Stream == nil {
		return nil, fmt.Errorf("%w: no stream layer", ErrOptions)
	}
	defer func() {
		if err != nil {
			o.Stream.Close()
		}
	}()
	o.ensureDefaults()
	if err := o.validate(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	dir := filepath.Join(o.Dir, DirName)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("quorum: %w", err)
	}
	hl := newHCLog(o.Logger)

	store, err := raftboltdb.New(raftboltdb.Options{Path: filepath.Join(dir, "raft.db")})
	if err != nil {
		return nil, fmt.Errorf("quorum: open raft.db: %w", err)
	}
	snaps, err := raft.NewFileSnapshotStoreWithLogger(dir, o.SnapshotsRetained, hl.Named("snapshot"))
	if err != nil {
		store.Close()
		return nil, fmt.Errorf("quorum: snapshot store: %w", err)
	}

	cfg := raft.DefaultConfig()
	cfg.LocalID = serverID(o.NodeID)
	cfg.Logger = hl.Named("raft")
	cfg.HeartbeatTimeout = o.HeartbeatTimeout
	cfg.ElectionTimeout = o.ElectionTimeout
	cfg.LeaderLeaseTimeout = o.LeaderLeaseTimeout
	cfg.CommitTimeout = o.CommitTimeout
	cfg.SnapshotThreshold = o.SnapshotThreshold
	cfg.SnapshotInterval = o.SnapshotInterval
	cfg.TrailingLogs = o.TrailingLogs
	if err := raft.ValidateConfig(cfg); err != nil {
		store.Close()
		return nil, fmt.Errorf("%w: %w", ErrOptions, err)
	}

	trans := raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
		Stream:  o.Stream,
		MaxPool: 3,
		Timeout: o.RPCTimeout,
		Logger:  hl.Named("transport"),
	})
	fail := func(err error) (*Node, error) {
		trans.Close()
		store.Close()
		return nil, err
	}

	existing, err := raft.HasExistingState(store, store, snaps)
	if err != nil {
		return fail(fmt.Errorf("quorum: read raft state: %w", err))
	}
	if !existing {
		var servers []raft.Server
		for _, v := range o.Voters {
			servers = append(servers, raft.Server{Suffrage: raft.Voter, ID: serverID(v.ID), Address: raft.ServerAddress(v.Addr)})
		}
		if err := raft.BootstrapCluster(cfg, store, store, snaps, trans, raft.Configuration{Servers: servers}); err != nil {
			return fail(fmt.Errorf("quorum: bootstrap: %w", err))
		}
		o.Logger.Info("bootstrapped the metadata quorum", "voters", len(servers))
	}

	r, err := raft.NewRaft(cfg, fsmAdapter{o.FSM}, store, store, snaps, trans)
	if err != nil {
		return fail(fmt.Errorf("quorum: start raft: %w", err))
	}
	n = &Node{
		opts:   o,
		raft:   r,
		trans:  trans,
		store:  store,
		logger: o.Logger,
		// Observations only say "look again": the watcher re-reads the state, so a full
		// channel losing one loses nothing.
		obsCh: make(chan raft.Observation, 16),
		done:  make(chan struct{}),
	}
	n.mu.watchers = make(map[int]chan State)
	n.observer = raft.NewObserver(n.obsCh, false, func(o *raft.Observation) bool {
		switch o.Data.(type) {
		case raft.LeaderObservation, raft.RaftState:
			return true
		}
		return false
	})
	r.RegisterObserver(n.observer)
	n.wg.Add(1)
	go n.watchLoop()
	return n, nil
}

func serverID(id int32) raft.ServerID { return raft.ServerID(strconv.FormatInt(int64(id), 10)) }

func parseServerID(id raft.ServerID) int32 {
	v, err := strconv.ParseInt(string(id), 10, 32)
	if err != nil {
		return -1
	}
	return int32(v)
}

// State returns the node's current view of leadership.
func (n *Node) State() State {
	_, id := n.raft.LeaderWithID()
	leader := int32(-1)
	if id != "" {
		leader = parseServerID(id)
	}
	isLeader := n.raft.State() == raft.Leader
	if isLeader {
		// raft enters the leader state a moment before it records itself as leader.
		leader = n.opts.NodeID
	}
	return State{LeaderID: leader, Term: n.raft.CurrentTerm(), IsLeader: isLeader}
}

// Stats is a snapshot of the node's raft log positions, for metrics.
type Stats struct {
	State
	// LastIndex is the index of the last entry in the log (or snapshot); CommitIndex the
	// last one known committed; AppliedIndex the last one applied to the FSM.
	LastIndex, CommitIndex, AppliedIndex uint64
}

// Stats returns the node's leadership state and log positions. Each is read on its own
// (raft keeps them in atomics), so they may come from slightly different instants.
func (n *Node) Stats() Stats {
	return Stats{
		State:        n.State(),
		LastIndex:    n.raft.LastIndex(),
		CommitIndex:  n.raft.CommitIndex(),
		AppliedIndex: n.raft.AppliedIndex(),
	}
}

// Watch returns a channel that receives the leadership state whenever it may have changed,
// starting with the current one. The channel holds one value and a newer state replaces an
// unread older one, so a slow reader never blocks the quorum and always reads the latest
// state. cancel stops the watch; the channel is closed by cancel or by Close.
func (n *Node) Watch() (states <-chan State, cancel func()) {
	ch := make(chan State, 1)
	n.mu.Lock()
	if n.mu.closed {
		n.mu.Unlock()
		close(ch)
		return ch, func() {}
	}
	id := n.mu.nextID
	n.mu.nextID++
	n.mu.watchers[id] = ch
	ch <- n.State()
	n.mu.Unlock()
	return ch, func() {
		n.mu.Lock()
		defer n.mu.Unlock()
		if c, ok := n.mu.watchers[id]; ok {
			delete(n.mu.watchers, id)
			close(c)
		}
	}
}

func (n *Node) watchLoop() {
	defer n.wg.Done()
	for {
		select {
		case <-n.done:
			return
		case <-n.obsCh:
		}
		st := n.State()
		n.mu.Lock()
		for _, ch := range n.mu.watchers {
			publishLatest(ch, st)
		}
		n.mu.Unlock()
	}
}

// publishLatest replaces an unread value in ch (capacity 1) with st. Only the caller, under
// n.mu, sends on ch, so the drain-then-send cannot block.
func publishLatest(ch chan State, st State) {
	select {
	case <-ch:
	default:
	}
	ch <- st
}

// Propose appends data to the metadata log and returns its index once it is committed and
// applied to the local FSM. If the FSM's Apply returned an error, Propose returns it (the
// entry is committed all the same). On a follower it returns a *NotLeaderError. If ctx ends
// first, Propose returns ctx's error and the entry may or may not commit.
func (n *Node) Propose(ctx context.Context, data []byte) (uint64, error) {
	if err := n.begin(); err != nil {
		return 0, err
	}
	defer n.wg.Done()
	f := n.raft.Apply(data, enqueueTimeout(ctx))
	if err := n.wait(ctx, f); err != nil {
		return 0, err
	}
	if resp := f.Response(); resp != nil {
		if err, ok := resp.(error); ok {
			return f.Index(), err
		}
	}
	return f.Index(), nil
}

// Barrier returns once every entry committed before the call is applied to the local FSM.
// A new leader calls it before reading the FSM, so that it acts on everything its
// predecessors committed.
func (n *Node) Barrier(ctx context.Context) error {
	if err := n.begin(); err != nil {
		return err
	}
	defer n.wg.Done()
	return n.wait(ctx, n.raft.Barrier(enqueueTimeout(ctx)))
}

// Snapshot takes a snapshot now (raft also takes them by itself per SnapshotThreshold).
func (n *Node) Snapshot() error {
	if err := n.begin(); err != nil {
		return err
	}
	defer n.wg.Done()
	return n.raft.Snapshot().Error()
}

// begin registers a caller with the node's wait group, refusing after Close started.
func (n *Node) begin() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.mu.closed {
		return ErrClosed
	}
	n.wg.Add(1)
	return nil
}

// enqueueTimeout is how long raft may wait to accept a new entry (not to commit it).
func enqueueTimeout(ctx context.Context) time.Duration {
	if dl, ok := ctx.Deadline(); ok {
		if d := time.Until(dl); d > 0 {
			return d
		}
		return time.Millisecond
	}
	return 0
}

// wait waits for f or ctx. A future is always resolved by raft (applied, failed, or at
// shutdown), so the helper goroutine ends; Close waits for it.
func (n *Node) wait(ctx context.Context, f raft.Future) error {
	res := make(chan error, 1)
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		res <- f.Error()
	}()
	select {
	case err := <-res:
		return n.mapErr(err)
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (n *Node) mapErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, raft.ErrNotLeader), errors.Is(err, raft.ErrLeadershipLost),
		errors.Is(err, raft.ErrLeadershipTransferInProgress), errors.Is(err, raft.ErrAbortedByRestore):
		return &NotLeaderError{LeaderID: n.State().LeaderID, Cause: err}
	case errors.Is(err, raft.ErrRaftShutdown):
		return fmt.Errorf("%w: %w", ErrClosed, err)
	case errors.Is(err, raft.ErrEnqueueTimeout):
		return fmt.Errorf("quorum: %w", context.DeadlineExceeded)
	}
	return fmt.Errorf("quorum: %w", err)
}

// Close stops raft (without handing leadership over: the other voters elect a new leader
// after their heartbeat timeout), closes the transport, the stream layer and every
// connection, and the log store, and waits for all goroutines. Watch channels are closed.
func (n *Node) Close() error {
	n.mu.Lock()
	if n.mu.closed {
		n.mu.Unlock()
		return nil
	}
	n.mu.closed = true
	n.mu.Unlock()

	err := n.raft.Shutdown().Error() // also closes the transport, hence the stream layer
	n.raft.DeregisterObserver(n.observer)
	n.trans.CloseStreams()
	close(n.done)
	n.wg.Wait()
	n.mu.Lock()
	for id, ch := range n.mu.watchers {
		delete(n.mu.watchers, id)
		close(ch)
	}
	n.mu.Unlock()
	if cerr := n.store.Close(); err == nil {
		err = cerr
	}
	return err
}

// fsmAdapter turns Sluice's FSM into raft's.
type fsmAdapter struct{ fsm FSM }

func (a fsmAdapter) Apply(l *raft.Log) interface{} {
	if l.Type != raft.LogCommand {
		return nil
	}
	if err := a.fsm.Apply(l.Index, l.Term, l.Data); err != nil {
		return err
	}
	return nil
}

func (a fsmAdapter) Snapshot() (raft.FSMSnapshot, error) {
	s, err := a.fsm.Snapshot()
	if err != nil {
		return nil, err
	}
	return snapshotAdapter{s}, nil
}

func (a fsmAdapter) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	return a.fsm.Restore(rc)
}

type snapshotAdapter struct{ s io.WriterTo }

func (s snapshotAdapter) Persist(sink raft.SnapshotSink) error {
	if _, err := s.s.WriteTo(sink); err != nil {
		sink.Cancel()
		return err
	}
	return sink.Close()
}

func (s snapshotAdapter) Release() {
	if r, ok := s.s.(interface{ Release() }); ok {
		r.Release()
	}
}
