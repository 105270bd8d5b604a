package config

import (
	"errors"
	"log/slog"
	"strings"
	"time"
)

// Broker is a node's validated, typed configuration. It is immutable: a runtime config
// change produces a new Broker (WithDynamic) that the server swaps in.
//
// Durations are time.Duration; "never" (Kafka's Long.MAX_VALUE ms) is math.MaxInt64.
// Sizes are int64 bytes. Counts are int.
type Broker struct {
	NodeID int32
	Roles  Roles
	// Rack is broker.rack, "" when unset.
	Rack string

	// Listeners are the sockets to open, with their security protocols resolved.
	Listeners []Listener
	// AdvertisedListeners are the broker (non-controller) endpoints given to clients and
	// registered with the controller. An empty Host means "this machine's hostname".
	AdvertisedListeners []Listener
	// ControllerListeners are the controller endpoints this node advertises, in
	// controller.listener.names order; empty unless the node is a controller.
	ControllerListeners []Listener
	// ControllerListenerNames lists controller.listener.names; a broker-only node reaches
	// the controllers with the first one's security protocol.
	ControllerListenerNames []string
	// InterBrokerListenerName names the advertised listener followers fetch from.
	InterBrokerListenerName string
	// SecurityProtocols maps every listener name to its protocol, controller names included.
	SecurityProtocols map[string]SecurityProtocol

	Quorum Quorum

	// LogDirs are the data directories (log.dirs, else log.dir).
	LogDirs []string
	// MetadataLogDir holds the metadata quorum's log and snapshots.
	MetadataLogDir                    string
	MetadataSnapshotMaxNewRecordBytes int64
	MetadataSnapshotMaxInterval       time.Duration

	SocketRequestMaxBytes int64
	// SocketSendBufferBytes and SocketReceiveBufferBytes are -1 for the OS default.
	SocketSendBufferBytes    int
	SocketReceiveBufferBytes int
	QueuedMaxRequests        int
	QueuedMaxRequestBytes    int64 // <= 0: the server's default
	// ConnectionsMaxIdle is negative for "never close idle connections".
	ConnectionsMaxIdle                   time.Duration
	MaxConnections                       int
	MaxConnectionsPerIP                  int
	MaxConnectionsPerIPOverrides         map[string]int
	FetchMaxBytes                        int64
	MaxIncrementalFetchSessionCacheSlots int

	NumPartitions            int32
	DefaultReplicationFactor int16
	AutoCreateTopics         bool
	DeleteTopicEnable        bool
	// TopicDefaults is the effective config of a topic without overrides.
	TopicDefaults Topic

	LogRetentionCheckInterval             time.Duration
	LogFlushSchedulerInterval             time.Duration
	LogFlushOffsetCheckpointInterval      time.Duration
	LogFlushStartOffsetCheckpointInterval time.Duration
	NumRecoveryThreadsPerDataDir          int
	FlushPolicy                           FlushPolicy

	Cleaner     Cleaner
	Replication Replication
	Groups      Groups
	Txn         Txn

	// AuthorizerEnabled is true when authorizer.class.name names the StandardAuthorizer.
	AuthorizerEnabled    bool
	SuperUsers           []string
	AllowEveryoneIfNoACL bool

	// MetricsListener is host:port for /metrics, "" when off.
	MetricsListener string
	LoggerLevel     slog.Level
	LoggerFormat    string

	src sources
}

// Roles are the process roles of a node.
type Roles struct {
	Broker     bool
	Controller bool
}

// Combined reports whether the node is both broker and controller.
func (r Roles) Combined() bool { return r.Broker && r.Controller }

// Quorum is the metadata quorum configuration.
type Quorum struct {
	// Voters is controller.quorum.voters in the configured order.
	Voters           []Voter
	BootstrapServers []HostPort
	ElectionTimeout  time.Duration
	FetchTimeout     time.Duration
	RequestTimeout   time.Duration
	RetryBackoff     time.Duration
	// BrokerSessionTimeout is how long the controller waits for heartbeats before fencing.
	BrokerSessionTimeout             time.Duration
	BrokerHeartbeatInterval          time.Duration
	InitialBrokerRegistrationTimeout time.Duration
}

// Cleaner is the log cleaner (compaction) configuration.
type Cleaner struct {
	Enable           bool
	Threads          int
	Backoff          time.Duration
	DedupeBufferSize int64
}

// Replication is the follower and leader-balancing configuration.
type Replication struct {
	LagTimeMax                  time.Duration
	FetchMaxBytes               int64
	FetchResponseMaxBytes       int64
	FetchMinBytes               int64
	FetchWaitMax                time.Duration
	FetchBackoff                time.Duration
	SocketTimeout               time.Duration
	SocketReceiveBufferBytes    int
	HighWatermarkCheckpoint     time.Duration
	NumFetchers                 int
	AutoLeaderRebalance         bool
	LeaderImbalanceCheck        time.Duration
	LeaderImbalancePerBrokerPct int
}

// Groups is the group coordinator configuration.
type Groups struct {
	OffsetsTopicNumPartitions     int32
	OffsetsTopicReplicationFactor int16
	OffsetsTopicSegmentBytes      int64
	OffsetsRetention              time.Duration
	OffsetsRetentionCheck         time.Duration
	OffsetsCommitTimeout          time.Duration
	OffsetMetadataMaxBytes        int
	InitialRebalanceDelay         time.Duration
	MinSessionTimeout             time.Duration
	MaxSessionTimeout             time.Duration
	MaxSize                       int
	// ConsumerProtocol is true when group.coordinator.rebalance.protocols has consumer.
	ConsumerProtocol bool
	Consumer         ConsumerGroups
}

// ConsumerGroups configures KIP-848 consumer-protocol groups.
type ConsumerGroups struct {
	SessionTimeout       time.Duration
	MinSessionTimeout    time.Duration
	MaxSessionTimeout    time.Duration
	HeartbeatInterval    time.Duration
	MinHeartbeatInterval time.Duration
	MaxHeartbeatInterval time.Duration
	MaxSize              int
	// Assignors are Sluice's assignor names ("uniform", "range"), default first.
	Assignors []string
}

// Txn is the transaction coordinator and producer-state configuration.
type Txn struct {
	StateLogNumPartitions     int32
	StateLogReplicationFactor int16
	StateLogSegmentBytes      int64
	StateLogMinISR            int
	TransactionalIDExpiration time.Duration
	MaxTimeout                time.Duration
	AbortTimedOutInterval     time.Duration
	RemoveExpiredInterval     time.Duration
	PartitionVerification     bool
	ProducerIDExpiration      time.Duration
}

// sources holds the parsed values of each layer. Maps are never modified after build.
type sources struct {
	static     map[string]Value
	dynDefault map[string]Value
	dynBroker  map[string]Value
}

// layerOrder is the precedence of layers below a topic override, highest first.
var layerOrder = []Source{SourceDynamicBroker, SourceDynamicDefaultBroker, SourceStaticBroker, SourceDefault}

func (s *sources) layer(src Source) map[string]Value {
	switch src {
	case SourceDynamicBroker:
		return s.dynBroker
	case SourceDynamicDefaultBroker:
		return s.dynDefault
	case SourceStaticBroker:
		return s.static
	}
	return nil
}

// lookup returns name's value in one layer; for SourceDefault, its default if it has one.
func (s *sources) lookup(name string, src Source) (Value, bool) {
	if src == SourceDefault {
		d := brokerTable.get(name)
		if d == nil || d.NoDefault {
			return Value{}, false
		}
		return brokerDefault(d), true
	}
	v, ok := s.layer(src)[name]
	return v, ok
}

// get returns the effective value of a broker key; a null Value if unset and no default.
func (s *sources) get(name string) Value {
	for _, src := range layerOrder {
		if v, ok := s.lookup(name, src); ok {
			return v
		}
	}
	d := brokerTable.get(name)
	return Value{def: d, null: true, Source: SourceDefault}
}

// isSet reports whether any layer other than the defaults sets name.
func (s *sources) isSet(name string) bool {
	for _, src := range layerOrder[:3] {
		if _, ok := s.lookup(name, src); ok {
			return true
		}
	}
	return false
}

// chain lists the values of names across layers in Kafka's DescribeConfigs synonym order:
// layer by layer (dynamic broker, dynamic default, static, default), and within a layer in
// the order of names. The first element is the effective one.
func (s *sources) chain(names []string) []Value {
	var out []Value
	for _, src := range layerOrder {
		for _, n := range names {
			if v, ok := s.lookup(n, src); ok {
				out = append(out, v)
			}
		}
	}
	return out
}

// New validates static properties (server.properties plus --override flags) and builds the
// typed config. Unknown keys, keys Sluice ignores and shadowed synonyms come back as
// warnings. All invalid values and conflicts are reported at once, joined; each names the
// key, the value, where it came from and what is allowed.
func New(static *Props) (*Broker, []Warning, error) {
	var warns []Warning
	var errs []error
	vals := make(map[string]Value, static.Len())
	for _, p := range static.All() {
		d := brokerTable.get(p.Key)
		if d == nil {
			warns = append(warns, unknownKeyWarning(p))
			continue
		}
		v, err := parseValue(d, p.Value)
		if err != nil {
			err.Origin = p.Origin
			errs = append(errs, err)
			continue
		}
		v.Source, v.Origin = SourceStaticBroker, p.Origin
		vals[p.Key] = v
		if d.Support == Informational && v.canonical() != brokerDefault(d).canonical() {
			// The docs of informational keys say why after "no effect: ".
			_, why, ok := strings.Cut(d.Doc, "no effect: ")
			if !ok {
				why = d.Doc
			}
			warns = append(warns, Warning{Key: p.Key, Origin: p.Origin,
				Message: "has no effect in Sluice: " + why})
		}
	}
	populateNodeID(vals)
	b, w, err := build(sources{static: vals})
	warns = append(warns, w...)
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		return nil, warns, err
	}
	return b, warns, nil
}

// populateNodeID copies broker.id to node.id or back when only one is set, as Kafka does.
func populateNodeID(vals map[string]Value) {
	nid, hasNode := vals["node.id"]
	bid, hasBroker := vals["broker.id"]
	switch {
	case hasBroker && !hasNode:
		v := bid
		v.def = brokerTable.get("node.id")
		vals["node.id"] = v
	case hasNode && !hasBroker:
		v := nid
		v.def = brokerTable.get("broker.id")
		vals["broker.id"] = v
	}
}

// WithDynamic returns the config with runtime overrides applied: clusterDefault holds the
// dynamic cluster-wide defaults, perBroker this broker's dynamic settings (both as stored in
// the metadata log, key to string value). Each key must exist and be dynamically updatable
// at that scope; the result is validated as a whole, as New validates static files.
func (b *Broker) WithDynamic(clusterDefault, perBroker map[string]string) (*Broker, []Warning, error) {
	def, err1 := parseDynamic(clusterDefault, false)
	brk, err2 := parseDynamic(perBroker, true)
	if err := errors.Join(err1, err2); err != nil {
		return nil, nil, err
	}
	return build(sources{static: b.src.static, dynDefault: def, dynBroker: brk})
}

// ValidateDynamic checks a dynamic broker config change (IncrementalAlterConfigs or
// AlterConfigs on a BROKER resource) before it is written to the metadata log: every key
// known, updatable at runtime, and at the right scope (perBroker false means the
// cluster-wide default resource), every value valid. Cross-key checks happen when the
// result is applied with WithDynamic.
func ValidateDynamic(changes map[string]string, perBroker bool) error {
	_, err := parseDynamic(changes, perBroker)
	return err
}

func parseDynamic(m map[string]string, perBroker bool) (map[string]Value, error) {
	out := make(map[string]Value, len(m))
	var errs []error
	origin := originDynamicDefault
	src := SourceDynamicDefaultBroker
	if perBroker {
		origin, src = originDynamicBroker, SourceDynamicBroker
	}
	for _, k := range sortedKeys(m) {
		d := brokerTable.get(k)
		switch {
		case d == nil:
			errs = append(errs, &Error{Kind: ErrUnknownKey, Key: k, Value: m[k], Origin: origin, Reason: "no such broker config"})
			continue
		case d.Mode == ReadOnly:
			errs = append(errs, &Error{Kind: ErrReadOnly, Key: k, Value: redact(d, m[k]), Origin: origin,
				Reason: "can only be set in server.properties or with --override"})
			continue
		case d.Mode == PerBroker && !perBroker:
			errs = append(errs, &Error{Kind: ErrPerBrokerOnly, Key: k, Value: redact(d, m[k]), Origin: origin,
				Reason: "can only be set for a single broker, not as a cluster-wide default"})
			continue
		}
		v, err := parseValue(d, m[k])
		if err != nil {
			err.Origin = origin
			errs = append(errs, err)
			continue
		}
		v.Source, v.Origin = src, origin
		out[k] = v
	}
	return out, errors.Join(errs...)
}

func redact(d *Def, s string) string {
	if d.Sensitive() {
		return "[hidden]"
	}
	return s
}

// Value returns the effective value of a broker key and where it came from, for
// DescribeConfigs and for code that reads a key generically. ok is false for unknown keys.
func (b *Broker) Value(name string) (v Value, ok bool) {
	if brokerTable.get(name) == nil {
		return Value{}, false
	}
	return b.src.get(name), true
}
