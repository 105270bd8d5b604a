package storage

import (
	"container/heap"
	"errors"
	"io/fs"
	"log/slog"
	"sync"
	"time"
)

// maxPendingDeletes bounds the deleter's queue. Past it, files are unlinked at once: the
// delay is a courtesy to tools looking at the directory, not what keeps readers safe (they
// hold open descriptors, which survive unlink).
const maxPendingDeletes = 100_000

// deleter unlinks *.deleted files, and removes renamed partition directories
// (<topic>-<partition>.<id>-delete), once their file.delete.delay.ms has passed. One runs per
// log dir (owned by the Manager) or per standalone Log; close stops it and waits. What is
// still pending at close is removed at the next open, as Kafka does.
type deleter struct {
	fs     FS
	logger *slog.Logger
	now    func() time.Time
	mu     struct {
		sync.Mutex
		queue  deleteQueue
		closed bool
	}
	wake chan struct{} // capacity 1: signaled on an earlier deadline
	stop chan struct{}
	done chan struct{}
}

type pendingDelete struct {
	dueMs int64
	path  string
	dir   bool // a whole directory (RemoveAll)
}

type deleteQueue []pendingDelete

func (q deleteQueue) Len() int           { return len(q) }
func (q deleteQueue) Less(i, j int) bool { return q[i].dueMs < q[j].dueMs }
func (q deleteQueue) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *deleteQueue) Push(x any)        { *q = append(*q, x.(pendingDelete)) }
func (q *deleteQueue) Pop() any {
	old := *q
	x := old[len(old)-1]
	*q = old[:len(old)-1]
	return x
}

func newDeleter(fsys FS, logger *slog.Logger, now func() time.Time) *deleter {
	d := &deleter{fs: fsys, logger: logger, now: now, wake: make(chan struct{}, 1),
		stop: make(chan struct{}), done: make(chan struct{})}
	go d.run()
	return d
}

func (d *deleter) schedule(paths []string, dueMs int64) { d.scheduleKind(paths, dueMs, false) }

// scheduleDirs queues whole directories for removal.
func (d *deleter) scheduleDirs(paths []string, dueMs int64) { d.scheduleKind(paths, dueMs, true) }

func (d *deleter) scheduleKind(paths []string, dueMs int64, dir bool) {
	d.mu.Lock()
	if d.mu.closed || len(d.mu.queue)+len(paths) > maxPendingDeletes {
		d.mu.Unlock()
		for _, p := range paths {
			d.remove(pendingDelete{path: p, dir: dir})
		}
		return
	}
	for _, p := range paths {
		heap.Push(&d.mu.queue, pendingDelete{dueMs: dueMs, path: p, dir: dir})
	}
	d.mu.Unlock()
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

func (d *deleter) remove(p pendingDelete) {
	if p.dir {
		if err := d.fs.RemoveAll(p.path); err != nil {
			d.logger.Warn("delete partition directory", "path", p.path, "err", err)
		}
		return
	}
	if err := d.fs.Remove(p.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		d.logger.Warn("delete segment file", "path", p.path, "err", err)
	}
}

// pending reports how many files wait for deletion.
func (d *deleter) pending() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.mu.queue)
}

func (d *deleter) run() {
	defer close(d.done)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		var due []pendingDelete
		wait := time.Hour
		d.mu.Lock()
		now := d.now().UnixMilli()
		for len(d.mu.queue) > 0 && d.mu.queue[0].dueMs <= now {
			due = append(due, heap.Pop(&d.mu.queue).(pendingDelete))
		}
		if len(d.mu.queue) > 0 {
			// Poll at least every second: the injected clock may jump (tests).
			wait = min(time.Duration(d.mu.queue[0].dueMs-now)*time.Millisecond, time.Second)
		}
		d.mu.Unlock()
		for _, p := range due {
			d.remove(p)
		}
		timer.Reset(wait)
		select {
		case <-d.stop:
			return
		case <-d.wake:
		case <-timer.C:
		}
	}
}

func (d *deleter) close() {
	d.mu.Lock()
	if d.mu.closed {
		d.mu.Unlock()
		return
	}
	d.mu.closed = true
	d.mu.Unlock()
	close(d.stop)
	<-d.done
}
