package storage

import (
	"bytes"
	"context"
	cryptorand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path/filepath"
	"sort"
	"sync"
	"time"
)

// ManagerOptions configures a Manager: one log dir (Kafka's log.dirs entry) and the
// broker-level settings of the background work. Zero values take Kafka's defaults.
type ManagerOptions struct {
	Dir    string
	FS     FS
	Logger *slog.Logger
	Now    func() time.Time

	// DefaultConfig is used for logs found at open that TopicConfig does not know.
	DefaultConfig Config
	// TopicConfig returns the configuration of a topic whose logs are found at open.
	TopicConfig func(topic string) (Config, bool)
	// BrokerEpoch is written into the clean shutdown marker (KIP-966).
	BrokerEpoch int64

	RetentionCheckIntervalMs int64 // log.retention.check.interval.ms (300000)
	FlushCheckIntervalMs     int64 // how often flush.ms deadlines are checked (1000)
	CheckpointIntervalMs     int64 // log.flush.offset.checkpoint.interval.ms (60000)
	// HighWatermarkCheckpointIntervalMs is replica.high.watermark.checkpoint.interval.ms
	// (5000): how often replication-offset-checkpoint is written.
	HighWatermarkCheckpointIntervalMs int64
	ProducerIDExpirationMs            int64 // producer.id.expiration.ms (86400000)
	CleanerThreads                    int   // log.cleaner.threads (1); negative disables compaction
	CleanerBackoffMs                  int64 // log.cleaner.backoff.ms (15000)
	// RecoveryThreadsPerDataDir is num.recovery.threads.per.data.dir (2): how many logs
	// OpenManager loads (and recovers) at once.
	RecoveryThreadsPerDataDir int
	// RollFlushThreads bounds how many logs the background flush after a roll syncs at
	// once (default 2). Kafka runs these flushes on its scheduler's background.threads.
	RollFlushThreads int
	// CleanerMaxKeys bounds the keys one compaction pass remembers (Kafka sizes this from
	// log.cleaner.dedupe.buffer.size; 1<<20 keys by default). A pass that would need more
	// stops early and the rest is cleaned by the next pass.
	CleanerMaxKeys int
	// MaxDecompressedBatchBytes bounds the decompression of one batch by compaction and
	// timestamp lookups (LogOptions.MaxDecompressedBatchBytes); default 256 MiB.
	MaxDecompressedBatchBytes int
	// OnFlush, when set, is given to every log (LogOptions.OnFlush): metrics.
	OnFlush func(elapsed time.Duration)
}

func (o *ManagerOptions) ensureDefaults() {
	if o.FS == nil {
		o.FS = NewOSFS()
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.DefaultConfig == (Config{}) {
		o.DefaultConfig = DefaultConfig()
	}
	def := func(v *int64, d int64) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.RetentionCheckIntervalMs, 300_000)
	def(&o.FlushCheckIntervalMs, 1000)
	def(&o.CheckpointIntervalMs, 60_000)
	def(&o.HighWatermarkCheckpointIntervalMs, 5000)
	def(&o.ProducerIDExpirationMs, 86_400_000)
	def(&o.CleanerBackoffMs, 15_000)
	if o.CleanerThreads == 0 {
		o.CleanerThreads = 1
	}
	if o.RecoveryThreadsPerDataDir <= 0 {
		o.RecoveryThreadsPerDataDir = 2
	}
	if o.RollFlushThreads <= 0 {
		o.RollFlushThreads = 2
	}
	if o.CleanerMaxKeys <= 0 {
		o.CleanerMaxKeys = 1 << 20
	}
}

// Manager owns the logs of one log dir and the background work on them: deletion of retired
// files, retention, flush.ms, checkpoints and the cleaner. Close stops all of it, closes the
// logs and, if every log closed cleanly, writes the clean shutdown marker.
type Manager struct {
	opts    ManagerOptions
	logger  *slog.Logger
	deleter *deleter
	dirs    *dirSyncer // the log dir's entries (partition directories)

	mu struct {
		sync.Mutex
		logs   map[TopicPartition]*Log
		closed bool
		// found holds what the log dir's checkpoints said at open about each partition,
		// for logs opened later under that name; DeleteLog forgets the entry so that a
		// partition created again starts afresh.
		found map[TopicPartition]foundState
	}
	hadCleanShutdown bool
	// ckptMu serializes writing the log dir's checkpoint files (housekeeping, the
	// cleaner, truncations, Close); it is taken before Manager.mu.
	ckptMu sync.Mutex
	// lastHWCheckpoint is the content last written to replication-offset-checkpoint
	// (guarded by ckptMu): an unchanged checkpoint is not written again.
	lastHWCheckpoint []byte

	cleaner *cleaner
	rolls   rollFlusher
	stop    chan struct{}
	wg      sync.WaitGroup
}

// rollFlusher makes sealed segments durable in the background, as Kafka schedules a flush
// up to the new segment's base offset at every roll: without it a log that is never flushed
// otherwise (Kafka's default flush.messages / flush.ms, Sluice's flush policy none) keeps
// its recovery point at its start, and every unclean open rescans all of it. Its queue holds
// each log at most once (Log.rollQueued; a later roll only raises Log.rollFlushTo), so it is
// bounded by the number of logs; RollFlushThreads workers drain it.
type rollFlusher struct {
	signal chan struct{} // capacity 1: set when the queue may be non-empty
	ctx    context.Context
	cancel context.CancelFunc
	mu     struct {
		sync.Mutex
		queue []*Log
	}
}

// rolled is Log.onRoll: it runs under the log's write lock and only queues.
func (m *Manager) rolled(l *Log, base int64) {
	for {
		cur := l.rollFlushTo.Load()
		if base <= cur || l.rollFlushTo.CompareAndSwap(cur, base) {
			break
		}
	}
	if l.rollQueued.Swap(true) {
		return
	}
	m.rolls.mu.Lock()
	m.rolls.mu.queue = append(m.rolls.mu.queue, l)
	m.rolls.mu.Unlock()
	select {
	case m.rolls.signal <- struct{}{}:
	default:
	}
}

// runRollFlusher is one worker: it takes a log from the queue and flushes it up to its
// latest roll.
func (m *Manager) runRollFlusher() {
	for {
		m.rolls.mu.Lock()
		var l *Log
		if n := len(m.rolls.mu.queue); n > 0 {
			l = m.rolls.mu.queue[0]
			m.rolls.mu.queue[0] = nil
			m.rolls.mu.queue = m.rolls.mu.queue[1:]
			if n > 1 {
				// More work: make sure another worker (or this one) looks again.
				select {
				case m.rolls.signal <- struct{}{}:
				default:
				}
			}
		}
		m.rolls.mu.Unlock()
		if l == nil {
			select {
			case <-m.stop:
				return
			case <-m.rolls.signal:
			}
			continue
		}
		// Cleared before the flush: a roll meanwhile queues the log again.
		l.rollQueued.Store(false)
		if err := l.flushRolled(m.rolls.ctx, l.rollFlushTo.Load()); err != nil &&
			!errors.Is(err, ErrClosed) && m.rolls.ctx.Err() == nil {
			// The next roll, flush or clean shutdown retries; until then recovery scans more.
			m.logger.Warn("flush after roll failed", "partition", l.tp.String(), "err", err)
		}
	}
}

// foundState is one partition's entries in the log dir's checkpoints at open.
type foundState struct {
	recoveryPoint, logStart, cleanerPoint, highWatermark int64
	hasHighWatermark                                     bool
	// inRecoveryCheckpoint: the recovery-point checkpoint named the partition, so a clean
	// shutdown marker covers it.
	inRecoveryCheckpoint bool
}

// OpenManager loads every partition directory under opts.Dir (recovering them if the last
// shutdown was not clean) and starts the background work.
func OpenManager(ctx context.Context, opts ManagerOptions) (*Manager, error) {
	opts.ensureDefaults()
	m := &Manager{opts: opts, logger: opts.Logger.With("logDir", opts.Dir), stop: make(chan struct{})}
	m.mu.logs = map[TopicPartition]*Log{}
	m.rolls.signal = make(chan struct{}, 1)
	fsys := opts.FS
	// A log dir created here is made durable at once (Kafka syncs its parent too).
	if created, makeDurable, err := mkdirDeferred(fsys, opts.Dir, nil); err != nil {
		return nil, err
	} else if created {
		if err := makeDurable(); err != nil {
			return nil, err
		}
	}
	m.dirs = newDirSyncer(fsys, opts.Dir)
	m.hadCleanShutdown = exists(fsys, filepath.Join(opts.Dir, cleanShutdownFile))
	recoveryPoints, err := m.readCheckpoint(recoveryPointCheckpointFile)
	if err != nil {
		m.logger.Warn("recovery point checkpoint unreadable: recovering every log fully", "err", err)
		m.hadCleanShutdown = false
	}
	logStarts, err := m.readCheckpoint(logStartCheckpointFile)
	if err != nil {
		m.logger.Warn("log start checkpoint unreadable", "err", err)
	}
	cleanerPoints, err := m.readCheckpoint(cleanerCheckpointFile)
	if err != nil {
		// Only costs a full pass over each compacted log.
		m.logger.Warn("cleaner offset checkpoint unreadable", "err", err)
	}
	highWatermarks, err := m.readCheckpoint(highWatermarkCheckpointFile)
	if err != nil {
		// Replicas then start their high watermarks at the log start, as if new.
		m.logger.Warn("replication offset checkpoint unreadable", "err", err)
	}
	m.mu.found = map[TopicPartition]foundState{}
	for _, cp := range []map[TopicPartition]int64{recoveryPoints, logStarts, cleanerPoints, highWatermarks} {
		for tp := range cp {
			_, inRP := recoveryPoints[tp]
			hw, hasHW := highWatermarks[tp]
			m.mu.found[tp] = foundState{recoveryPoint: recoveryPoints[tp], logStart: logStarts[tp],
				cleanerPoint: cleanerPoints[tp], highWatermark: hw, hasHighWatermark: hasHW,
				inRecoveryCheckpoint: inRP}
		}
	}
	m.deleter = newDeleter(fsys, m.logger, opts.Now)

	names, err := fsys.List(opts.Dir)
	if err != nil {
		m.deleter.close()
		return nil, err
	}
	var leftovers []string
	var jobs []loadJob
	for _, n := range names {
		if isDeleteDirName(n) {
			// A deletion the last run did not finish: remove it in the background.
			leftovers = append(leftovers, filepath.Join(opts.Dir, n))
			continue
		}
		tp, ok := ParseDirName(n)
		if !ok {
			continue
		}
		if _, isDir, err := fsys.Stat(filepath.Join(opts.Dir, n)); err != nil || !isDir {
			continue
		}
		cfg, ok := DefaultConfig(), false
		if opts.TopicConfig != nil {
			cfg, ok = opts.TopicConfig(tp.Topic)
		}
		if !ok {
			cfg = opts.DefaultConfig
		}
		jobs = append(jobs, loadJob{tp: tp, cfg: cfg, found: m.mu.found[tp]})
	}
	logs, err := m.loadLogs(ctx, jobs)
	if err != nil {
		m.deleter.close()
		return nil, err
	}
	for _, l := range logs {
		m.mu.logs[l.tp] = l
	}
	// Kafka removes the marker once the logs are loaded: a crash from here on is unclean.
	if m.hadCleanShutdown {
		if err := fsys.Remove(filepath.Join(opts.Dir, cleanShutdownFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			m.closeLogs(ctx)
			m.deleter.close()
			return nil, err
		}
		if err := fsys.SyncDir(opts.Dir); err != nil {
			m.closeLogs(ctx)
			m.deleter.close()
			return nil, err
		}
	}
	m.deleter.scheduleDirs(leftovers, 0)
	m.cleaner = newCleaner(m)
	m.goAttach(m.housekeeping)
	m.rolls.ctx, m.rolls.cancel = context.WithCancel(context.Background())
	for i := 0; i < opts.RollFlushThreads; i++ {
		m.goAttach(m.runRollFlusher)
	}
	for i := 0; i < opts.CleanerThreads; i++ {
		m.goAttach(m.cleaner.run)
	}
	return m, nil
}

// loadJob is one partition directory found at open.
type loadJob struct {
	tp    TopicPartition
	cfg   Config
	found foundState
}

// loadLogs opens the logs of jobs with RecoveryThreadsPerDataDir workers (Kafka's
// num.recovery.threads.per.data.dir): recovery after an unclean shutdown is mostly reading
// and checksumming segments, which parallelizes across partitions. The workers end before it
// returns. On the first failure the others stop early and every log opened is closed.
func (m *Manager) loadLogs(ctx context.Context, jobs []loadJob) ([]*Log, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	logs := make([]*Log, len(jobs))
	errs := make([]error, len(jobs))
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < min(m.opts.RecoveryThreadsPerDataDir, len(jobs)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				j := jobs[i]
				if logs[i], errs[i] = m.openLog(ctx, j.tp, TopicID{}, j.cfg, j.found); errs[i] != nil {
					cancel()
				}
			}
		}()
	}
	fed := 0
feed:
	for ; fed < len(jobs); fed++ {
		select {
		case next <- fed:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	var failed []error
	for i, err := range errs {
		if err != nil {
			failed = append(failed, fmt.Errorf("open %s: %w", jobs[i].tp, err))
		}
	}
	if len(failed) == 0 && fed < len(jobs) {
		failed = append(failed, ctx.Err()) // the caller's context ended
	}
	if len(failed) > 0 {
		for _, l := range logs {
			if l != nil {
				l.Close(context.Background())
			}
		}
		return nil, errors.Join(failed...)
	}
	return logs, nil
}

func (m *Manager) goAttach(f func()) {
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		f()
	}()
}

func (m *Manager) readCheckpoint(name string) (map[TopicPartition]int64, error) {
	p := filepath.Join(m.opts.Dir, name)
	data, err := readFile(m.opts.FS, p, checkpointLimitBytes)
	if errors.Is(err, fs.ErrNotExist) {
		return map[TopicPartition]int64{}, nil
	}
	if err != nil {
		return map[TopicPartition]int64{}, err
	}
	cp, err := DecodeOffsetCheckpoint(p, data)
	if err != nil {
		return map[TopicPartition]int64{}, err
	}
	return cp, nil
}

// openLog opens one partition's log with what the checkpoints said about it (found).
func (m *Manager) openLog(ctx context.Context, tp TopicPartition, id TopicID, cfg Config, found foundState) (*Log, error) {
	return OpenLog(ctx, LogOptions{
		Dir:                       filepath.Join(m.opts.Dir, tp.DirName()),
		TopicPartition:            tp,
		TopicID:                   id,
		Config:                    cfg,
		FS:                        m.opts.FS,
		Logger:                    m.opts.Logger,
		Now:                       m.opts.Now,
		HadCleanShutdown:          m.hadCleanShutdown && found.inRecoveryCheckpoint,
		RecoveryPoint:             found.recoveryPoint,
		LogStartOffset:            found.logStart,
		CleanerPoint:              found.cleanerPoint,
		HighWatermark:             found.highWatermark,
		HighWatermarkKnown:        found.hasHighWatermark,
		MaxDecompressedBatchBytes: m.opts.MaxDecompressedBatchBytes,
		deleter:                   m.deleter,
		parentDir:                 m.dirs,
		onTruncate:                m.truncated,
		onRoll:                    m.rolled,
		OnFlush:                   m.opts.OnFlush,
	})
}

// Log returns an open log.
func (m *Manager) Log(tp TopicPartition) (*Log, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	l, ok := m.mu.logs[tp]
	return l, ok
}

// Logs returns every open log, sorted by name.
func (m *Manager) Logs() []*Log {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.logsLocked()
}

func (m *Manager) logsLocked() []*Log {
	ls := make([]*Log, 0, len(m.mu.logs))
	for _, l := range m.mu.logs {
		ls = append(ls, l)
	}
	sort.Slice(ls, func(i, j int) bool { return ls[i].tp.String() < ls[j].tp.String() })
	return ls
}

// GetOrCreateLog returns the log for tp, creating it with cfg if it does not exist. A
// non-zero id is checked against (or written to) partition.metadata.
func (m *Manager) GetOrCreateLog(ctx context.Context, tp TopicPartition, id TopicID, cfg Config) (*Log, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.mu.closed {
		return nil, ErrClosed
	}
	if l, ok := m.mu.logs[tp]; ok {
		if err := l.SetTopicID(id); err != nil {
			return nil, err
		}
		return l, nil
	}
	if _, ok := ParseDirName(tp.DirName()); !ok {
		return nil, fmt.Errorf("%w: bad partition name %q", ErrInvalidConfig, tp.DirName())
	}
	l, err := m.openLog(ctx, tp, id, cfg, m.mu.found[tp])
	if err != nil {
		return nil, err
	}
	// Not synced here: the log's first flush round makes the new directory durable.
	m.mu.logs[tp] = l
	return l, nil
}

// DeleteLog deletes a partition's log as Kafka does: the log is closed without a flush, its
// directory renamed to <topic>-<partition>.<uuid>-delete (durably: the log dir is synced)
// and removed in the background after file.delete.delay.ms; the log dir's checkpoints are
// rewritten without it. Readers holding Regions keep reading through their open files. A
// restart finishing a deletion removes leftover -delete directories.
func (m *Manager) DeleteLog(ctx context.Context, tp TopicPartition) error {
	m.mu.Lock()
	l, ok := m.mu.logs[tp]
	delete(m.mu.logs, tp)
	delete(m.mu.found, tp)
	m.mu.Unlock()
	if !ok {
		return ErrLogNotFound
	}
	m.cleaner.forget(l)
	l.closeWithoutFlush()
	var id [16]byte
	if _, err := cryptorand.Read(id[:]); err != nil {
		return err
	}
	id[6] = id[6]&0x0f | 0x40 // a version 4 UUID, as Kafka's UUID.randomUUID
	id[8] = id[8]&0x3f | 0x80
	dest := filepath.Join(m.opts.Dir, deleteDirName(tp, hex.EncodeToString(id[:])))
	if err := m.opts.FS.Rename(l.dir, dest); err != nil {
		return fmt.Errorf("storage: delete %s: %w", tp, err)
	}
	if err := m.dirs.sync(m.dirs.changed()); err != nil {
		return fmt.Errorf("storage: delete %s: %w", tp, err)
	}
	m.deleter.scheduleDirs([]string{dest}, m.opts.Now().UnixMilli()+l.Config().FileDeleteDelayMs)
	return m.WriteCheckpoints()
}

// housekeeping runs retention, producer expiry, flush.ms and checkpoints on their intervals.
func (m *Manager) housekeeping() {
	tick := time.NewTicker(time.Duration(m.opts.FlushCheckIntervalMs) * time.Millisecond)
	defer tick.Stop()
	lastRetention, lastCheckpoint := m.opts.Now().UnixMilli(), m.opts.Now().UnixMilli()
	lastHWCheckpoint := lastCheckpoint
	for {
		select {
		case <-m.stop:
			return
		case <-tick.C:
		}
		now := m.opts.Now().UnixMilli()
		ctx := context.Background()
		for _, l := range m.Logs() {
			if err := l.flushIfDue(ctx); err != nil && !errors.Is(err, ErrClosed) {
				m.logger.Warn("scheduled flush failed", "partition", l.tp.String(), "err", err)
			}
		}
		if now-lastRetention >= m.opts.RetentionCheckIntervalMs {
			lastRetention = now
			m.RunRetention()
		}
		if now-lastHWCheckpoint >= m.opts.HighWatermarkCheckpointIntervalMs {
			lastHWCheckpoint = now
			if err := m.WriteHighWatermarkCheckpoint(); err != nil {
				m.logger.Warn("replication offset checkpoint write failed", "err", err)
			}
		}
		if now-lastCheckpoint >= m.opts.CheckpointIntervalMs {
			lastCheckpoint = now
			if err := m.WriteCheckpoints(); err != nil {
				m.logger.Warn("checkpoint write failed", "err", err)
			}
		}
	}
}

// RunRetention runs one retention and producer-expiry pass over every log now.
func (m *Manager) RunRetention() int {
	n := 0
	for _, l := range m.Logs() {
		n += l.EnforceRetention()
		l.ExpireProducers(m.opts.ProducerIDExpirationMs)
	}
	return n
}

// WriteCheckpoints writes the recovery-point, log-start and cleaner-offset checkpoints of
// the log dir.
func (m *Manager) WriteCheckpoints() error {
	m.ckptMu.Lock()
	defer m.ckptMu.Unlock()
	rp := map[TopicPartition]int64{}
	ls := map[TopicPartition]int64{}
	logs := m.Logs()
	for _, l := range logs {
		rp[l.tp] = l.DurableOffset()
		ls[l.tp] = l.LogStartOffset()
	}
	return errors.Join(m.writeCheckpointLocked(recoveryPointCheckpointFile, rp),
		m.writeCheckpointLocked(logStartCheckpointFile, ls),
		m.writeCleanerCheckpointLocked(logs))
}

func (m *Manager) writeCheckpointLocked(name string, offsets map[TopicPartition]int64) error {
	return writeFileAtomic(m.opts.FS, filepath.Join(m.opts.Dir, name), EncodeOffsetCheckpoint(offsets))
}

// writeCleanerCheckpointLocked writes cleaner-offset-checkpoint: for every log whose policy
// compacts, the first offset not yet cleaned (Kafka's first dirty offset), so that the
// cleaner's dirty ratio and offset map survive a restart.
func (m *Manager) writeCleanerCheckpointLocked(logs []*Log) error {
	cp := map[TopicPartition]int64{}
	for _, l := range logs {
		if l.Config().CleanupPolicy.Compacts() {
			cp[l.tp] = l.CleanerPoint()
		}
	}
	return m.writeCheckpointLocked(cleanerCheckpointFile, cp)
}

// WriteHighWatermarkCheckpoint writes replication-offset-checkpoint: every log's high
// watermark as last given to SetHighWatermark (logs that never had one are left out). The
// housekeeping does it every HighWatermarkCheckpointIntervalMs and Close at the end; it is
// skipped when nothing changed since the last write.
func (m *Manager) WriteHighWatermarkCheckpoint() error {
	m.ckptMu.Lock()
	defer m.ckptMu.Unlock()
	return m.writeHighWatermarkCheckpointLocked(m.Logs())
}

func (m *Manager) writeHighWatermarkCheckpointLocked(logs []*Log) error {
	hws := make(map[TopicPartition]int64, len(logs))
	for _, l := range logs {
		if hw := l.replicatedHighWatermark(); hw >= 0 {
			hws[l.tp] = hw
		}
	}
	data := EncodeOffsetCheckpoint(hws)
	if bytes.Equal(data, m.lastHWCheckpoint) {
		return nil
	}
	if err := writeFileAtomic(m.opts.FS, filepath.Join(m.opts.Dir, highWatermarkCheckpointFile), data); err != nil {
		return err
	}
	m.lastHWCheckpoint = data
	return nil
}

// cleaned records a finished compaction pass in cleaner-offset-checkpoint.
func (m *Manager) cleaned() {
	m.ckptMu.Lock()
	defer m.ckptMu.Unlock()
	if err := m.writeCleanerCheckpointLocked(m.Logs()); err != nil {
		m.logger.Warn("cleaner offset checkpoint write failed", "err", err)
	}
}

// truncated runs after a log was truncated (TruncateTo, TruncateFullyAndStartAt). As Kafka
// does, the cleaner and recovery-point checkpoints are rewritten at once: a restart must not
// take the data written since over the truncated range for cleaned or durable.
func (m *Manager) truncated(l *Log) {
	m.ckptMu.Lock()
	defer m.ckptMu.Unlock()
	logs := m.Logs()
	rp := make(map[TopicPartition]int64, len(logs))
	for _, x := range logs {
		rp[x.tp] = x.DurableOffset()
	}
	if err := errors.Join(m.writeCheckpointLocked(recoveryPointCheckpointFile, rp),
		m.writeCleanerCheckpointLocked(logs)); err != nil {
		m.logger.Warn("checkpoint write after truncation failed", "partition", l.tp.String(), "err", err)
	}
}

// Close stops the background work, closes every log (flushing it) and, when all of that
// succeeded, writes the checkpoints and the clean shutdown marker so that the next open
// skips recovery.
func (m *Manager) Close(ctx context.Context) error {
	m.mu.Lock()
	if m.mu.closed {
		m.mu.Unlock()
		return nil
	}
	m.mu.closed = true
	m.mu.Unlock()
	close(m.stop)
	m.rolls.cancel() // a flush in progress finishes its round; Close flushes every log anyway
	m.cleaner.close()
	m.wg.Wait()
	rp := map[TopicPartition]int64{}
	ls := map[TopicPartition]int64{}
	for _, l := range m.Logs() {
		ls[l.tp] = l.LogStartOffset()
	}
	err := m.closeLogs(ctx)
	for _, l := range m.Logs() {
		rp[l.tp] = l.DurableOffset()
	}
	m.deleter.close()
	if err == nil {
		m.ckptMu.Lock()
		logs := m.Logs()
		err = errors.Join(m.writeCheckpointLocked(recoveryPointCheckpointFile, rp),
			m.writeCheckpointLocked(logStartCheckpointFile, ls),
			m.writeCleanerCheckpointLocked(logs),
			m.writeHighWatermarkCheckpointLocked(logs))
		m.ckptMu.Unlock()
	}
	if err == nil {
		err = writeFileAtomic(m.opts.FS, filepath.Join(m.opts.Dir, cleanShutdownFile), encodeCleanShutdown(m.opts.BrokerEpoch))
	}
	return err
}

func (m *Manager) closeLogs(ctx context.Context) error {
	var errs []error
	for _, l := range m.Logs() {
		if err := l.Close(ctx); err != nil {
			errs = append(errs, fmt.Errorf("close %s: %w", l.tp, err))
		}
	}
	return errors.Join(errs...)
}
