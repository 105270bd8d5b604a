// Package produce is `sluice produce TOPIC`: one record per input line, from stdin or
// files, with franz-go's kgo producer.
//
// A line is the record's value, or, with --key-sep, its key and value split at the first
// separator (a line without it has a null key). Headers given with -H go on every record.
// Records are sent asynchronously, at most kgo's buffered-record limit at a time (the read
// blocks when the buffer is full), and the command returns once every record is
// acknowledged or failed: it prints a one-line summary, or each acknowledged record in a
// format of internal/cli/output (--print-offsets, --format), and fails (exit 1) when any
// record failed. Lines longer than --max-line-bytes are refused before anything is sent for
// them. An interrupt stops reading at once (also a read blocked on a terminal), waits a
// little for the records in flight, prints the summary and fails.
//
// Partitioners: sticky (Kafka's default: keyed records by murmur2 of the key, the others
// stick to one partition per batch), round-robin (every record to the next partition),
// hash (every record by murmur2 of its key, a null key hashing as an empty one, like
// librdkafka's murmur2 partitioner), or one partition with --partition.
//
// It talks to brokers only over the Kafka protocol and imports nothing of the broker.
package produce
