package config

// Type is the data type of a config key. The numeric values are Kafka's ConfigType ids as
// carried in DescribeConfigs responses (v3+), so the server can send int8(t) unchanged.
type Type int8

// The config types, with Kafka's ConfigType ids.
const (
	TypeUnknown  Type = 0
	TypeBoolean  Type = 1
	TypeString   Type = 2
	TypeInt      Type = 3 // 32-bit signed
	TypeShort    Type = 4 // 16-bit signed
	TypeLong     Type = 5 // 64-bit signed
	TypeDouble   Type = 6
	TypeList     Type = 7 // comma-separated, whitespace around commas trimmed
	TypeClass    Type = 8 // a Java class name; Sluice cannot load classes (see each key)
	TypePassword Type = 9 // a string never shown in DescribeConfigs, docs or errors
)

// String returns the lower-case name Kafka's documentation uses for the type.
func (t Type) String() string {
	switch t {
	case TypeBoolean:
		return "boolean"
	case TypeString:
		return "string"
	case TypeInt:
		return "int"
	case TypeShort:
		return "short"
	case TypeLong:
		return "long"
	case TypeDouble:
		return "double"
	case TypeList:
		return "list"
	case TypeClass:
		return "class"
	case TypePassword:
		return "password"
	}
	return "unknown"
}

// isInteger reports whether values of the type are held as int64.
func (t Type) isInteger() bool { return t == TypeInt || t == TypeShort || t == TypeLong }

// Unit is what an integer key counts. Kafka spells the unit in the key's name
// (log.retention.hours, log.retention.ms); Unit lets the typed config turn any of them into
// a time.Duration, and lets topic keys convert their broker synonyms (hours to ms).
type Unit uint8

// The units of integer keys.
const (
	UnitNone Unit = iota
	UnitBytes
	UnitMillis
	UnitSeconds
	UnitMinutes
	UnitHours
)

// String returns a short suffix for docs, or "" for UnitNone.
func (u Unit) String() string {
	switch u {
	case UnitBytes:
		return "bytes"
	case UnitMillis:
		return "ms"
	case UnitSeconds:
		return "seconds"
	case UnitMinutes:
		return "minutes"
	case UnitHours:
		return "hours"
	}
	return ""
}

// millis is the number of milliseconds in one unit, or 0 for a unit that is not a time.
func (u Unit) millis() int64 {
	switch u {
	case UnitMillis:
		return 1
	case UnitSeconds:
		return 1000
	case UnitMinutes:
		return 60 * 1000
	case UnitHours:
		return 60 * 60 * 1000
	}
	return 0
}

// Importance is Kafka's rough guide to how likely an operator needs to touch a key.
type Importance uint8

// The importance levels, as in Kafka's documentation.
const (
	High Importance = iota
	Medium
	Low
)

func (i Importance) String() string {
	switch i {
	case High:
		return "high"
	case Medium:
		return "medium"
	}
	return "low"
}

// UpdateMode says whether, and at which scope, a broker key can be changed at runtime with
// IncrementalAlterConfigs/AlterConfigs. These are Kafka's dynamic broker config modes; Sluice
// keeps Kafka's mode for every key it shares with Kafka so that tooling (kafka-configs.sh,
// kadm) sees the same read-only flags.
type UpdateMode uint8

// The update modes.
const (
	// ReadOnly keys take effect only from server.properties or --override at start.
	ReadOnly UpdateMode = iota
	// PerBroker keys can be changed for one broker at a time, never as a cluster default
	// (they name things that differ per machine, such as listeners).
	PerBroker
	// ClusterWide keys can be changed for one broker or as the cluster-wide default.
	ClusterWide
)

func (m UpdateMode) String() string {
	switch m {
	case PerBroker:
		return "per-broker"
	case ClusterWide:
		return "cluster-wide"
	}
	return "read-only"
}

// Source says where an effective value came from. The numeric values are Kafka's
// ConfigSource ids as carried in DescribeConfigs responses (v1+).
type Source int8

// The config sources, highest precedence first, with Kafka's ids.
const (
	SourceUnknown              Source = 0
	SourceDynamicTopic         Source = 1 // a topic's own override (DYNAMIC_TOPIC_CONFIG)
	SourceDynamicBroker        Source = 2 // set at runtime for this broker
	SourceDynamicDefaultBroker Source = 3 // set at runtime as the cluster-wide default
	SourceStaticBroker         Source = 4 // server.properties or --override
	SourceDefault              Source = 5 // the key's default
)

// String returns Kafka's name for the source, as kafka-configs.sh prints it.
func (s Source) String() string {
	switch s {
	case SourceDynamicTopic:
		return "DYNAMIC_TOPIC_CONFIG"
	case SourceDynamicBroker:
		return "DYNAMIC_BROKER_CONFIG"
	case SourceDynamicDefaultBroker:
		return "DYNAMIC_DEFAULT_BROKER_CONFIG"
	case SourceStaticBroker:
		return "STATIC_BROKER_CONFIG"
	case SourceDefault:
		return "DEFAULT_CONFIG"
	}
	return "UNKNOWN"
}

// Support says whether Sluice acts on a key.
type Support uint8

// The support levels.
const (
	// Honoured keys change Sluice's behaviour as they change Kafka's.
	Honoured Support = iota
	// Informational keys are accepted and validated, so a Kafka server.properties loads
	// unchanged, but have no effect in Sluice; each such key's documentation says why.
	Informational
)

func (s Support) String() string {
	if s == Informational {
		return "informational"
	}
	return "honoured"
}

// Group orders and titles keys in --help and docs/CONFIG.md.
type Group string

// The groups of broker keys, in the order the docs list them.
const (
	GroupNode        Group = "Node and metadata quorum"
	GroupListeners   Group = "Listeners and network"
	GroupLog         Group = "Log storage"
	GroupCleaner     Group = "Log cleaner (compaction)"
	GroupReplication Group = "Replication"
	GroupGroups      Group = "Consumer groups and offsets"
	GroupTxn         Group = "Transactions and producer ids"
	GroupSecurity    Group = "Authorization and policies"
	GroupSluice      Group = "Sluice's own keys"
	GroupTopic       Group = "Topic-level configs"
)

var groupOrder = []Group{GroupNode, GroupListeners, GroupLog, GroupCleaner, GroupReplication,
	GroupGroups, GroupTxn, GroupSecurity, GroupSluice, GroupTopic}
