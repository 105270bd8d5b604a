// Package consume is `sluice consume TOPIC...`: print records with franz-go's kgo
// consumer, in a consumer group (-g) or directly from every or some partitions.
//
// Where to start (-o): start, end, an offset, or @time (Unix ms, RFC 3339, or @-1h for
// an hour ago). In a group, -o applies only to partitions without a committed offset, as
// Kafka's auto.offset.reset does; the group commits the offsets of the records printed (not
// of records fetched but left unprinted when -n stops the run) when the command ends.
// Unlike Kafka's console consumer, a partition it printed nothing from gets no commit (Kafka
// commits the position the reset chose), so -o end in a new group commits nothing.
//
// When to stop: after -n records, at the end (--exit-at-end: the high watermarks read when
// the command started, or, in a group, when its partitions were assigned), or on an
// interrupt (exit code 0). Records are written in the format of internal/cli/output.
//
// For --exit-at-end the command resolves where each partition starts itself (committed
// offset, then -o) with kadm, and counts a partition done once its next offset reaches
// that high watermark; a partition that starts at or past it is done at once.
//
// It talks to brokers only over the Kafka protocol and imports nothing of the broker.
package consume
