package config

import (
	"errors"
	"fmt"
)

// Often-used defaults, spelled once.
const (
	maxLong = "9223372036854775807" // Java's Long.MAX_VALUE: Kafka's "never"/"unlimited"
	maxInt  = "2147483647"          // Java's Integer.MAX_VALUE
)

// Sluice's own defaults that differ from Kafka's, with the reason next to them.
const (
	// defaultLogDir replaces Kafka's /tmp/kafka-logs: /tmp is emptied on reboot on most
	// systems, which loses every topic, and a Sluice broker must never open a Kafka broker's
	// data directory by accident.
	defaultLogDir = "./sluice-data"

	// defaultFlushPolicy is the safe choice: an acknowledged write is on disk. It is to be
	// revisited when benchmarks have measured what group commit costs (DESIGN.md §7).
	defaultFlushPolicy = FlushGroupCommit
)

// The Kafka class names a Sluice broker accepts because it has a built-in equivalent.
const (
	standardAuthorizerClass = "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
	uniformAssignorClass    = "org.apache.kafka.coordinator.group.assignor.UniformAssignor"
	rangeAssignorClass      = "org.apache.kafka.coordinator.group.assignor.RangeAssignor"
)

// brokerDefs is the table of broker keys. Defaults and valid ranges are Apache Kafka 4.x's
// unless Differs says otherwise; update modes are Kafka's dynamic broker config modes.
func brokerDefs() []Def {
	return []Def{
		// ---- Node and metadata quorum ----
		{Name: "node.id", Type: TypeInt, Default: "-1", Importance: High, Group: GroupNode,
			Doc: "This node's id, unique in the cluster, used both as broker id and as controller quorum voter id. Required (-1 means unset); `sluice serve` without a file uses 1."},
		{Name: "broker.id", Type: TypeInt, Default: "-1", Importance: High, Group: GroupNode,
			Doc: "The ZooKeeper-era name of node.id. If only broker.id is set it is used as node.id; if both are set they must be equal."},
		{Name: "process.roles", Type: TypeList, Default: "", Validator: rolesSyntax, Importance: High, Group: GroupNode,
			Doc:     "The roles this node plays: broker (serves clients and hosts replicas), controller (a voter in the metadata quorum), or both (combined mode, the single-node default).",
			Differs: "Required: Sluice has no ZooKeeper mode, so an empty value is an error rather than a switch to ZooKeeper."},
		{Name: "controller.quorum.voters", Type: TypeList, Default: "", Validator: votersSyntax, Importance: High, Group: GroupNode,
			Doc:     "The metadata quorum's voters as id@host:port, comma-separated, where host:port is each controller's controller listener. Every node of a cluster lists the same voters.",
			Differs: "A voter id listed twice is an error (Kafka keeps the last one)."},
		{Name: "controller.quorum.bootstrap.servers", Type: TypeList, Default: "", Validator: hostPortsSyntax, Importance: High, Group: GroupNode,
			Doc: "host:port addresses of controllers a broker-only node contacts to find the quorum when controller.quorum.voters is not set."},
		{Name: "controller.listener.names", Type: TypeString, NoDefault: true, Importance: High, Group: GroupNode,
			Doc: "Comma-separated names of the listeners used for controller traffic. A controller must have each of them in listeners; a broker-only node must not, and uses the first to reach the controllers."},
		{Name: "controller.quorum.election.timeout.ms", Type: TypeInt, Default: "1000", Unit: UnitMillis, Validator: atLeast(1), Importance: High, Group: GroupNode,
			Doc: "How long a voter waits without hearing from a leader before it starts an election."},
		{Name: "controller.quorum.fetch.timeout.ms", Type: TypeInt, Default: "2000", Unit: UnitMillis, Validator: atLeast(1), Importance: High, Group: GroupNode,
			Doc: "How long a leader may go without successful contact from a majority of voters before it steps down."},
		{Name: "controller.quorum.request.timeout.ms", Type: TypeInt, Default: "2000", Unit: UnitMillis, Validator: atLeast(1), Importance: Medium, Group: GroupNode,
			Doc: "How long a quorum request may wait for its answer before it is retried."},
		{Name: "controller.quorum.retry.backoff.ms", Type: TypeInt, Default: "20", Unit: UnitMillis, Validator: atLeast(0), Importance: Low, Group: GroupNode,
			Doc: "The pause before retrying a failed quorum request."},
		{Name: "broker.session.timeout.ms", Type: TypeInt, Default: "9000", Unit: UnitMillis, Validator: atLeast(1), Importance: Medium, Group: GroupNode,
			Doc: "How long the controller waits for a broker's heartbeat before it fences the broker and moves partition leadership away from it."},
		{Name: "broker.heartbeat.interval.ms", Type: TypeInt, Default: "2000", Unit: UnitMillis, Validator: atLeast(1), Importance: Medium, Group: GroupNode,
			Doc: "How often a broker sends a heartbeat to the active controller."},
		{Name: "initial.broker.registration.timeout.ms", Type: TypeInt, Default: "60000", Unit: UnitMillis, Validator: atLeast(1), Importance: Medium, Group: GroupNode,
			Doc: "How long a starting broker keeps trying to register with the controller before it gives up and exits."},
		{Name: "metadata.log.dir", Type: TypeString, NoDefault: true, Importance: High, Group: GroupNode,
			Doc: "Directory for the metadata quorum's log and snapshots. Unset means the first of the log directories."},
		{Name: "metadata.log.max.record.bytes.between.snapshots", Type: TypeLong, Default: "20971520", Unit: UnitBytes, Validator: atLeast(1), Importance: High, Group: GroupNode,
			Doc: "Take a metadata snapshot after this many bytes of new metadata records since the last one."},
		{Name: "metadata.log.max.snapshot.interval.ms", Type: TypeLong, Default: "3600000", Unit: UnitMillis, Validator: atLeast(0), Importance: High, Group: GroupNode,
			Doc: "Take a metadata snapshot at least this often when there are new records; 0 turns time-based snapshots off."},
		{Name: "broker.rack", Type: TypeString, NoDefault: true, Importance: Medium, Group: GroupNode,
			Doc: "The rack or availability zone of this broker. Replica placement spreads each partition's replicas over racks."},
		{Name: "log.dirs", Type: TypeList, NoDefault: true, Validator: noDuplicates, Importance: High, Group: GroupNode,
			Doc: "Comma-separated directories holding partition data. Takes precedence over log.dir."},
		{Name: "log.dir", Type: TypeList, Default: defaultLogDir, Validator: noDuplicates, Importance: High, Group: GroupNode,
			Doc:     "The data directories when log.dirs is not set.",
			Differs: "Default ./sluice-data instead of /tmp/kafka-logs: /tmp is emptied on reboot on many systems, and a Sluice broker should never pick up a Kafka broker's data by accident."},

		// ---- Listeners and network ----
		{Name: "listeners", Type: TypeString, Default: "PLAINTEXT://:9092", Validator: listenersSyntax, Importance: High, Mode: PerBroker, Group: GroupListeners,
			Doc: "Where to accept connections, as NAME://host:port, comma-separated. An empty host means all interfaces; port 0 picks a free port. NAME maps to a security protocol through listener.security.protocol.map."},
		{Name: "advertised.listeners", Type: TypeString, NoDefault: true, Validator: advertisedSyntax, Importance: High, Mode: PerBroker, Group: GroupListeners,
			Doc: "The addresses given to clients and other brokers, in the syntax of listeners. Unset means listeners. They must be routable: 0.0.0.0 and :: are refused, so a node listening on all interfaces must set this."},
		{Name: "listener.security.protocol.map", Type: TypeString, Default: defaultProtocolMap, Validator: protocolMapSyntax, Importance: Low, Mode: PerBroker, Group: GroupListeners,
			Doc: "NAME:PROTOCOL pairs giving each listener name its security protocol. When left unset and no listener uses SSL or SASL, the controller listener names map to PLAINTEXT."},
		{Name: "inter.broker.listener.name", Type: TypeString, NoDefault: true, Importance: Medium, Group: GroupListeners,
			Doc: "The listener brokers use to reach each other (replication). Unset means the listener named after security.inter.broker.protocol. Set at most one of the two."},
		{Name: "security.inter.broker.protocol", Type: TypeString, Default: "PLAINTEXT", Validator: oneOf("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"), Importance: Medium, Group: GroupListeners,
			Doc: "The security protocol for broker-to-broker traffic when inter.broker.listener.name is not set; the listener of that name is used."},
		{Name: "socket.request.max.bytes", Type: TypeInt, Default: "104857600", Unit: UnitBytes, Validator: atLeast(1), Importance: High, Group: GroupListeners,
			Doc: "The largest request the broker reads; a larger size prefix closes the connection before anything is allocated."},
		{Name: "socket.send.buffer.bytes", Type: TypeInt, Default: "102400", Unit: UnitBytes, Importance: High, Group: GroupListeners,
			Doc: "SO_SNDBUF for client connections; -1 leaves the operating system's default."},
		{Name: "socket.receive.buffer.bytes", Type: TypeInt, Default: "102400", Unit: UnitBytes, Importance: High, Group: GroupListeners,
			Doc: "SO_RCVBUF for client connections; -1 leaves the operating system's default."},
		{Name: "socket.listen.backlog.size", Type: TypeInt, Default: "50", Validator: atLeast(1), Importance: Medium, Group: GroupListeners, Support: Informational,
			Doc: "Accepted for compatibility; no effect: Go's listeners take their backlog from the kernel (net.core.somaxconn)."},
		{Name: "num.network.threads", Type: TypeInt, Default: "3", Validator: atLeast(1), Importance: High, Mode: ClusterWide, Group: GroupListeners, Support: Informational,
			Doc: "Accepted for compatibility; no effect: each connection is served by its own goroutines, so there is no network thread pool to size."},
		{Name: "num.io.threads", Type: TypeInt, Default: "8", Validator: atLeast(1), Importance: High, Mode: ClusterWide, Group: GroupListeners, Support: Informational,
			Doc: "Accepted for compatibility; no effect: requests run on goroutines scheduled over GOMAXPROCS cores, so there is no request handler pool to size."},
		{Name: "background.threads", Type: TypeInt, Default: "10", Validator: atLeast(1), Importance: High, Mode: ClusterWide, Group: GroupListeners, Support: Informational,
			Doc: "Accepted for compatibility; no effect: background work (retention, checkpoints) runs on goroutines owned by the component that needs it."},
		{Name: "queued.max.requests", Type: TypeInt, Default: "500", Validator: atLeast(1), Importance: High, Group: GroupListeners,
			Doc: "The most requests read from clients and not yet answered, across the broker; when reached, the broker stops reading new requests until some finish."},
		{Name: "queued.max.request.bytes", Type: TypeLong, Default: "268435456", Unit: UnitBytes, Validator: atLeast(-1), Importance: Medium, Group: GroupListeners,
			Doc: "The most bytes of client requests held in memory at once, across the broker: read from sockets and not yet handled. A connection whose next request would not fit waits before reading it. Raised to socket.request.max.bytes when below it, so that every admissible request fits. Unlike Kafka, whose default -1 leaves it unbounded, Sluice always bounds request memory: -1 or 0 means the default, 256 MiB (room for two requests of the largest size socket.request.max.bytes admits by default, so one does not stall every other connection)."},
		{Name: "connections.max.idle.ms", Type: TypeLong, Default: "600000", Unit: UnitMillis, Importance: Medium, Group: GroupListeners,
			Doc: "Close client connections idle for longer than this; -1 never closes them."},
		{Name: "max.connections", Type: TypeInt, Default: maxInt, Validator: atLeast(0), Importance: Medium, Mode: ClusterWide, Group: GroupListeners,
			Doc: "The most client connections the broker holds open at once; more are refused."},
		{Name: "max.connections.per.ip", Type: TypeInt, Default: maxInt, Validator: atLeast(0), Importance: Medium, Mode: ClusterWide, Group: GroupListeners,
			Doc: "The most connections from one IP address; 0 is allowed only with max.connections.per.ip.overrides."},
		{Name: "max.connections.per.ip.overrides", Type: TypeString, Default: "", Validator: connectionOverridesSyntax, Importance: Medium, Mode: ClusterWide, Group: GroupListeners,
			Doc: "Per-address exceptions to max.connections.per.ip as host:count, comma-separated."},
		{Name: "fetch.max.bytes", Type: TypeInt, Default: "57671680", Unit: UnitBytes, Validator: atLeast(1024), Importance: Medium, Group: GroupListeners,
			Doc: "The most record bytes one Fetch response carries, whatever the request asks for."},
		{Name: "max.incremental.fetch.session.cache.slots", Type: TypeInt, Default: "1000", Validator: atLeast(0), Importance: Medium, Group: GroupListeners,
			Doc: "The most incremental fetch sessions (KIP-227) the broker keeps; 0 turns fetch sessions off."},

		// ---- Log storage ----
		{Name: "num.partitions", Type: TypeInt, Default: "1", Validator: atLeast(1), Importance: Medium, Group: GroupLog,
			Doc: "The partition count of topics created without one: auto-created topics and CreateTopics with -1."},
		{Name: "default.replication.factor", Type: TypeInt, Default: "1", Validator: between(1, 32767), Importance: Medium, Group: GroupLog,
			Doc: "The replication factor of topics created without one (at most 32767, the protocol's limit)."},
		{Name: "min.insync.replicas", Type: TypeInt, Default: "1", Validator: atLeast(1), Importance: High, Mode: ClusterWide, Group: GroupLog, Topic: "min.insync.replicas",
			Doc: "Default for the topic config min.insync.replicas: how many in-sync replicas an acks=all write needs."},
		{Name: "auto.create.topics.enable", Type: TypeBoolean, Default: "true", Importance: High, Group: GroupLog,
			Doc: "Create a topic when a client asks for metadata of, or produces to, a topic that does not exist."},
		{Name: "delete.topic.enable", Type: TypeBoolean, Default: "true", Importance: High, Group: GroupLog,
			Doc: "Allow DeleteTopics. When false, deleting a topic fails."},
		{Name: "log.retention.hours", Type: TypeInt, Default: "168", Unit: UnitHours, Importance: High, Group: GroupLog, Topic: "retention.ms",
			Doc: "Default retention time in hours, used when neither log.retention.ms nor log.retention.minutes is set."},
		{Name: "log.retention.minutes", Type: TypeInt, NoDefault: true, Unit: UnitMinutes, Importance: High, Group: GroupLog, Topic: "retention.ms",
			Doc: "Default retention time in minutes, used when log.retention.ms is not set."},
		{Name: "log.retention.ms", Type: TypeLong, NoDefault: true, Unit: UnitMillis, Importance: High, Mode: ClusterWide, Group: GroupLog, Topic: "retention.ms",
			Doc: "Default retention time in milliseconds, the most precise of the three retention keys; -1 (any negative value) keeps data forever."},
		{Name: "log.retention.bytes", Type: TypeLong, Default: "-1", Unit: UnitBytes, Importance: High, Mode: ClusterWide, Group: GroupLog, Topic: "retention.bytes",
			Doc: "Default for retention.bytes: the most bytes a partition keeps before its oldest segments are deleted; -1 means no size limit."},
		{Name: "log.retention.check.interval.ms", Type: TypeLong, Default: "300000", Unit: UnitMillis, Validator: atLeast(1), Importance: Medium, Group: GroupLog,
			Doc: "How often the broker looks for segments to delete under the retention settings."},
		{Name: "log.segment.bytes", Type: TypeInt, Default: "1073741824", Unit: UnitBytes, Validator: atLeast(1048576), Importance: High, Mode: ClusterWide, Group: GroupLog, Topic: "segment.bytes",
			Doc: "Default for segment.bytes: start a new segment file when the active one reaches this size."},
		{Name: "log.roll.hours", Type: TypeInt, Default: "168", Unit: UnitHours, Validator: atLeast(1), Importance: High, Group: GroupLog, Topic: "segment.ms",
			Doc: "Default segment age in hours before a new segment is started, used when log.roll.ms is not set."},
		{Name: "log.roll.ms", Type: TypeLong, NoDefault: true, Unit: UnitMillis, Importance: High, Mode: ClusterWide, Group: GroupLog, Topic: "segment.ms",
			Doc: "Default for segment.ms in milliseconds; takes precedence over log.roll.hours."},
		{Name: "log.roll.jitter.hours", Type: TypeInt, Default: "0", Unit: UnitHours, Validator: atLeast(0), Importance: High, Group: GroupLog, Topic: "segment.jitter.ms",
			Doc: "Default random jitter subtracted from the segment age limit, in hours, used when log.roll.jitter.ms is not set."},
		{Name: "log.roll.jitter.ms", Type: TypeLong, NoDefault: true, Unit: UnitMillis, Importance: High, Mode: ClusterWide, Group: GroupLog, Topic: "segment.jitter.ms",
			Doc: "Default for segment.jitter.ms; takes precedence over log.roll.jitter.hours."},
		{Name: "log.index.interval.bytes", Type: TypeInt, Default: "4096", Unit: UnitBytes, Validator: atLeast(0), Importance: Medium, Mode: ClusterWide, Group: GroupLog, Topic: "index.interval.bytes",
			Doc: "Default for index.interval.bytes: how many log bytes between two offset index entries."},
		{Name: "log.index.size.max.bytes", Type: TypeInt, Default: "10485760", Unit: UnitBytes, Validator: atLeast(4), Importance: Medium, Mode: ClusterWide, Group: GroupLog, Topic: "segment.index.bytes",
			Doc: "Default for segment.index.bytes: the size of each segment's offset and time index files; a full index rolls the segment."},
		{Name: "log.flush.interval.messages", Type: TypeLong, Default: maxLong, Validator: atLeast(1), Importance: High, Mode: ClusterWide, Group: GroupLog, Topic: "flush.messages",
			Doc: "Default for flush.messages: force an fsync of a partition after this many messages. The default never forces one."},
		{Name: "log.flush.interval.ms", Type: TypeLong, NoDefault: true, Unit: UnitMillis, Importance: High, Mode: ClusterWide, Group: GroupLog, Topic: "flush.ms",
			Doc: "Default for flush.ms: force an fsync of a partition when its oldest unflushed message is this old. Unset means log.flush.scheduler.interval.ms."},
		{Name: "log.flush.scheduler.interval.ms", Type: TypeLong, Default: maxLong, Unit: UnitMillis, Importance: High, Group: GroupLog, Topic: "flush.ms",
			Doc: "How often the flusher checks whether any partition is due under flush.ms, and the default of flush.ms when log.flush.interval.ms is not set."},
		{Name: "log.flush.offset.checkpoint.interval.ms", Type: TypeInt, Default: "60000", Unit: UnitMillis, Validator: atLeast(0), Importance: High, Group: GroupLog,
			Doc: "How often each log directory's recovery-point checkpoint is written; recovery after a crash starts from it."},
		{Name: "log.flush.start.offset.checkpoint.interval.ms", Type: TypeInt, Default: "60000", Unit: UnitMillis, Validator: atLeast(0), Importance: High, Group: GroupLog,
			Doc: "How often each log directory's log-start-offset checkpoint is written."},
		{Name: "log.segment.delete.delay.ms", Type: TypeLong, Default: "60000", Unit: UnitMillis, Validator: atLeast(0), Importance: High, Mode: ClusterWide, Group: GroupLog, Topic: "file.delete.delay.ms",
			Doc: "Default for file.delete.delay.ms: how long a segment removed from a log stays on disk (renamed .deleted) so in-flight reads can finish."},
		{Name: "log.cleanup.policy", Type: TypeList, Default: "delete", Validator: listIn("compact", "delete"), Importance: Medium, Mode: ClusterWide, Group: GroupLog, Topic: "cleanup.policy",
			Doc: "Default for cleanup.policy: delete old segments, compact by key, or both."},
		{Name: "log.preallocate", Type: TypeBoolean, Default: "false", Importance: Medium, Mode: ClusterWide, Group: GroupLog, Topic: "preallocate", Support: Informational,
			Doc: "Default for preallocate. Accepted for compatibility; no effect: Sluice does not preallocate segment files."},
		{Name: "log.message.timestamp.type", Type: TypeString, Default: "CreateTime", Validator: oneOf("CreateTime", "LogAppendTime"), Importance: Medium, Mode: ClusterWide, Group: GroupLog, Topic: "message.timestamp.type",
			Doc: "Default for message.timestamp.type: keep the producer's timestamps (CreateTime) or stamp batches with the broker's clock (LogAppendTime)."},
		{Name: "log.message.timestamp.before.max.ms", Type: TypeLong, Default: maxLong, Unit: UnitMillis, Validator: atLeast(0), Importance: Medium, Mode: ClusterWide, Group: GroupLog, Topic: "message.timestamp.before.max.ms",
			Doc: "Default for message.timestamp.before.max.ms: how far in the past a CreateTime timestamp may be."},
		{Name: "log.message.timestamp.after.max.ms", Type: TypeLong, Default: "3600000", Unit: UnitMillis, Validator: atLeast(0), Importance: Medium, Mode: ClusterWide, Group: GroupLog, Topic: "message.timestamp.after.max.ms",
			Doc: "Default for message.timestamp.after.max.ms: how far in the future a CreateTime timestamp may be."},
		{Name: "log.message.downconversion.enable", Type: TypeBoolean, Default: "true", Importance: Low, Mode: ClusterWide, Group: GroupLog, Topic: "message.downconversion.enable", Support: Informational,
			Doc: "Default for message.downconversion.enable. Accepted for compatibility with pre-4.0 files; no effect: Sluice stores and serves record batch v2 only and never converts formats."},
		{Name: "message.max.bytes", Type: TypeInt, Default: "1048588", Unit: UnitBytes, Validator: atLeast(0), Importance: High, Mode: ClusterWide, Group: GroupLog, Topic: "max.message.bytes",
			Doc: "Default for max.message.bytes: the largest record batch a partition accepts, after compression."},
		{Name: "compression.type", Type: TypeString, Default: "producer", Validator: compressionTypes, Importance: High, Mode: ClusterWide, Group: GroupLog, Topic: "compression.type",
			Doc: "Default for compression.type: producer keeps batches as the producer compressed them; a codec name makes the broker recompress to it."},
		{Name: "compression.gzip.level", Type: TypeInt, Default: "-1", Validator: gzipLevel, Importance: Medium, Mode: ClusterWide, Group: GroupLog, Topic: "compression.gzip.level",
			Doc: "Default for compression.gzip.level: the level used when the broker recompresses with gzip."},
		{Name: "compression.lz4.level", Type: TypeInt, Default: "9", Validator: between(1, 17), Importance: Medium, Mode: ClusterWide, Group: GroupLog, Topic: "compression.lz4.level",
			Doc: "Default for compression.lz4.level: the level used when the broker recompresses with lz4."},
		{Name: "compression.zstd.level", Type: TypeInt, Default: "3", Validator: between(-131072, 22), Importance: Medium, Mode: ClusterWide, Group: GroupLog, Topic: "compression.zstd.level",
			Doc: "Default for compression.zstd.level: the level used when the broker recompresses with zstd."},
		{Name: "num.recovery.threads.per.data.dir", Type: TypeInt, Default: "2", Validator: atLeast(1), Importance: High, Mode: ClusterWide, Group: GroupLog,
			Doc: "How many logs of one data directory are recovered, or flushed at shutdown, in parallel."},

		// ---- Log cleaner ----
		{Name: "log.cleaner.enable", Type: TypeBoolean, Default: "true", Importance: Medium, Group: GroupCleaner,
			Doc: "Run the log cleaner, which compacts topics with cleanup.policy=compact. Internal topics (__consumer_offsets, __transaction_state) grow without bound if it is off."},
		{Name: "log.cleaner.threads", Type: TypeInt, Default: "1", Validator: atLeast(0), Importance: Medium, Mode: ClusterWide, Group: GroupCleaner,
			Doc: "How many logs are compacted at the same time."},
		{Name: "log.cleaner.backoff.ms", Type: TypeLong, Default: "15000", Unit: UnitMillis, Validator: atLeast(0), Importance: Medium, Mode: ClusterWide, Group: GroupCleaner,
			Doc: "How long the cleaner sleeps when no log needs compacting."},
		{Name: "log.cleaner.dedupe.buffer.size", Type: TypeLong, Default: "134217728", Unit: UnitBytes, Importance: Medium, Mode: ClusterWide, Group: GroupCleaner,
			Doc: "Memory for the key-to-offset maps of all cleaner threads together; it bounds how much of a log one compaction pass can cover."},
		{Name: "log.cleaner.delete.retention.ms", Type: TypeLong, Default: "86400000", Unit: UnitMillis, Validator: atLeast(0), Importance: Medium, Mode: ClusterWide, Group: GroupCleaner, Topic: "delete.retention.ms",
			Doc: "Default for delete.retention.ms: how long tombstones and transaction markers survive compaction."},
		{Name: "log.cleaner.min.cleanable.ratio", Type: TypeDouble, Default: "0.5", Validator: floatRange{0, 1}, Importance: Medium, Mode: ClusterWide, Group: GroupCleaner, Topic: "min.cleanable.dirty.ratio",
			Doc: "Default for min.cleanable.dirty.ratio: compact a log once this fraction of it has not been compacted yet."},
		{Name: "log.cleaner.min.compaction.lag.ms", Type: TypeLong, Default: "0", Unit: UnitMillis, Validator: atLeast(0), Importance: Medium, Mode: ClusterWide, Group: GroupCleaner, Topic: "min.compaction.lag.ms",
			Doc: "Default for min.compaction.lag.ms: a record stays uncompacted at least this long."},
		{Name: "log.cleaner.max.compaction.lag.ms", Type: TypeLong, Default: maxLong, Unit: UnitMillis, Validator: atLeast(1), Importance: Medium, Mode: ClusterWide, Group: GroupCleaner, Topic: "max.compaction.lag.ms",
			Doc: "Default for max.compaction.lag.ms: a record becomes eligible for compaction after at most this long, whatever the dirty ratio."},

		// ---- Replication ----
		{Name: "replica.lag.time.max.ms", Type: TypeLong, Default: "30000", Unit: UnitMillis, Validator: atLeast(1), Importance: High, Group: GroupReplication,
			Doc: "A follower that has not caught up to the leader's end within this time is removed from the ISR."},
		{Name: "replica.fetch.max.bytes", Type: TypeInt, Default: "1048576", Unit: UnitBytes, Validator: atLeast(0), Importance: Medium, Group: GroupReplication,
			Doc: "How many bytes a follower asks for per partition in one fetch (a larger first batch is still returned whole)."},
		{Name: "replica.fetch.response.max.bytes", Type: TypeInt, Default: "10485760", Unit: UnitBytes, Validator: atLeast(0), Importance: Medium, Group: GroupReplication,
			Doc: "How many bytes a follower asks for in one whole fetch response."},
		{Name: "replica.fetch.min.bytes", Type: TypeInt, Default: "1", Unit: UnitBytes, Validator: atLeast(0), Importance: High, Group: GroupReplication,
			Doc: "A follower's fetch waits on the leader until this many bytes are available or replica.fetch.wait.max.ms passes."},
		{Name: "replica.fetch.wait.max.ms", Type: TypeInt, Default: "500", Unit: UnitMillis, Validator: atLeast(0), Importance: High, Group: GroupReplication,
			Doc: "The longest a follower's fetch waits on the leader for data. Must not exceed replica.lag.time.max.ms or replica.socket.timeout.ms."},
		{Name: "replica.fetch.backoff.ms", Type: TypeInt, Default: "1000", Unit: UnitMillis, Validator: atLeast(0), Importance: Medium, Group: GroupReplication,
			Doc: "The pause after a failed follower fetch before the next."},
		{Name: "replica.socket.timeout.ms", Type: TypeInt, Default: "30000", Unit: UnitMillis, Importance: High, Group: GroupReplication,
			Doc: "Network timeout of follower fetch requests."},
		{Name: "replica.socket.receive.buffer.bytes", Type: TypeInt, Default: "65536", Unit: UnitBytes, Importance: High, Group: GroupReplication,
			Doc: "SO_RCVBUF of follower fetch connections; -1 leaves the operating system's default."},
		{Name: "replica.high.watermark.checkpoint.interval.ms", Type: TypeLong, Default: "5000", Unit: UnitMillis, Validator: atLeast(1), Importance: High, Group: GroupReplication,
			Doc: "How often each log directory's high-watermark checkpoint is written."},
		{Name: "num.replica.fetchers", Type: TypeInt, Default: "1", Validator: atLeast(1), Importance: High, Mode: ClusterWide, Group: GroupReplication,
			Doc: "How many fetcher connections a follower opens to each leader broker; more can raise replication throughput."},
		{Name: "unclean.leader.election.enable", Type: TypeBoolean, Default: "false", Importance: High, Mode: ClusterWide, Group: GroupReplication, Topic: "unclean.leader.election.enable",
			Doc: "Default for unclean.leader.election.enable: when no ISR member is alive, elect an out-of-sync replica and lose the records it lacks."},
		{Name: "auto.leader.rebalance.enable", Type: TypeBoolean, Default: "true", Importance: High, Group: GroupReplication,
			Doc: "Periodically move partition leadership back to each partition's preferred (first) replica."},
		{Name: "leader.imbalance.check.interval.seconds", Type: TypeLong, Default: "300", Unit: UnitSeconds, Validator: atLeast(1), Importance: High, Group: GroupReplication,
			Doc: "How often the controller checks for leadership imbalance."},
		{Name: "leader.imbalance.per.broker.percentage", Type: TypeInt, Default: "10", Validator: atLeast(0), Importance: High, Group: GroupReplication,
			Doc: "Rebalance leadership when more than this percentage of a broker's preferred leaderships are held elsewhere."},

		// ---- Consumer groups and offsets ----
		{Name: "offsets.topic.num.partitions", Type: TypeInt, Default: "50", Validator: atLeast(1), Importance: High, Group: GroupGroups,
			Doc: "Partitions of __consumer_offsets. Group coordinators are placed by hashing the group id over them, so never change it after the topic exists."},
		{Name: "offsets.topic.replication.factor", Type: TypeShort, Default: "3", Validator: atLeast(1), Importance: High, Group: GroupGroups,
			Doc: "Replication factor of __consumer_offsets. The topic is not created until this many brokers are registered; `sluice serve` without a file uses 1."},
		{Name: "offsets.topic.segment.bytes", Type: TypeInt, Default: "104857600", Unit: UnitBytes, Validator: atLeast(1), Importance: High, Group: GroupGroups,
			Doc: "Segment size of __consumer_offsets, kept small so compaction and coordinator loading are quick."},
		{Name: "offsets.retention.minutes", Type: TypeInt, Default: "10080", Unit: UnitMinutes, Validator: atLeast(1), Importance: High, Group: GroupGroups,
			Doc: "How long committed offsets of an empty group are kept before they are expired."},
		{Name: "offsets.retention.check.interval.ms", Type: TypeLong, Default: "600000", Unit: UnitMillis, Validator: atLeast(1), Importance: High, Group: GroupGroups,
			Doc: "How often expired offsets are looked for."},
		{Name: "offsets.commit.timeout.ms", Type: TypeInt, Default: "5000", Unit: UnitMillis, Validator: atLeast(1), Importance: High, Group: GroupGroups,
			Doc: "How long an offset commit waits for __consumer_offsets replicas before it fails."},
		{Name: "offset.metadata.max.bytes", Type: TypeInt, Default: "4096", Unit: UnitBytes, Importance: High, Group: GroupGroups,
			Doc: "The largest metadata string a client may attach to a committed offset."},
		{Name: "group.initial.rebalance.delay.ms", Type: TypeInt, Default: "3000", Unit: UnitMillis, Validator: atLeast(0), Importance: Medium, Group: GroupGroups,
			Doc: "How long a new classic group waits for more members before its first rebalance. `sluice serve` without a file uses 0 so a lone consumer starts at once."},
		{Name: "group.min.session.timeout.ms", Type: TypeInt, Default: "6000", Unit: UnitMillis, Importance: Medium, Group: GroupGroups,
			Doc: "The shortest session timeout a classic group member may ask for."},
		{Name: "group.max.session.timeout.ms", Type: TypeInt, Default: "1800000", Unit: UnitMillis, Importance: Medium, Group: GroupGroups,
			Doc: "The longest session timeout a classic group member may ask for."},
		{Name: "group.max.size", Type: TypeInt, Default: maxInt, Validator: atLeast(1), Importance: Medium, Group: GroupGroups,
			Doc: "The most members a classic group may have."},
		{Name: "group.coordinator.rebalance.protocols", Type: TypeList, Default: "classic,consumer", Validator: rebalanceProtocols, Importance: Medium, Group: GroupGroups,
			Doc:     "The group protocols the coordinator serves: classic (JoinGroup/SyncGroup) and consumer (KIP-848). classic cannot be turned off.",
			Differs: "share is refused: Sluice does not implement share groups (KIP-932)."},
		{Name: "group.consumer.session.timeout.ms", Type: TypeInt, Default: "45000", Unit: UnitMillis, Validator: atLeast(1), Importance: Medium, Group: GroupGroups,
			Doc: "Session timeout of members of consumer-protocol (KIP-848) groups."},
		{Name: "group.consumer.min.session.timeout.ms", Type: TypeInt, Default: "45000", Unit: UnitMillis, Validator: atLeast(1), Importance: Medium, Group: GroupGroups,
			Doc: "The shortest session timeout a consumer-protocol group may be configured with."},
		{Name: "group.consumer.max.session.timeout.ms", Type: TypeInt, Default: "60000", Unit: UnitMillis, Validator: atLeast(1), Importance: Medium, Group: GroupGroups,
			Doc: "The longest session timeout a consumer-protocol group may be configured with."},
		{Name: "group.consumer.heartbeat.interval.ms", Type: TypeInt, Default: "5000", Unit: UnitMillis, Validator: atLeast(1), Importance: Medium, Group: GroupGroups,
			Doc: "How often consumer-protocol members heartbeat; must be below the session timeout."},
		{Name: "group.consumer.min.heartbeat.interval.ms", Type: TypeInt, Default: "5000", Unit: UnitMillis, Validator: atLeast(1), Importance: Medium, Group: GroupGroups,
			Doc: "The shortest heartbeat interval a consumer-protocol group may be configured with."},
		{Name: "group.consumer.max.heartbeat.interval.ms", Type: TypeInt, Default: "15000", Unit: UnitMillis, Validator: atLeast(1), Importance: Medium, Group: GroupGroups,
			Doc: "The longest heartbeat interval a consumer-protocol group may be configured with."},
		{Name: "group.consumer.max.size", Type: TypeInt, Default: maxInt, Validator: atLeast(1), Importance: Medium, Group: GroupGroups,
			Doc: "The most members a consumer-protocol group may have."},
		{Name: "group.consumer.assignors", Type: TypeList, Default: uniformAssignorClass + "," + rangeAssignorClass, Validator: assignors, Importance: Medium, Group: GroupGroups,
			Doc:     "Server-side assignors for consumer-protocol groups; the first is used when a member names none. Kafka's class names and the short names uniform and range are accepted.",
			Differs: "Only the built-in uniform and range assignors: Sluice cannot load Java classes."},

		{Name: "share.coordinator.state.topic.replication.factor", Type: TypeShort, Default: "3", Validator: atLeast(1), Importance: High, Group: GroupGroups, Support: Informational,
			Doc: "Replication factor of Kafka's __share_group_state topic. Accepted because Kafka's sample server.properties sets it; no effect: Sluice does not implement share groups (KIP-932)."},
		{Name: "share.coordinator.state.topic.min.isr", Type: TypeShort, Default: "2", Validator: atLeast(1), Importance: High, Group: GroupGroups, Support: Informational,
			Doc: "min.insync.replicas of Kafka's __share_group_state topic. Accepted because Kafka's sample server.properties sets it; no effect: Sluice does not implement share groups (KIP-932)."},

		// ---- Transactions and producer ids ----
		{Name: "transaction.state.log.num.partitions", Type: TypeInt, Default: "50", Validator: atLeast(1), Importance: High, Group: GroupTxn,
			Doc: "Partitions of __transaction_state. Transaction coordinators are placed by hashing the transactional id over them, so never change it after the topic exists."},
		{Name: "transaction.state.log.replication.factor", Type: TypeShort, Default: "3", Validator: atLeast(1), Importance: High, Group: GroupTxn,
			Doc: "Replication factor of __transaction_state; `sluice serve` without a file uses 1."},
		{Name: "transaction.state.log.segment.bytes", Type: TypeInt, Default: "104857600", Unit: UnitBytes, Validator: atLeast(1), Importance: High, Group: GroupTxn,
			Doc: "Segment size of __transaction_state, kept small so compaction and coordinator loading are quick."},
		{Name: "transaction.state.log.min.isr", Type: TypeInt, Default: "2", Validator: atLeast(1), Importance: High, Group: GroupTxn,
			Doc: "min.insync.replicas of __transaction_state; `sluice serve` without a file uses 1."},
		{Name: "transactional.id.expiration.ms", Type: TypeInt, Default: "604800000", Unit: UnitMillis, Validator: atLeast(1), Importance: High, Group: GroupTxn,
			Doc: "Forget a transactional id that has sent no transaction request for this long."},
		{Name: "transaction.max.timeout.ms", Type: TypeInt, Default: "900000", Unit: UnitMillis, Validator: atLeast(1), Importance: High, Group: GroupTxn,
			Doc: "The longest transaction timeout a producer may ask for; longer requests fail InitProducerId."},
		{Name: "transaction.abort.timed.out.transaction.cleanup.interval.ms", Type: TypeInt, Default: "10000", Unit: UnitMillis, Validator: atLeast(1), Importance: Low, Group: GroupTxn,
			Doc: "How often the coordinator aborts transactions that have exceeded their timeout."},
		{Name: "transaction.remove.expired.transaction.cleanup.interval.ms", Type: TypeInt, Default: "3600000", Unit: UnitMillis, Validator: atLeast(1), Importance: Low, Group: GroupTxn,
			Doc: "How often the coordinator removes expired transactional ids."},
		{Name: "transaction.partition.verification.enable", Type: TypeBoolean, Default: "true", Importance: Low, Mode: ClusterWide, Group: GroupTxn,
			Doc: "Check with the transaction coordinator that a partition was added to the transaction before accepting a transactional write to it (KIP-890), closing the hanging-transaction hole."},
		{Name: "producer.id.expiration.ms", Type: TypeInt, Default: "86400000", Unit: UnitMillis, Validator: atLeast(1), Importance: Low, Mode: ClusterWide, Group: GroupTxn,
			Doc: "Forget an idempotent producer's sequence state when it has not written to a partition for this long."},

		// ---- Authorization and policies ----
		{Name: "authorizer.class.name", Type: TypeString, Default: "", Validator: authorizerClass, Importance: Low, Group: GroupSecurity,
			Doc:     "Empty: every request is allowed. " + standardAuthorizerClass + ": check ACLs, which live in the metadata log.",
			Differs: "Only Kafka's KRaft StandardAuthorizer name is accepted, meaning Sluice's built-in equivalent: Sluice cannot load Java classes."},
		{Name: "super.users", Type: TypeString, NoDefault: true, Importance: Medium, Group: GroupSecurity,
			Doc: "Principals allowed everything whatever the ACLs say, separated by semicolons: User:admin;User:ops."},
		{Name: "allow.everyone.if.no.acl.found", Type: TypeBoolean, Default: "false", Importance: Medium, Group: GroupSecurity,
			Doc: "With an authorizer, allow access to a resource that has no ACL at all instead of denying it."},
		{Name: "create.topic.policy.class.name", Type: TypeClass, NoDefault: true, Validator: noJavaClass, Importance: Low, Group: GroupSecurity,
			Doc:     "A Java CreateTopicPolicy in Kafka.",
			Differs: "Must be unset: Sluice cannot load Java classes, and ignoring a policy would silently weaken it."},
		{Name: "alter.config.policy.class.name", Type: TypeClass, NoDefault: true, Validator: noJavaClass, Importance: Low, Group: GroupSecurity,
			Doc:     "A Java AlterConfigPolicy in Kafka.",
			Differs: "Must be unset: Sluice cannot load Java classes, and ignoring a policy would silently weaken it."},

		// ---- Sluice's own keys ----
		{Name: "sluice.log.flush.policy", Type: TypeString, Default: string(defaultFlushPolicy), Validator: oneOf(string(FlushNone), string(FlushGroupCommit)), Importance: High, Group: GroupSluice,
			Doc: "When an acknowledged write is on disk. group-commit: produce responses wait until the appended batch is fsynced; concurrent appends share one fsync, so the cost is a short wait, not an fsync per request. none: Kafka's behaviour, data reaches disk when the OS writes it back or flush.messages/flush.ms force it, so a power loss can lose acknowledged writes that were not yet replicated. flush.messages and flush.ms apply under both. group-commit is the default because a single node has no replica to recover acknowledged data from; measured on a 2-core VM it costs 27-48% of one producer's peak throughput and 1-3 ms of median produce latency (docs/BENCHMARKS.md). Consumers see only data that is on disk under group-commit."},
		{Name: "sluice.metrics.listener", Type: TypeString, Default: "localhost:9644", Validator: optionalHostPort, Importance: Medium, Group: GroupSluice,
			Doc: "host:port serving Prometheus metrics at /metrics and the health checks /healthz and /readyz (docs/METRICS.md); empty turns it off. Bound to localhost by default because metric labels name topics and clients; use 0.0.0.0:9644 to expose it."},
		{Name: "sluice.logger.level", Type: TypeString, Default: "info", Validator: oneOfFold("debug", "info", "warn", "error"), Importance: Medium, Group: GroupSluice,
			Doc: "The least severe level of the broker's own log messages that is written; debug adds one line per request (API, client, sizes, times), like Kafka's request logger. The name says logger, not log, because Kafka's log.* keys are about partition data."},
		{Name: "sluice.logger.format", Type: TypeString, Default: "text", Validator: oneOf("text", "json"), Importance: Low, Group: GroupSluice,
			Doc: "Format of the broker's own log messages on stderr: text (key=value) or json (one object a line)."},
	}
}

// FlushPolicy is the value of sluice.log.flush.policy.
type FlushPolicy string

// The flush policies.
const (
	// FlushNone is Kafka's behaviour: acknowledge once in the page cache.
	FlushNone FlushPolicy = "none"
	// FlushGroupCommit acknowledges once fsynced, sharing fsyncs between concurrent appends.
	FlushGroupCommit FlushPolicy = "group-commit"
)

var compressionTypes = oneOf("uncompressed", "zstd", "lz4", "snappy", "gzip", "producer")

var rolesSyntax = check{desc: "list of [broker, controller], no duplicates", fn: func(v Value) error {
	if err := listIn("broker", "controller").Validate(v); err != nil {
		return err
	}
	return noDuplicates.Validate(v)
}}

var advertisedSyntax = check{desc: "NAME://host:port, comma-separated", fn: func(v Value) error {
	_, err := parseListenersOpt(v.s, nil, false)
	return err
}}

var rebalanceProtocols = check{desc: "list of [classic, consumer], including classic", fn: func(v Value) error {
	if err := listIn("classic", "consumer").Validate(v); err != nil {
		return err
	}
	for _, p := range v.list {
		if p == "classic" {
			return nil
		}
	}
	return errors.New("classic cannot be turned off")
}}

var assignors = check{desc: "non-empty list of [uniform, range] or their Kafka class names", fn: func(v Value) error {
	if len(v.list) == 0 {
		return errors.New("must not be empty")
	}
	for _, a := range v.list {
		if assignorName(a) == "" {
			return fmt.Errorf("%q is not an assignor Sluice has", a)
		}
	}
	return nil
}}

// assignorName maps an accepted group.consumer.assignors entry to Sluice's assignor name,
// or "" if Sluice has no such assignor.
func assignorName(s string) string {
	switch s {
	case "uniform", uniformAssignorClass:
		return "uniform"
	case "range", rangeAssignorClass:
		return "range"
	}
	return ""
}

var authorizerClass = check{desc: `"" or ` + standardAuthorizerClass, fn: func(v Value) error {
	if v.s == "" || v.s == standardAuthorizerClass {
		return nil
	}
	return errors.New("not loadable: Sluice cannot load Java classes, and only Kafka's StandardAuthorizer has a built-in equivalent")
}}
