// Package config turns a server.properties file and --override flags into a validated,
// typed broker configuration, using Apache Kafka's own property names so that a Kafka
// operator's file carries over. It also resolves topic configs (overrides over broker
// defaults) and answers DescribeConfigs.
//
// Only cmd and config read files, flags or the environment (STYLE.md, convention 9); config
// reads a file only when asked to (ReadFile, Load) and never the environment. It logs
// nothing: unknown keys and the like come back as []Warning for the caller to log. It must
// not import the server, storage or protocol packages; they import it.
//
// # The model
//
// Every key has exactly one definition, a Def in the tables of defs_broker.go (broker keys)
// and defs_topic.go (topic keys): name, Type (Kafka's ConfigType), default, Unit,
// Validator, Importance, UpdateMode (Kafka's dynamic broker config modes), documentation,
// whether Sluice honours it (Support), how it differs from Kafka (Differs), and the link
// between broker and topic keys. Parsing, validation, the typed Broker and Topic structs,
// DescribeConfigs entries, --help text (RenderText) and docs/CONFIG.md (RenderMarkdown) are
// all derived from these tables. The tables are the package's only globals and are never
// modified; accessors return copies.
//
// Defaults and valid ranges are Kafka 4.x's. Where Sluice differs, the key's Differs field
// says so and why; the notable ones are log.dir (./sluice-data, not /tmp/kafka-logs),
// process.roles (required: no ZooKeeper mode), class-name keys (Sluice cannot load Java
// classes), and Sluice's own sluice.* keys. Keys that Sluice accepts but does not act on
// (num.network.threads, num.io.threads, …) are marked Informational and documented as such;
// setting one to a non-default value produces a warning. Where Kafka leaves a timeout, count
// or replication factor unchecked, Sluice adds the obvious bound (a timeout of at least 1 ms,
// a replication factor within the protocol's int16): the valid values shown are Sluice's.
//
// # Layers and precedence
//
// A broker key's value comes from the first layer that sets it:
//
//	dynamic per-broker      (DYNAMIC_BROKER_CONFIG, from the metadata log; WithDynamic)
//	dynamic cluster default (DYNAMIC_DEFAULT_BROKER_CONFIG, likewise)
//	static                  (STATIC_BROKER_CONFIG: server.properties, then --override)
//	default                 (DEFAULT_CONFIG: the Def)
//
// A topic key's value is the topic's override (DYNAMIC_TOPIC_CONFIG) or else comes from its
// broker synonyms, searched layer by layer and, within a layer, in the synonyms' order:
// retention.ms ← log.retention.ms, log.retention.minutes, log.retention.hours (converted to
// ms; any negative retention means -1, unlimited). This is the order Kafka lists synonyms in
// DescribeConfigs, and the first one is the effective value.
//
// # Files
//
// ParseProperties reads java.util.Properties syntax exactly (comments, the three separators,
// continuation lines, escapes, last duplicate wins) and records each key's line so errors
// can point at it. It is fuzzed (FuzzParseProperties) and bounded (8 MiB input).
//
// # Errors
//
// Every error wraps a sentinel (ErrSyntax, ErrInvalidValue, ErrUnknownTopicConfig, …) in an
// *Error naming the key, the value, where it came from (file:line, --override, dynamic) and
// what is allowed. New reports all problems of a file at once, joined with errors.Join.
//
// # Invariants
//
//   - A *Broker returned without error has passed every per-key and cross-key check and is
//     never modified; runtime changes build a new one.
//   - Typed durations saturate: Kafka's Long.MAX_VALUE ms ("never") is math.MaxInt64.
//   - Passwords (TypePassword) never appear in errors, Entry values or rendered docs.
package config
