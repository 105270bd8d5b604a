package node

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// ErrDirInUse: another process holds a log directory.
var ErrDirInUse = errors.New("node: directory in use by another process")

// lockFile is Kafka's per-directory lock file name.
const lockFile = ".lock"

// dirLocks holds an exclusive lock on each data directory for the node's lifetime, as Kafka
// does with .lock, so that two processes never write the same logs (and a second start on
// the same directory fails at once instead of waiting on the metadata log's file lock).
// The kernel drops the locks when the process dies, so a crash leaves nothing stale.
type dirLocks []*os.File

func lockDirs(dirs []string) (dirLocks, error) {
	var ls dirLocks
	for _, d := range dirs {
		if err := os.MkdirAll(d, 0o755); err != nil {
			ls.release()
			return nil, err
		}
		f, err := os.OpenFile(filepath.Join(d, lockFile), os.O_CREATE|os.O_RDWR, 0o644)
		if err != nil {
			ls.release()
			return nil, err
		}
		if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
			f.Close()
			ls.release()
			if errors.Is(err, unix.EWOULDBLOCK) {
				return nil, fmt.Errorf("%w: %s (is another Sluice running on it?)", ErrDirInUse, d)
			}
			return nil, fmt.Errorf("lock %s: %w", d, err)
		}
		ls = append(ls, f)
	}
	return ls, nil
}

// release unlocks and closes every lock file (closing the descriptor drops the lock).
func (ls dirLocks) release() {
	for _, f := range ls {
		f.Close()
	}
}
