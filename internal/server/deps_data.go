package server

// DataDeps are the components only the partition-data handlers use (Produce, Fetch,
// ListOffsets, OffsetForLeaderEpoch, InitProducerId, DeleteRecords, DescribeLogDirs,
// DescribeProducers). See Deps.
type DataDeps struct{}
