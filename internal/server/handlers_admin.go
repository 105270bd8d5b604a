package server

// adminHandlers lists the metadata and administration APIs, in key order. See handlers() in
// registry.go.
//
// They are registered only where the node can serve them, so ApiVersions advertises
// nothing a client would find broken: the broker-side APIs need the metadata image
// (Deps.Metadata, absent on a controller-only node), and DescribeCluster is served on
// client listeners with the image and on controller listeners with a controller.
func (s *Server) adminHandlers() []Handler {
	var hs []Handler
	if s.opts.Deps.Metadata != nil {
		hs = append(hs,
			s.metadataHandler(),                // 03_metadata.go
			s.createTopicsHandler(),            // 19_create_topics.go
			s.deleteTopicsHandler(),            // 20_delete_topics.go
			s.describeConfigsHandler(),         // 32_describe_configs.go
			s.alterConfigsHandler(),            // 33_alter_configs.go
			s.createPartitionsHandler(),        // 37_create_partitions.go
			s.incrementalAlterConfigsHandler(), // 44_incremental_alter_configs.go
		)
	}
	if h := s.describeClusterHandler(); h.Listeners != 0 {
		hs = append(hs, h) // 60_describe_cluster.go
	}
	if s.opts.Deps.Metadata != nil {
		hs = append(hs, s.describeTopicPartitionsHandler()) // 75_describe_topic_partitions.go
	}
	return hs
}
