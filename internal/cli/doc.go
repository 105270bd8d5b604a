// Package cli holds the client-side commands of the sluice binary (topic, produce, consume,
// group, cluster, config, bench, log dump), built on franz-go's kgo and kadm. Each noun is its
// own subpackage that returns its cobra command; cmd/sluice only registers them and maps
// errors to exit codes. It talks to brokers only over the Kafka protocol and imports nothing
// from the broker's own packages except internal/record (log dump reads segments offline)
// and config definitions for documentation.
//
// The packages:
//   - connect: the connection flags every command shares (-b/--brokers, SLUICE_BROKERS; TLS
//     and SASL will join them there) and their franz-go options.
//   - bench: `sluice bench produce|consume|e2e`, the load generator that docs/BENCHMARKS.md
//     uses for its broker figures.
//   - topic, produce, consume, group, cluster, configcmd (`sluice config`; named so as not
//     to clash with internal/config): one noun each, in the manner of rpk.
//   - logdump: `sluice log dump`, the offline reader of segment, index and snapshot files
//     (the only command that needs no broker; it imports internal/record).
//   - output: the record formats of consume and produce (%-verbs or JSON lines).
//   - clidoc: renders the command tree as docs/CLI.md; clitest: test helpers (golden
//     files, masking of ids and addresses).
//
// This package itself holds what the nouns share: NewClient/NewAdmin (which first check
// that a broker answers, and otherwise say how to fix the address), the error classes the
// binary maps to exit codes (ErrUsage: 2; everything else, ErrFailed and ErrUnreachable
// included: 1), aligned tables, key=value flags and start positions (start, end, N, @time).
//
// The environment is read by cmd and handed in (a getenv function), so commands are
// testable without touching the process's environment.
package cli
