package config

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// reader builds typed fields from sources, collecting errors instead of stopping at the
// first, so an operator sees every problem in one run.
type reader struct {
	s     *sources
	errs  []error
	warns []Warning
}

func (r *reader) v(name string) Value {
	if brokerTable.get(name) == nil {
		panic("config: no such broker key " + name) // a typo in this file; tests catch it
	}
	return r.s.get(name)
}

func (r *reader) b(name string) bool            { return r.v(name).b }
func (r *reader) i64(name string) int64         { return r.v(name).i }
func (r *reader) n(name string) int             { return int(r.v(name).i) }
func (r *reader) i32(name string) int32         { return int32(r.v(name).i) }
func (r *reader) i16(name string) int16         { return int16(r.v(name).i) }
func (r *reader) dur(name string) time.Duration { return r.v(name).Duration() }
func (r *reader) str(name string) string        { return r.v(name).s }
func (r *reader) list(name string) []string     { return r.v(name).List() }
func (r *reader) fail(err error)                { r.errs = append(r.errs, err) }
func (r *reader) origin(name string) Origin     { return r.v(name).Origin }
func (r *reader) conflict(name, format string, args ...any) {
	v := r.v(name)
	r.fail(conflict(name, v.String(), v.Origin, format, args...))
}

// build derives the typed config from its layers and runs the cross-key checks.
func build(s sources) (*Broker, []Warning, error) {
	r := &reader{s: &s}
	b := &Broker{src: s}
	var warns []Warning

	r.node(b)
	r.listeners(b)
	r.quorumChecks(b)

	b.LogDirs = nonEmpty(r.list("log.dir"))
	if v := r.v("log.dirs"); !v.IsNull() {
		b.LogDirs = nonEmpty(v.list)
	}
	if len(b.LogDirs) == 0 {
		r.fail(&Error{Kind: ErrMissing, Key: "log.dirs", Reason: "at least one log directory must be set in log.dirs or log.dir"})
	}
	b.MetadataLogDir = r.str("metadata.log.dir")
	if r.v("metadata.log.dir").IsNull() && len(b.LogDirs) > 0 {
		b.MetadataLogDir = b.LogDirs[0]
	}
	b.MetadataSnapshotMaxNewRecordBytes = r.i64("metadata.log.max.record.bytes.between.snapshots")
	b.MetadataSnapshotMaxInterval = r.dur("metadata.log.max.snapshot.interval.ms")

	b.SocketRequestMaxBytes = r.i64("socket.request.max.bytes")
	b.SocketSendBufferBytes = r.n("socket.send.buffer.bytes")
	b.SocketReceiveBufferBytes = r.n("socket.receive.buffer.bytes")
	b.QueuedMaxRequests = r.n("queued.max.requests")
	b.QueuedMaxRequestBytes = r.i64("queued.max.request.bytes")
	b.ConnectionsMaxIdle = r.dur("connections.max.idle.ms")
	b.MaxConnections = r.n("max.connections")
	b.MaxConnectionsPerIP = r.n("max.connections.per.ip")
	b.MaxConnectionsPerIPOverrides, _ = parseConnectionOverrides(r.str("max.connections.per.ip.overrides"))
	if b.MaxConnectionsPerIP == 0 && len(b.MaxConnectionsPerIPOverrides) == 0 {
		r.conflict("max.connections.per.ip", "0 is only allowed together with max.connections.per.ip.overrides")
	}
	b.FetchMaxBytes = r.i64("fetch.max.bytes")
	b.MaxIncrementalFetchSessionCacheSlots = r.n("max.incremental.fetch.session.cache.slots")

	b.NumPartitions = r.i32("num.partitions")
	b.DefaultReplicationFactor = r.i16("default.replication.factor")
	b.AutoCreateTopics = r.b("auto.create.topics.enable")
	b.DeleteTopicEnable = r.b("delete.topic.enable")
	b.LogRetentionCheckInterval = r.dur("log.retention.check.interval.ms")
	b.LogFlushSchedulerInterval = r.dur("log.flush.scheduler.interval.ms")
	b.LogFlushOffsetCheckpointInterval = r.dur("log.flush.offset.checkpoint.interval.ms")
	b.LogFlushStartOffsetCheckpointInterval = r.dur("log.flush.start.offset.checkpoint.interval.ms")
	b.NumRecoveryThreadsPerDataDir = r.n("num.recovery.threads.per.data.dir")
	b.FlushPolicy = FlushPolicy(r.str("sluice.log.flush.policy"))

	// Checks Kafka makes on the broker-level log settings, expressed on the resolved topic
	// defaults so that every synonym is covered.
	td, err := resolveTopic(&s, nil)
	if err != nil {
		r.fail(err)
	}
	b.TopicDefaults = td
	if r.s.get("log.roll.ms").i < 1 && !r.s.get("log.roll.ms").IsNull() {
		r.conflict("log.roll.ms", "must be at least 1")
	}
	if v := r.s.get("log.roll.jitter.ms"); !v.IsNull() && v.i < 0 {
		r.conflict("log.roll.jitter.ms", "must not be negative")
	}
	if td.Retention == 0 {
		name := s.chain(topicTable.get("retention.ms").Synonyms)[0].Name()
		r.conflict(name, "a retention of 0 would delete data as soon as it is written; use -1 for no limit")
	}

	b.Cleaner = Cleaner{
		Enable:           r.b("log.cleaner.enable"),
		Threads:          r.n("log.cleaner.threads"),
		Backoff:          r.dur("log.cleaner.backoff.ms"),
		DedupeBufferSize: r.i64("log.cleaner.dedupe.buffer.size"),
	}
	if b.Cleaner.Threads > 0 && b.Cleaner.DedupeBufferSize/int64(b.Cleaner.Threads) <= 1<<20 {
		r.conflict("log.cleaner.dedupe.buffer.size", "must be more than 1 MiB per cleaner thread (log.cleaner.threads=%d)", b.Cleaner.Threads)
	}

	b.Replication = Replication{
		LagTimeMax:                  r.dur("replica.lag.time.max.ms"),
		FetchMaxBytes:               r.i64("replica.fetch.max.bytes"),
		FetchResponseMaxBytes:       r.i64("replica.fetch.response.max.bytes"),
		FetchMinBytes:               r.i64("replica.fetch.min.bytes"),
		FetchWaitMax:                r.dur("replica.fetch.wait.max.ms"),
		FetchBackoff:                r.dur("replica.fetch.backoff.ms"),
		SocketTimeout:               r.dur("replica.socket.timeout.ms"),
		SocketReceiveBufferBytes:    r.n("replica.socket.receive.buffer.bytes"),
		HighWatermarkCheckpoint:     r.dur("replica.high.watermark.checkpoint.interval.ms"),
		NumFetchers:                 r.n("num.replica.fetchers"),
		AutoLeaderRebalance:         r.b("auto.leader.rebalance.enable"),
		LeaderImbalanceCheck:        r.dur("leader.imbalance.check.interval.seconds"),
		LeaderImbalancePerBrokerPct: r.n("leader.imbalance.per.broker.percentage"),
	}
	// A follower's long poll must end before the leader would consider it lagging or the
	// socket would time out, or the ISR flaps.
	if b.Replication.FetchWaitMax > b.Replication.SocketTimeout {
		r.conflict("replica.fetch.wait.max.ms", "must not exceed replica.socket.timeout.ms (%d)", r.i64("replica.socket.timeout.ms"))
	}
	if b.Replication.FetchWaitMax > b.Replication.LagTimeMax {
		r.conflict("replica.fetch.wait.max.ms", "must not exceed replica.lag.time.max.ms (%d)", r.i64("replica.lag.time.max.ms"))
	}

	r.groups(b)

	b.Txn = Txn{
		StateLogNumPartitions:     r.i32("transaction.state.log.num.partitions"),
		StateLogReplicationFactor: r.i16("transaction.state.log.replication.factor"),
		StateLogSegmentBytes:      r.i64("transaction.state.log.segment.bytes"),
		StateLogMinISR:            r.n("transaction.state.log.min.isr"),
		TransactionalIDExpiration: r.dur("transactional.id.expiration.ms"),
		MaxTimeout:                r.dur("transaction.max.timeout.ms"),
		AbortTimedOutInterval:     r.dur("transaction.abort.timed.out.transaction.cleanup.interval.ms"),
		RemoveExpiredInterval:     r.dur("transaction.remove.expired.transaction.cleanup.interval.ms"),
		PartitionVerification:     r.b("transaction.partition.verification.enable"),
		ProducerIDExpiration:      r.dur("producer.id.expiration.ms"),
	}

	b.AuthorizerEnabled = r.str("authorizer.class.name") == standardAuthorizerClass
	for _, u := range strings.Split(r.str("super.users"), ";") {
		if u = strings.TrimSpace(u); u != "" {
			b.SuperUsers = append(b.SuperUsers, u)
		}
	}
	b.AllowEveryoneIfNoACL = r.b("allow.everyone.if.no.acl.found")

	b.MetricsListener = r.str("sluice.metrics.listener")
	_ = b.LoggerLevel.UnmarshalText([]byte(r.str("sluice.logger.level")))
	b.LoggerFormat = r.str("sluice.logger.format")

	warns = append(warns, r.warns...)
	warns = append(warns, shadowWarnings(&s)...)
	if err := errors.Join(r.errs...); err != nil {
		return nil, warns, err
	}
	return b, warns, nil
}

func nonEmpty(xs []string) []string {
	out := xs[:0:0]
	for _, x := range xs {
		if x != "" {
			out = append(out, x)
		}
	}
	return out
}

// node reads node.id and process.roles.
func (r *reader) node(b *Broker) {
	b.NodeID = r.i32("node.id")
	if b.NodeID < 0 {
		r.fail(&Error{Kind: ErrMissing, Key: "node.id", Value: r.v("node.id").String(), Origin: r.origin("node.id"),
			Reason: "node.id must be set to this node's id (0 or more)"})
	}
	if bid := r.v("broker.id"); bid.i != int64(b.NodeID) {
		r.conflict("broker.id", "must equal node.id (%d)", b.NodeID)
	}
	for _, role := range r.list("process.roles") {
		switch role {
		case "broker":
			b.Roles.Broker = true
		case "controller":
			b.Roles.Controller = true
		}
	}
	if !b.Roles.Broker && !b.Roles.Controller {
		r.fail(&Error{Kind: ErrMissing, Key: "process.roles", Origin: r.origin("process.roles"),
			Reason: "process.roles must be broker, controller or broker,controller (Sluice has no ZooKeeper mode)"})
	}
	b.Rack = r.str("broker.rack")
}

// listeners resolves listeners, advertised listeners and the security protocol map, and
// checks them against the roles, following Kafka's KRaft rules.
func (r *reader) listeners(b *Broker) {
	for _, n := range strings.Split(r.str("controller.listener.names"), ",") {
		if n = strings.ToUpper(strings.TrimSpace(n)); n != "" {
			b.ControllerListenerNames = append(b.ControllerListenerNames, n)
		}
	}
	isController := func(name string) bool {
		for _, n := range b.ControllerListenerNames {
			if n == name {
				return true
			}
		}
		return false
	}

	protocols, _ := parseProtocolMap(r.str("listener.security.protocol.map"))
	listenersRaw := r.str("listeners")
	if !r.s.isSet("listener.security.protocol.map") {
		// Kafka's KRaft convenience: with the default map and no TLS/SASL in sight, the
		// controller listeners need no explicit mapping and speak PLAINTEXT.
		secure := false
		syntaxOnly, _ := parseListenersOpt(listenersRaw, nil, false)
		for _, l := range syntaxOnly {
			secure = secure || isSecureName(l.Name)
		}
		for _, n := range b.ControllerListenerNames {
			secure = secure || isSecureName(n)
		}
		if !secure {
			for _, n := range b.ControllerListenerNames {
				if _, ok := protocols[n]; !ok {
					protocols[n] = Plaintext
				}
			}
		}
	}
	b.SecurityProtocols = protocols

	ls, err := parseListeners(listenersRaw, protocols)
	if err != nil {
		r.conflict("listeners", "%v", err)
		// Carry on with the names alone, so the role checks below still report what
		// else is wrong in the same run.
		ls, _ = parseListenersOpt(listenersRaw, nil, false)
	}
	b.Listeners = ls

	advertised := ls
	if v := r.v("advertised.listeners"); !v.IsNull() {
		advertised, err = parseListenersOpt(v.s, protocols, false)
		if err != nil {
			r.conflict("advertised.listeners", "%v", err)
			return
		}
	}
	listenerNames := map[string]bool{}
	for _, l := range ls {
		listenerNames[l.Name] = true
	}
	for _, l := range advertised {
		if !isController(l.Name) {
			b.AdvertisedListeners = append(b.AdvertisedListeners, l)
		}
	}
	for _, n := range b.ControllerListenerNames {
		found := false
		for _, l := range advertised {
			if l.Name == n {
				b.ControllerListeners, found = append(b.ControllerListeners, l), true
				break
			}
		}
		if !found {
			for _, l := range ls {
				if l.Name == n {
					b.ControllerListeners = append(b.ControllerListeners, l)
					break
				}
			}
		}
	}
	advertisedKey := "advertised.listeners"
	if r.v("advertised.listeners").IsNull() {
		advertisedKey = "listeners"
	}
	for _, l := range append(append([]Listener(nil), b.AdvertisedListeners...), b.ControllerListeners...) {
		if ip, ok := parseIP(l.Host); ok && ip.IsUnspecified() {
			r.conflict(advertisedKey, "%s cannot be advertised: %s is not a routable address; set advertised.listeners", l.Name, l.Host)
		}
	}

	switch {
	case b.Roles.Broker && !b.Roles.Controller:
		if len(b.ControllerListenerNames) == 0 {
			r.fail(&Error{Kind: ErrMissing, Key: "controller.listener.names",
				Reason: "a broker-only node needs controller.listener.names to reach the controllers"})
		}
		for _, n := range b.ControllerListenerNames {
			if listenerNames[n] {
				r.conflict("listeners", "a broker-only node must not listen on controller listener %s", n)
			}
			if _, ok := protocols[n]; !ok {
				r.conflict("controller.listener.names", "controller listener %s has no entry in listener.security.protocol.map", n)
			}
		}
		if len(b.ControllerListenerNames) > 1 {
			r.warns = append(r.warns, Warning{Key: "controller.listener.names", Origin: r.origin("controller.listener.names"),
				Message: "a broker-only node uses only the first controller listener, " + b.ControllerListenerNames[0]})
		}
	case b.Roles.Controller:
		if len(b.ControllerListenerNames) == 0 {
			r.fail(&Error{Kind: ErrMissing, Key: "controller.listener.names",
				Reason: "a controller needs controller.listener.names, naming one of its listeners"})
		}
		for _, n := range b.ControllerListenerNames {
			if !listenerNames[n] {
				r.conflict("controller.listener.names", "controller listener %s is not in listeners", n)
			}
		}
		if !b.Roles.Broker {
			for _, l := range ls {
				if !isController(l.Name) {
					r.conflict("listeners", "a controller-only node may only have controller listeners, not %s", l.Name)
				}
			}
		}
	}

	if !b.Roles.Broker {
		return
	}
	if len(b.AdvertisedListeners) == 0 {
		r.conflict(advertisedKey, "there must be at least one broker (non-controller) listener")
		return
	}
	for _, l := range b.AdvertisedListeners {
		if !listenerNames[l.Name] {
			r.conflict("advertised.listeners", "listener %s is advertised but not in listeners", l.Name)
		}
	}
	ibl := r.v("inter.broker.listener.name")
	switch {
	case !ibl.IsNull() && r.s.isSet("security.inter.broker.protocol"):
		r.conflict("inter.broker.listener.name", "set inter.broker.listener.name or security.inter.broker.protocol, not both")
	case !ibl.IsNull():
		b.InterBrokerListenerName = strings.ToUpper(ibl.s)
	default:
		b.InterBrokerListenerName = r.str("security.inter.broker.protocol")
	}
	found := false
	for _, l := range b.AdvertisedListeners {
		found = found || l.Name == b.InterBrokerListenerName
	}
	if !found && b.InterBrokerListenerName != "" {
		key := "inter.broker.listener.name"
		if ibl.IsNull() {
			key = "security.inter.broker.protocol"
		}
		r.conflict(key, "inter-broker listener %s is not among the advertised broker listeners", b.InterBrokerListenerName)
	}
}

func isSecureName(n string) bool {
	return n == string(SSL) || n == string(SASLPlaintext) || n == string(SASLSSL)
}

// quorumChecks reads the quorum settings and checks node.id against the voters.
func (r *reader) quorumChecks(b *Broker) {
	voters, _ := parseVoters(r.list("controller.quorum.voters"))
	var boot []HostPort
	for _, e := range r.list("controller.quorum.bootstrap.servers") {
		if hp, err := parseHostPort(e); err == nil {
			boot = append(boot, hp)
		}
	}
	b.Quorum = Quorum{
		Voters:                           voters,
		BootstrapServers:                 boot,
		ElectionTimeout:                  r.dur("controller.quorum.election.timeout.ms"),
		FetchTimeout:                     r.dur("controller.quorum.fetch.timeout.ms"),
		RequestTimeout:                   r.dur("controller.quorum.request.timeout.ms"),
		RetryBackoff:                     r.dur("controller.quorum.retry.backoff.ms"),
		BrokerSessionTimeout:             r.dur("broker.session.timeout.ms"),
		BrokerHeartbeatInterval:          r.dur("broker.heartbeat.interval.ms"),
		InitialBrokerRegistrationTimeout: r.dur("initial.broker.registration.timeout.ms"),
	}
	if len(voters) == 0 && len(boot) == 0 {
		r.fail(&Error{Kind: ErrMissing, Key: "controller.quorum.voters",
			Reason: "set controller.quorum.voters (id@host:port of every controller) or controller.quorum.bootstrap.servers"})
		return
	}
	inVoters := false
	for _, v := range voters {
		inVoters = inVoters || v.ID == b.NodeID
	}
	switch {
	case b.Roles.Controller && len(voters) > 0 && !inVoters:
		r.conflict("controller.quorum.voters", "a controller's node.id (%d) must be one of the voters", b.NodeID)
	case !b.Roles.Controller && inVoters:
		r.conflict("controller.quorum.voters", "node.id %d is a voter but process.roles has no controller", b.NodeID)
	}
}

// groups reads the group coordinator settings with Kafka's consistency rules.
func (r *reader) groups(b *Broker) {
	g := Groups{
		OffsetsTopicNumPartitions:     r.i32("offsets.topic.num.partitions"),
		OffsetsTopicReplicationFactor: r.i16("offsets.topic.replication.factor"),
		OffsetsTopicSegmentBytes:      r.i64("offsets.topic.segment.bytes"),
		OffsetsRetention:              r.dur("offsets.retention.minutes"),
		OffsetsRetentionCheck:         r.dur("offsets.retention.check.interval.ms"),
		OffsetsCommitTimeout:          r.dur("offsets.commit.timeout.ms"),
		OffsetMetadataMaxBytes:        r.n("offset.metadata.max.bytes"),
		InitialRebalanceDelay:         r.dur("group.initial.rebalance.delay.ms"),
		MinSessionTimeout:             r.dur("group.min.session.timeout.ms"),
		MaxSessionTimeout:             r.dur("group.max.session.timeout.ms"),
		MaxSize:                       r.n("group.max.size"),
		Consumer: ConsumerGroups{
			SessionTimeout:       r.dur("group.consumer.session.timeout.ms"),
			MinSessionTimeout:    r.dur("group.consumer.min.session.timeout.ms"),
			MaxSessionTimeout:    r.dur("group.consumer.max.session.timeout.ms"),
			HeartbeatInterval:    r.dur("group.consumer.heartbeat.interval.ms"),
			MinHeartbeatInterval: r.dur("group.consumer.min.heartbeat.interval.ms"),
			MaxHeartbeatInterval: r.dur("group.consumer.max.heartbeat.interval.ms"),
			MaxSize:              r.n("group.consumer.max.size"),
		},
	}
	for _, p := range r.list("group.coordinator.rebalance.protocols") {
		g.ConsumerProtocol = g.ConsumerProtocol || p == "consumer"
	}
	for _, a := range r.list("group.consumer.assignors") {
		g.Consumer.Assignors = append(g.Consumer.Assignors, assignorName(a))
	}
	c := g.Consumer
	checks := []struct {
		ok       bool
		key, msg string
		other    string
	}{
		{c.MaxHeartbeatInterval >= c.MinHeartbeatInterval, "group.consumer.max.heartbeat.interval.ms", "must be at least", "group.consumer.min.heartbeat.interval.ms"},
		{c.HeartbeatInterval >= c.MinHeartbeatInterval, "group.consumer.heartbeat.interval.ms", "must be at least", "group.consumer.min.heartbeat.interval.ms"},
		{c.HeartbeatInterval <= c.MaxHeartbeatInterval, "group.consumer.heartbeat.interval.ms", "must be at most", "group.consumer.max.heartbeat.interval.ms"},
		{c.MaxSessionTimeout >= c.MinSessionTimeout, "group.consumer.max.session.timeout.ms", "must be at least", "group.consumer.min.session.timeout.ms"},
		{c.SessionTimeout >= c.MinSessionTimeout, "group.consumer.session.timeout.ms", "must be at least", "group.consumer.min.session.timeout.ms"},
		{c.SessionTimeout <= c.MaxSessionTimeout, "group.consumer.session.timeout.ms", "must be at most", "group.consumer.max.session.timeout.ms"},
		{c.HeartbeatInterval < c.SessionTimeout, "group.consumer.heartbeat.interval.ms", "must be less than", "group.consumer.session.timeout.ms"},
	}
	for _, k := range checks {
		if !k.ok {
			r.conflict(k.key, "%s %s (%s)", k.msg, k.other, r.v(k.other).String())
		}
	}
	b.Groups = g
}

// shadowWarnings reports keys that are set but lose to a synonym of higher precedence, such
// as log.retention.hours under log.retention.ms: a common source of "my setting does
// nothing".
func shadowWarnings(s *sources) []Warning {
	var out []Warning
	for i := range topicTable.list {
		syns := topicTable.list[i].Synonyms
		if len(syns) < 2 {
			continue
		}
		var winner string
		for _, n := range syns {
			if !s.isSet(n) {
				continue
			}
			if winner == "" {
				winner = n
				continue
			}
			v := s.get(n)
			out = append(out, Warning{Key: n, Origin: v.Origin,
				Message: fmt.Sprintf("ignored because %s is also set and takes precedence", winner)})
		}
	}
	return out
}

// unknownKeyWarning describes a key Sluice does not know, suggesting a near match.
func unknownKeyWarning(p Prop) Warning {
	msg := "unknown key, ignored"
	switch {
	case strings.HasPrefix(p.Key, "listener.name."):
		msg = "per-listener overrides are not supported yet, ignored"
	case strings.HasPrefix(p.Key, "zookeeper."):
		msg = "ZooKeeper settings are ignored: Sluice runs its own metadata quorum"
	default:
		if s := suggest(p.Key); s != "" {
			msg += "; did you mean " + s + "?"
		}
	}
	return Warning{Key: p.Key, Origin: p.Origin, Message: msg}
}

// suggest returns the known broker key closest to k, if it is close enough to be a typo.
func suggest(k string) string {
	best, bestDist := "", 3 // up to two edits
	for i := range brokerTable.list {
		n := brokerTable.list[i].Name
		if d := editDistance(k, n, bestDist); d < bestDist {
			best, bestDist = n, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, or limit if it is at least limit
// (the early exit keeps suggest cheap for long keys).
func editDistance(a, b string, limit int) int {
	if d := len(a) - len(b); d >= limit || -d >= limit {
		return limit
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			rowMin = min(rowMin, cur[j])
		}
		if rowMin >= limit {
			return limit
		}
		prev, cur = cur, prev
	}
	return min(prev[len(b)], limit)
}
