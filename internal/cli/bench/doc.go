// Package bench is `sluice bench produce|consume|e2e`: a load generator and meter for any
// Kafka-protocol broker, built on franz-go's kgo client (the project's client), in the manner
// of Kafka's perf-test tools and rpk's benchmarks.
//
//   - produce: N records (or for a duration) of a fixed size from P kgo clients, creating the
//     topic with the asked partition count when it is missing; produce latency is measured
//     per record from the Produce call to its promise (client buffering included, as
//     Kafka's producer perf tool does).
//   - consume: reads a topic from its start (or end, or an offset) until N records or until
//     the end offsets seen when it started, with C kgo clients that split the partitions
//     between them (no consumer group: assignment is static, so a run measures fetch, not
//     rebalancing).
//   - e2e: both at once on the same topic; each value starts with the send time (8 bytes,
//     Unix nanoseconds), so every received record yields an end-to-end latency. The run
//     fails unless records received equal records acknowledged.
//
// Latencies go into Histogram, log-linear buckets of bounded size (0.8% relative error).
// A progress line is drawn once a second only when the output is a terminal; the final
// Summary is text or JSON (--json).
//
// Invariants: every goroutine a run starts (producers, consumers, progress) is waited for
// before the run returns; every client is closed; memory is bounded by kgo's buffered-record
// limit per producer, a fixed pool of value bytes and the histograms' fixed size.
//
// It imports nothing of the broker: it talks to brokers only over the Kafka protocol
// (connection flags from internal/cli/connect).
package bench
