// Package topic is `sluice topic create|list|describe|alter-config|add-partitions|delete`:
// topic administration over the Kafka protocol with franz-go's kadm, in the manner of rpk.
//
// Commands that act on several topics print one row per topic (TOPIC, STATUS) and fail
// (exit 1) when any of them failed; nothing asks for confirmation (delete deletes).
// describe prints three sections (SUMMARY, CONFIGS with each value's source, PARTITIONS with
// leader, epoch, replicas, ISR and offsets); flags pick some of them.
//
// It talks to brokers only over the Kafka protocol (connection flags from
// internal/cli/connect) and imports nothing of the broker.
package topic
