package server

import "github.com/sluicehq/sluice/internal/txn"

// DataDeps are the components only the partition-data handlers use (Produce, Fetch,
// ListOffsets, OffsetForLeaderEpoch, InitProducerId, DeleteRecords, DescribeLogDirs,
// DescribeProducers). See Deps: those handlers also use Deps.Metadata (to tell a partition
// that does not exist from one this broker does not host, and to name the current leader)
// and Deps.Replicas (the partitions themselves).
type DataDeps struct {
	// ProducerIDs hands out producer ids to idempotent producers (InitProducerId with a null
	// transactional id). Nil on a node without it: InitProducerId then answers
	// COORDINATOR_NOT_AVAILABLE, which clients retry.
	ProducerIDs *txn.ProducerIDs

	// LogDir is the directory DescribeLogDirs reports for the replicas' storage (the storage
	// manager's Dir). "" means the first of log.dirs.
	LogDir string
}
