// Package cli holds the client-side commands of the sluice binary (topic, produce, consume,
// group, cluster, config, bench, log dump), built on franz-go's kgo and kadm. Each noun is its
// own subpackage. It talks to brokers only over the Kafka protocol and imports nothing from
// the broker's own packages except config definitions for documentation.
package cli
