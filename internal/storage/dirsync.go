package storage

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
)

// dirSyncer makes changes to one directory's entries durable with as few fsyncs as
// possible: every change takes a ticket (changed), and sync(ticket) returns once a SyncDir
// that started after the change completed. Concurrent callers share one SyncDir. The
// Manager keeps one for its log dir, where partition directories are created and renamed.
type dirSyncer struct {
	fs     FS
	dir    string
	gen    atomic.Uint64 // tickets handed out
	synced atomic.Uint64 // every ticket <= synced is durable
	mu     sync.Mutex    // one SyncDir at a time
}

func newDirSyncer(fsys FS, dir string) *dirSyncer { return &dirSyncer{fs: fsys, dir: dir} }

// changed records that an entry of the directory changed and returns the ticket to sync.
func (d *dirSyncer) changed() uint64 { return d.gen.Add(1) }

// sync makes every change up to ticket durable.
func (d *dirSyncer) sync(ticket uint64) error {
	if d.synced.Load() >= ticket {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.synced.Load() >= ticket {
		return nil
	}
	// Every change that took its ticket before this load happened before the SyncDir.
	upTo := d.gen.Load()
	if err := d.fs.SyncDir(d.dir); err != nil {
		return err
	}
	d.synced.Store(upTo)
	return nil
}

// mkdirDeferred creates dir (and missing parents) without making the new entries durable.
// It returns whether dir was created and a function that makes the creation durable (nil
// when dir existed): it syncs each parent that gained an entry, through parent when that is
// dir's immediate parent (the Manager's log dir).
func mkdirDeferred(fsys FS, dir string, parent *dirSyncer) (created bool, makeDurable func() error, err error) {
	// The directories to create, deepest first.
	var missing []string
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		_, isDir, err := fsys.Stat(d)
		if err == nil {
			if !isDir {
				return false, nil, &fs.PathError{Op: "mkdir", Path: d, Err: fs.ErrExist}
			}
			break
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return false, nil, err
		}
		missing = append(missing, d)
		if d == filepath.Dir(d) {
			break
		}
	}
	if len(missing) == 0 {
		return false, nil, nil
	}
	if err := fsys.MkdirAll(dir, 0o755); err != nil {
		return false, nil, err
	}
	var ticket uint64
	if parent != nil {
		ticket = parent.changed()
	}
	return true, func() error {
		for _, d := range missing {
			p := filepath.Dir(d)
			var err error
			if parent != nil && p == parent.dir {
				err = parent.sync(ticket)
			} else {
				err = fsys.SyncDir(p)
			}
			if err != nil {
				return err
			}
		}
		return nil
	}, nil
}

// writeFileSynced writes data to name through a temporary file that is synced and renamed
// over name. The rename is durable only once the directory is synced: the caller does that
// (in the same flush round) before relying on it. Until then a crash leaves the old content
// or none, never a torn file.
func writeFileSynced(fsys FS, name string, data []byte) error {
	tmp := name + ".tmp"
	f, err := fsys.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.WriteAt(data, 0); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return fsys.Rename(tmp, name)
}
