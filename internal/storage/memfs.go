package storage

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// FaultOp names the operation a MemFS fault hook is asked about.
type FaultOp int

const (
	OpWrite FaultOp = iota
	OpSync
	OpTruncate
	OpOpen
	OpRename
	OpRemove
	OpSyncDir
)

func (o FaultOp) String() string {
	return [...]string{"write", "sync", "truncate", "open", "rename", "remove", "syncdir"}[o]
}

// FaultHook decides the fate of one operation. For OpWrite, returning an error with
// keepBytes >= 0 applies only the first keepBytes of the write (a torn write) and then fails;
// for other operations keepBytes is ignored and a non-nil error fails the operation before it
// has any effect. off and n describe the write (zero otherwise).
type FaultHook func(op FaultOp, name string, off int64, n int) (keepBytes int, err error)

// MemFS is an in-memory FS for tests that models what survives a power loss: every file has
// its current content (the page cache) and its synced content (the disk); every directory
// entry change becomes durable only at SyncDir of its directory, and that includes the entry
// of a directory MkdirAll created (a new directory survives only once its parent was
// synced, and its files only with it). Crash returns a new MemFS holding what a machine
// would find after rebooting, and kills this one (every later call on it, or on a File
// opened from it, fails), so the code under test can be closed afterwards without touching
// the survivor. Simplifications: removing a directory (Remove, RemoveAll) and renaming one
// are durable at once.
//
// A FaultHook injects errors and torn writes.
type MemFS struct {
	mu struct {
		sync.Mutex
		dead    bool
		files   map[string]*memNode // current namespace
		durable map[string]*memNode // namespace as of the last SyncDir of each directory
		dirs    map[string]bool
		// durableDirs are the directories whose entry in their parent was synced (and
		// the roots); a crash keeps a directory only if it and its ancestors are here.
		durableDirs map[string]bool
		hook        FaultHook
	}
	syncs       atomic.Int64 // number of successful File.Sync calls, for benchmarks and tests
	syncLatency atomic.Int64 // nanoseconds File.Sync takes, spent outside MemFS's lock
}

type memNode struct {
	data   []byte // what a reader sees
	synced []byte // what survives a power loss
}

// NewMemFS returns an empty in-memory file system.
func NewMemFS() *MemFS {
	m := &MemFS{}
	m.mu.files = map[string]*memNode{}
	m.mu.durable = map[string]*memNode{}
	m.mu.dirs = map[string]bool{"/": true, ".": true}
	m.mu.durableDirs = map[string]bool{"/": true, ".": true}
	return m
}

var errDeadFS = fmt.Errorf("%w: file system crashed", ErrFaultInjected)

// SetHook installs (or with nil removes) a fault hook.
func (m *MemFS) SetHook(h FaultHook) {
	m.mu.Lock()
	m.mu.hook = h
	m.mu.Unlock()
}

// SetSyncLatency makes every File.Sync take d, as a real disk's fsync does, without blocking
// other operations meanwhile (a FaultHook that sleeps blocks the whole file system).
func (m *MemFS) SetSyncLatency(d time.Duration) { m.syncLatency.Store(int64(d)) }

// Syncs returns how many File.Sync calls succeeded.
func (m *MemFS) Syncs() int64 { return m.syncs.Load() }

// Crash simulates a crash and returns the file system the next boot sees. With powerLoss,
// only synced data and synced directory entries survive; without it (a process crash), the
// page cache survives and everything written is kept.
func (m *MemFS) Crash(powerLoss bool) *MemFS {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.mu.dead = true
	n := NewMemFS()
	survives := func(d string) bool {
		if !powerLoss {
			return m.mu.dirs[d]
		}
		for ; ; d = filepath.Dir(d) {
			if !m.mu.durableDirs[d] || !m.mu.dirs[d] {
				return false
			}
			if d == filepath.Dir(d) {
				return true
			}
		}
	}
	for d := range m.mu.dirs {
		if survives(d) {
			n.mu.dirs[d] = true
			n.mu.durableDirs[d] = true
		}
	}
	clone := map[*memNode]*memNode{}
	src := m.mu.files
	if powerLoss {
		src = m.mu.durable
	}
	for name, node := range src {
		if !n.mu.dirs[filepath.Dir(name)] {
			continue // its directory did not survive
		}
		c, ok := clone[node]
		if !ok {
			c = &memNode{}
			if powerLoss {
				c.data = append([]byte(nil), node.synced...)
			} else {
				c.data = append([]byte(nil), node.data...)
			}
			c.synced = append([]byte(nil), c.data...)
			clone[node] = c
		}
		n.mu.files[name] = c
		n.mu.durable[name] = c
	}
	return n
}

// ReadAll returns a copy of a file's current content (for tests that corrupt files).
func (m *MemFS) ReadAll(name string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	node, ok := m.mu.files[filepath.Clean(name)]
	if !ok {
		return nil, &fs.PathError{Op: "read", Path: name, Err: fs.ErrNotExist}
	}
	return append([]byte(nil), node.data...), nil
}

// WriteAll replaces a file's content, current and synced (for tests that corrupt files).
func (m *MemFS) WriteAll(name string, data []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	name = filepath.Clean(name)
	node, ok := m.mu.files[name]
	if !ok {
		node = &memNode{}
		m.mu.files[name] = node
		m.mu.durable[name] = node
	}
	node.data = append([]byte(nil), data...)
	node.synced = append([]byte(nil), data...)
}

func (m *MemFS) faultLocked(op FaultOp, name string, off int64, n int) (int, error) {
	if m.mu.dead {
		return 0, errDeadFS
	}
	if m.mu.hook == nil {
		return n, nil
	}
	keep, err := m.mu.hook(op, name, off, n)
	if err == nil {
		return n, nil
	}
	return keep, err
}

func (m *MemFS) OpenFile(name string, flag int, perm fs.FileMode) (File, error) {
	name = filepath.Clean(name)
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, err := m.faultLocked(OpOpen, name, 0, 0); err != nil {
		return nil, err
	}
	if !m.mu.dirs[filepath.Dir(name)] {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	node, ok := m.mu.files[name]
	switch {
	case !ok && flag&os.O_CREATE == 0:
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	case ok && flag&os.O_CREATE != 0 && flag&os.O_EXCL != 0:
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrExist}
	case !ok:
		node = &memNode{}
		m.mu.files[name] = node
	}
	if flag&os.O_TRUNC != 0 {
		node.data = node.data[:0:0]
	}
	return &memFile{fs: m, node: node, name: name, readOnly: flag&(os.O_WRONLY|os.O_RDWR) == 0}, nil
}

func (m *MemFS) Rename(oldpath, newpath string) error {
	oldpath, newpath = filepath.Clean(oldpath), filepath.Clean(newpath)
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, err := m.faultLocked(OpRename, oldpath, 0, 0); err != nil {
		return err
	}
	if m.mu.dirs[oldpath] {
		return m.renameDirLocked(oldpath, newpath)
	}
	node, ok := m.mu.files[oldpath]
	if !ok {
		return &fs.PathError{Op: "rename", Path: oldpath, Err: fs.ErrNotExist}
	}
	if !m.mu.dirs[filepath.Dir(newpath)] {
		return &fs.PathError{Op: "rename", Path: newpath, Err: fs.ErrNotExist}
	}
	delete(m.mu.files, oldpath)
	m.mu.files[newpath] = node
	return nil
}

// renameDirLocked moves a directory and everything under it, durably at once (a
// simplification: a real file system needs the parent synced).
func (m *MemFS) renameDirLocked(oldpath, newpath string) error {
	if m.mu.dirs[newpath] || m.mu.files[newpath] != nil {
		return &fs.PathError{Op: "rename", Path: newpath, Err: fs.ErrExist}
	}
	if !m.mu.dirs[filepath.Dir(newpath)] {
		return &fs.PathError{Op: "rename", Path: newpath, Err: fs.ErrNotExist}
	}
	prefix := oldpath + string(filepath.Separator)
	move := func(p string) (string, bool) {
		if p == oldpath {
			return newpath, true
		}
		if strings.HasPrefix(p, prefix) {
			return filepath.Join(newpath, p[len(prefix):]), true
		}
		return "", false
	}
	for _, set := range []map[string]bool{m.mu.dirs, m.mu.durableDirs} {
		var moved []string
		for d := range set {
			if np, ok := move(d); ok {
				delete(set, d)
				moved = append(moved, np)
			}
		}
		for _, d := range moved {
			set[d] = true
		}
	}
	for _, nodes := range []map[string]*memNode{m.mu.files, m.mu.durable} {
		moved := map[string]*memNode{}
		for f, node := range nodes {
			if np, ok := move(f); ok {
				delete(nodes, f)
				moved[np] = node
			}
		}
		for f, node := range moved {
			nodes[f] = node
		}
	}
	return nil
}

func (m *MemFS) Remove(name string) error {
	name = filepath.Clean(name)
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, err := m.faultLocked(OpRemove, name, 0, 0); err != nil {
		return err
	}
	if _, ok := m.mu.files[name]; ok {
		delete(m.mu.files, name)
		return nil
	}
	if m.mu.dirs[name] {
		prefix := name + string(filepath.Separator)
		for f := range m.mu.files {
			if strings.HasPrefix(f, prefix) {
				return &fs.PathError{Op: "remove", Path: name, Err: errors.New("directory not empty")}
			}
		}
		delete(m.mu.dirs, name)
		delete(m.mu.durableDirs, name)
		return nil
	}
	return &fs.PathError{Op: "remove", Path: name, Err: fs.ErrNotExist}
}

func (m *MemFS) RemoveAll(name string) error {
	name = filepath.Clean(name)
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, err := m.faultLocked(OpRemove, name, 0, 0); err != nil {
		return err
	}
	prefix := name + string(filepath.Separator)
	for f := range m.mu.files {
		if f == name || strings.HasPrefix(f, prefix) {
			delete(m.mu.files, f)
			// RemoveAll of a partition directory is made durable at once: callers do it
			// only for logs being dropped for good.
			delete(m.mu.durable, f)
		}
	}
	for d := range m.mu.dirs {
		if d == name || strings.HasPrefix(d, prefix) {
			delete(m.mu.dirs, d)
			delete(m.mu.durableDirs, d)
		}
	}
	return nil
}

func (m *MemFS) List(dir string) ([]string, error) {
	dir = filepath.Clean(dir)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.mu.dead {
		return nil, errDeadFS
	}
	if !m.mu.dirs[dir] {
		return nil, &fs.PathError{Op: "readdir", Path: dir, Err: fs.ErrNotExist}
	}
	var names []string
	for f := range m.mu.files {
		if filepath.Dir(f) == dir {
			names = append(names, filepath.Base(f))
		}
	}
	for d := range m.mu.dirs {
		if d != dir && filepath.Dir(d) == dir {
			names = append(names, filepath.Base(d))
		}
	}
	sort.Strings(names)
	return names, nil
}

func (m *MemFS) MkdirAll(dir string, perm fs.FileMode) error {
	dir = filepath.Clean(dir)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.mu.dead {
		return errDeadFS
	}
	for d := dir; ; d = filepath.Dir(d) {
		m.mu.dirs[d] = true
		if d == filepath.Dir(d) {
			break
		}
	}
	return nil
}

func (m *MemFS) Stat(name string) (int64, bool, error) {
	name = filepath.Clean(name)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.mu.dead {
		return 0, false, errDeadFS
	}
	if node, ok := m.mu.files[name]; ok {
		return int64(len(node.data)), false, nil
	}
	if m.mu.dirs[name] {
		return 0, true, nil
	}
	return 0, false, &fs.PathError{Op: "stat", Path: name, Err: fs.ErrNotExist}
}

func (m *MemFS) SyncDir(dir string) error {
	dir = filepath.Clean(dir)
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, err := m.faultLocked(OpSyncDir, dir, 0, 0); err != nil {
		return err
	}
	for f := range m.mu.durable {
		if filepath.Dir(f) == dir {
			if _, ok := m.mu.files[f]; !ok {
				delete(m.mu.durable, f)
			}
		}
	}
	for f, node := range m.mu.files {
		if filepath.Dir(f) == dir {
			m.mu.durable[f] = node
		}
	}
	for d := range m.mu.dirs {
		if d != dir && filepath.Dir(d) == dir {
			m.mu.durableDirs[d] = true
		}
	}
	return nil
}

type memFile struct {
	fs       *MemFS
	node     *memNode
	name     string
	readOnly bool
	closed   atomic.Bool
}

var errClosedFile = errors.New("storage: memfs: file closed")

func (f *memFile) Name() string { return f.name }

func (f *memFile) ReadAt(p []byte, off int64) (int, error) {
	if f.closed.Load() {
		return 0, errClosedFile
	}
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if f.fs.mu.dead {
		return 0, errDeadFS
	}
	if off < 0 {
		return 0, errors.New("memfs: negative offset")
	}
	if off >= int64(len(f.node.data)) {
		return 0, io.EOF
	}
	n := copy(p, f.node.data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (f *memFile) WriteAt(p []byte, off int64) (int, error) {
	if f.closed.Load() {
		return 0, errClosedFile
	}
	if f.readOnly {
		return 0, errors.New("memfs: file opened read-only")
	}
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	keep, err := f.fs.faultLocked(OpWrite, f.name, off, len(p))
	if err != nil {
		if keep <= 0 || errors.Is(err, errDeadFS) {
			return 0, err
		}
		keep = min(keep, len(p))
		f.writeLocked(p[:keep], off)
		return keep, err
	}
	f.writeLocked(p, off)
	return len(p), nil
}

func (f *memFile) writeLocked(p []byte, off int64) {
	end := off + int64(len(p))
	if end > int64(len(f.node.data)) {
		if end > int64(cap(f.node.data)) {
			grown := make([]byte, end, max(end, 2*int64(cap(f.node.data))))
			copy(grown, f.node.data)
			f.node.data = grown
		} else {
			f.node.data = f.node.data[:end]
		}
	}
	copy(f.node.data[off:], p)
}

func (f *memFile) Sync() error {
	if f.closed.Load() {
		return errClosedFile
	}
	if d := f.fs.syncLatency.Load(); d > 0 {
		time.Sleep(time.Duration(d))
	}
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if _, err := f.fs.faultLocked(OpSync, f.name, 0, 0); err != nil {
		return err
	}
	f.node.synced = append(f.node.synced[:0:0], f.node.data...)
	f.fs.syncs.Add(1)
	return nil
}

func (f *memFile) Truncate(size int64) error {
	if f.closed.Load() {
		return errClosedFile
	}
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if _, err := f.fs.faultLocked(OpTruncate, f.name, size, 0); err != nil {
		return err
	}
	if size <= int64(len(f.node.data)) {
		// Copy so that slices handed out earlier never see later writes.
		f.node.data = append([]byte(nil), f.node.data[:size]...)
	} else {
		f.writeLocked(make([]byte, size-int64(len(f.node.data))), int64(len(f.node.data)))
	}
	return nil
}

func (f *memFile) Size() (int64, error) {
	if f.closed.Load() {
		return 0, errClosedFile
	}
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if f.fs.mu.dead {
		return 0, errDeadFS
	}
	return int64(len(f.node.data)), nil
}

func (f *memFile) Close() error {
	if f.closed.Swap(true) {
		return errClosedFile
	}
	return nil
}
