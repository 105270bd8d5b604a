// Package cli holds the client-side commands of the sluice binary (topic, produce, consume,
// group, cluster, config, bench, log dump), built on franz-go's kgo and kadm. Each noun is its
// own subpackage that returns its cobra command; cmd/sluice only registers them and maps
// errors to exit codes. It talks to brokers only over the Kafka protocol and imports nothing
// from the broker's own packages except config definitions for documentation.
//
// Built so far:
//   - connect: the connection flags every command shares (-b/--brokers, SLUICE_BROKERS; TLS
//     and SASL will join them there) and their franz-go options.
//   - bench: `sluice bench produce|consume|e2e`, the load generator that docs/BENCHMARKS.md
//     uses for its broker figures.
//
// The environment is read by cmd and handed in (a getenv function), so commands are
// testable without touching the process's environment.
package cli
