// Package metrics is the broker's Prometheus instrumentation: one registry per node
// (never the global one), the server.Observer that turns connection and request events into
// counters and histograms, the storage flush-latency hook, and pull collectors that read the
// domain packages' plain counters and snapshots at scrape time (replica traffic and waits,
// per-partition log sizes, group coordinator stats, raft and metadata positions). Every
// metric is listed in docs/METRICS.md; a test fails when one is missing there.
//
// # Cost
//
// The data path pays for metrics only where an event happens anyway: a request adds a
// handful of atomic operations (its API's counters and histograms are resolved once per API
// key and cached in an array, so no label lookup happens per request), and the error counts
// of Produce and Fetch responses are read by typed loops (other responses through
// server.ErrorCounts, which reflects). Per-topic and per-partition values are not pushed at
// all: the replica and storage keep atomics, and the collectors read them on scrape.
//
// # Cardinality
//
// Labels are bounded by the configuration: API names (the API table), Kafka error names,
// listener names, group types and states, and topic and partition for the log and traffic
// metrics, whose series number the partitions this broker hosts (4 per partition and 3 per
// topic). A deleted partition's series disappear with it; its counters restart at zero if it
// comes back.
//
// It sits beside internal/node: it may import server, replica, storage, group, quorum,
// controller and the protocol tables; nothing but node (and tests) imports it, and no other
// package imports Prometheus.
package metrics
