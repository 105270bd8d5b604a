package server

// AdminDeps are the components only the metadata and administration handlers use
// (Metadata, CreateTopics, DeleteTopics, CreatePartitions, DescribeConfigs, AlterConfigs,
// IncrementalAlterConfigs, DescribeCluster, DescribeTopicPartitions). See Deps.
type AdminDeps struct{}
