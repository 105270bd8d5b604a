package storage

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"golang.org/x/sys/unix"
)

// FS is the file-system seam. Everything storage does to disk goes through it, so that
// crash and I/O-error tests can run on MemFS. Paths are plain OS paths.
type FS interface {
	// OpenFile opens or creates a file (os.O_* flags).
	OpenFile(name string, flag int, perm fs.FileMode) (File, error)
	// Rename atomically replaces newpath with oldpath. It is durable only after SyncDir of
	// the directory (or directories) involved.
	Rename(oldpath, newpath string) error
	// Remove removes a file or an empty directory. An open File stays usable after Remove.
	Remove(name string) error
	// RemoveAll removes a directory tree.
	RemoveAll(name string) error
	// List returns the names (not paths) of the entries of dir, sorted.
	List(dir string) ([]string, error)
	// MkdirAll creates dir and its parents.
	MkdirAll(dir string, perm fs.FileMode) error
	// Stat reports whether name exists and its size.
	Stat(name string) (size int64, isDir bool, err error)
	// SyncDir makes the directory entries of dir (creations, renames, removals) durable.
	SyncDir(dir string) error
}

// File is an open file. Reads and writes are positional so that concurrent readers and the
// single writer never share a file offset.
type File interface {
	io.ReaderAt
	io.WriterAt
	// Sync makes the file's data durable (fdatasync on Linux: metadata that is not needed to
	// read the data back, such as mtime, is not flushed).
	Sync() error
	// Truncate sets the file size.
	Truncate(size int64) error
	// Size returns the current file size.
	Size() (int64, error)
	Close() error
	Name() string
}

// OSFile is implemented by files of the real file system; the server uses the descriptor for
// positional sendfile (never Seek it: readers share the descriptor).
type OSFile interface {
	OSFile() *os.File
}

// OSFS is the real file system.
type OSFS struct{}

// NewOSFS returns the real file system.
func NewOSFS() FS { return OSFS{} }

type osFile struct{ f *os.File }

func (OSFS) OpenFile(name string, flag int, perm fs.FileMode) (File, error) {
	f, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &osFile{f: f}, nil
}

func (OSFS) Rename(oldpath, newpath string) error { return os.Rename(oldpath, newpath) }
func (OSFS) Remove(name string) error             { return os.Remove(name) }
func (OSFS) RemoveAll(name string) error          { return os.RemoveAll(name) }
func (OSFS) MkdirAll(dir string, perm fs.FileMode) error {
	return os.MkdirAll(dir, perm)
}

func (OSFS) List(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(ents))
	for _, e := range ents {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names, nil
}

func (OSFS) Stat(name string) (int64, bool, error) {
	fi, err := os.Stat(name)
	if err != nil {
		return 0, false, err
	}
	return fi.Size(), fi.IsDir(), nil
}

func (OSFS) SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

func (f *osFile) ReadAt(p []byte, off int64) (int, error)  { return f.f.ReadAt(p, off) }
func (f *osFile) WriteAt(p []byte, off int64) (int, error) { return f.f.WriteAt(p, off) }
func (f *osFile) Truncate(size int64) error                { return f.f.Truncate(size) }
func (f *osFile) Close() error                             { return f.f.Close() }
func (f *osFile) Name() string                             { return f.f.Name() }
func (f *osFile) OSFile() *os.File                         { return f.f }

func (f *osFile) Sync() error {
	// fdatasync: the segment's size change is part of what it flushes (the size is needed
	// to read the data back), its mtime is not.
	for {
		err := unix.Fdatasync(int(f.f.Fd()))
		if !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}

func (f *osFile) Size() (int64, error) {
	fi, err := f.f.Stat()
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// readFile reads a whole (small) file through fsys, refusing files larger than limitBytes so
// that a corrupt or hostile checkpoint cannot make us allocate without bound.
func readFile(fsys FS, name string, limitBytes int64) ([]byte, error) {
	f, err := fsys.OpenFile(name, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	size, err := f.Size()
	if err != nil {
		return nil, err
	}
	if size > limitBytes {
		return nil, corruptf(name, "file is %d bytes, limit %d", size, limitBytes)
	}
	buf := make([]byte, size)
	n, err := f.ReadAt(buf, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return buf[:n], nil
}

// writeFileAtomic writes data to name through a temporary file that is synced and renamed
// over name, then syncs the directory: after it returns, name holds either the old or the new
// content after any crash, never a mix.
func writeFileAtomic(fsys FS, name string, data []byte) error {
	if err := writeFileSynced(fsys, name, data); err != nil {
		return err
	}
	return fsys.SyncDir(filepath.Dir(name))
}

func exists(fsys FS, name string) bool {
	_, _, err := fsys.Stat(name)
	return err == nil
}
