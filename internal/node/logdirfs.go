package node

import (
	"path/filepath"
	"slices"

	"github.com/sluicehq/sluice/internal/quorum"
	"github.com/sluicehq/sluice/internal/storage"
)

// logDirFS is the file system storage sees when metadata.log.dir is also the log dir (the
// single-node default): the quorum's __cluster_metadata-0 directory is left out of the log
// dir's listing. Its name parses as a partition directory, and storage would otherwise open
// it as a partition log, write segment files next to raft's and list it in checkpoints and
// DescribeLogDirs. Kafka's log manager skips the metadata log's directory the same way.
type logDirFS struct {
	storage.FS
	dir string // the log dir, cleaned
}

func newLogDirFS(fs storage.FS, logDir string) storage.FS {
	return logDirFS{FS: fs, dir: filepath.Clean(logDir)}
}

func (f logDirFS) List(dir string) ([]string, error) {
	names, err := f.FS.List(dir)
	if err != nil || filepath.Clean(dir) != f.dir {
		return names, err
	}
	return slices.DeleteFunc(names, func(n string) bool { return n == quorum.DirName }), nil
}
