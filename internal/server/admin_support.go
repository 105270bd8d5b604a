package server

// What the metadata and administration handlers share: handler-decided errors, Kafka's
// topic-name rules, authorized-operation bit fields, the configuration and image they read,
// and the wait for a controller commit to reach this broker's image.

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"strconv"
	"time"
	"unicode/utf16"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/metadata"
	"github.com/sluicehq/sluice/internal/protocol/kerr"
)

// apiError is a failure a handler decides itself: a Kafka code and the client message.
// ErrorCode finds the code through Unwrap (a *kerr.Error wins over the table);
// ErrorMessage sends the message.
type apiError struct {
	code *kerr.Error
	msg  string
}

func (e *apiError) Error() string { return e.msg }
func (e *apiError) Unwrap() error { return e.code }

// errorf returns an apiError with a formatted message.
func errorf(code *kerr.Error, format string, args ...any) error {
	return &apiError{code: code, msg: fmt.Sprintf(format, args...)}
}

// errNoController answers requests that need the controller on a node that has none.
var errNoController = errorf(kerr.NotController, "This node has no route to the active controller.")

// errNoMetadata answers requests that need the metadata image on a node that has none
// (a controller-only node).
var errNoMetadata = errorf(kerr.UnknownServerError, "This node does not serve broker metadata.")

// Topic names Kafka treats specially.
const (
	clusterMetadataTopic = "__cluster_metadata"
	maxTopicNameLen      = 249
)

// isInternalTopic is Kafka's Topic.isInternal: the topics of its coordinators.
func isInternalTopic(name string) bool {
	switch name {
	case "__consumer_offsets", "__transaction_state", "__share_group_state":
		return true
	}
	return false
}

// validateTopicName applies Kafka's topic-name rules (Topic.validate) and returns
// INVALID_TOPIC_EXCEPTION with Kafka's message. The controller applies the same rules when
// it creates a topic; the handlers need them to choose between INVALID_TOPIC_EXCEPTION and
// UNKNOWN_TOPIC_OR_PARTITION without asking it.
func validateTopicName(name string) error {
	reason := ""
	switch {
	case name == "":
		reason = "the empty string is not allowed"
	case name == ".":
		reason = "'.' is not allowed"
	case name == "..":
		reason = "'..' is not allowed"
	case javaLength(name) > maxTopicNameLen:
		reason = fmt.Sprintf("the length of '%s' is longer than the max allowed length %d", name, maxTopicNameLen)
	default:
		for i := 0; i < len(name); i++ {
			c := name[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
				reason = fmt.Sprintf("'%s' contains one or more characters other than ASCII alphanumerics, '.', '_' and '-'", name)
				break
			}
		}
	}
	if reason == "" {
		return nil
	}
	return errorf(kerr.InvalidTopicException, "Topic name is invalid: %s", reason)
}

// javaLength is the length of s in UTF-16 code units, as Java's String.length counts it
// (Kafka's name-length limit is in those units).
func javaLength(s string) int {
	n := 0
	for _, r := range s {
		if l := utf16.RuneLen(r); l > 0 {
			n += l
		} else {
			n++
		}
	}
	return n
}

// Authorized-operation bit fields (KIP-430): bit n set means AclOperation n is allowed.
// Without an authorizer Kafka reports every operation the resource type supports; Sluice
// has no authorizer yet, so it always does.
const (
	// authorizedOpsOmitted is the schema default: the client did not ask.
	authorizedOpsOmitted int32 = math.MinInt32
	// READ, WRITE, CREATE, DELETE, ALTER, DESCRIBE, DESCRIBE_CONFIGS, ALTER_CONFIGS.
	topicAuthorizedOps int32 = 1<<3 | 1<<4 | 1<<5 | 1<<6 | 1<<7 | 1<<8 | 1<<10 | 1<<11
	// CREATE, ALTER, DESCRIBE, CLUSTER_ACTION, DESCRIBE_CONFIGS, ALTER_CONFIGS,
	// IDEMPOTENT_WRITE.
	clusterAuthorizedOps int32 = 1<<5 | 1<<7 | 1<<8 | 1<<9 | 1<<10 | 1<<11 | 1<<12
)

// Kafka's ConfigResource.Type ids.
const (
	resourceTopic        int8 = 2
	resourceBroker       int8 = 4
	resourceBrokerLogger int8 = 8
)

// adminConfig returns the broker's current configuration.
func (s *Server) adminConfig() *config.Broker {
	if f := s.opts.Deps.Config; f != nil {
		if cfg := f(); cfg != nil {
			return cfg
		}
	}
	return s.cfg.Load()
}

// effectiveConfig returns the broker configuration with the dynamic broker configs of im
// applied, so a DescribeConfigs right after an AlterConfigs shows the change even before
// the node's metadata subscriber has swapped its configuration. If im's dynamic configs do
// not combine (a cross-key conflict the controller cannot see), the node's current
// configuration answers instead.
func (s *Server) effectiveConfig(im *metadata.Image) *config.Broker {
	cfg := s.adminConfig()
	if im == nil {
		return cfg
	}
	dyn, _, err := cfg.WithDynamic(im.ClusterConfig(), im.BrokerConfig(cfg.NodeID))
	if err != nil {
		return cfg
	}
	return dyn
}

// image returns the latest metadata image, or errNoMetadata.
func (s *Server) image() (*metadata.Image, error) {
	if s.opts.Deps.Metadata == nil {
		return nil, errNoMetadata
	}
	return s.opts.Deps.Metadata.Current(), nil
}

// adminController returns the controller, or errNoController.
func (s *Server) adminController() (AdminController, error) {
	if s.opts.Deps.Controller == nil {
		return nil, errNoController
	}
	return s.opts.Deps.Controller, nil
}

// withTimeout bounds ctx by a request's timeout_ms; a timeout of 0 or less leaves ctx
// unbounded (the connection's context still ends it).
func withTimeout(ctx context.Context, timeoutMs int32) (context.Context, context.CancelFunc) {
	if timeoutMs <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, time.Duration(timeoutMs)*time.Millisecond)
}

// configWaitTimeout bounds the wait for a committed config change to reach this broker's
// image (AlterConfigs and IncrementalAlterConfigs carry no timeout of their own); Kafka's
// request.timeout.ms default.
const configWaitTimeout = 30 * time.Second

// waitApplied waits until this broker has the controller commit at offset (see
// AdminDeps.WaitApplied), so that the client's next request to this broker sees the change. timeoutMs is the
// request's: 0 or less means "do not wait" (Kafka's timeout_ms semantics). A wait that
// runs out is not an error: the change is committed and will arrive, as with Kafka, whose
// controller answers as soon as it commits.
func (s *Server) waitApplied(ctx context.Context, r *Request, offset uint64, timeout time.Duration) {
	if offset == 0 || timeout <= 0 || s.opts.Deps.Metadata == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var err error
	if wait := s.opts.Deps.WaitApplied; wait != nil {
		err = wait(ctx, offset)
	} else {
		_, err = s.opts.Deps.Metadata.WaitForOffset(ctx, offset)
	}
	if err != nil && ctx.Err() == nil {
		r.Logger().Warn("waiting for a committed metadata change", "offset", offset, "err", err)
	}
}

// msTimeout converts a request's timeout_ms for waitApplied.
func msTimeout(timeoutMs int32) time.Duration {
	return time.Duration(timeoutMs) * time.Millisecond
}

// aliveBrokerEndpoints lists the unfenced brokers that have an endpoint on listener, by id:
// the brokers Metadata and DescribeCluster return (Kafka's getAliveBrokerNodes).
func aliveBrokerEndpoints(im *metadata.Image, listener string) []brokerEndpoint {
	var out []brokerEndpoint
	for _, b := range im.Brokers() {
		if b.Fenced {
			continue
		}
		if ep, ok := b.Endpoint(listener); ok {
			out = append(out, brokerEndpoint{id: b.ID, host: ep.Host, port: int32(ep.Port), rack: b.Rack})
		}
	}
	return out
}

type brokerEndpoint struct {
	id   int32
	host string
	port int32
	rack string
}

// rackPtr is a rack for the wire: null when the broker has none.
func rackPtr(rack string) *string {
	if rack == "" {
		return nil
	}
	return &rack
}

// randomAliveBroker is the controller id Kafka's brokers report in Metadata and
// DescribeCluster: clients cannot reach a KRaft controller, so they are given a random
// unfenced broker, which forwards what needs the controller. -1 when there is none.
func randomAliveBroker(im *metadata.Image) int32 {
	var ids []int32
	for _, b := range im.Brokers() {
		if !b.Fenced {
			ids = append(ids, b.ID)
		}
	}
	if len(ids) == 0 {
		return -1
	}
	return ids[rand.IntN(len(ids))]
}

// partitionState is one partition as Metadata and DescribeTopicPartitions describe it to a
// client on one listener (Kafka's KRaftMetadataCache rules).
type partitionState struct {
	errCode  int16
	leader   int32
	replicas []int32
	isr      []int32
	offline  []int32
}

// describePartition computes a partition's leader, replicas, ISR and offline replicas as
// seen through listener. filterUnavailable (Metadata v0) drops replicas that are fenced or
// lack the listener from the lists and reports REPLICA_NOT_AVAILABLE; listenerNotFound
// (Metadata v6+) reports a leader without the listener as LISTENER_NOT_FOUND instead of
// LEADER_NOT_AVAILABLE. The slices may alias the image's (read-only) ones.
func describePartition(im *metadata.Image, p *metadata.Partition, listener string, filterUnavailable, listenerNotFound bool) partitionState {
	reachable := func(id int32) bool {
		b, ok := im.Broker(id)
		if !ok || b.Fenced {
			return false
		}
		_, ok = b.Endpoint(listener)
		return ok
	}
	filter := func(ids []int32) []int32 {
		if !filterUnavailable {
			return ids
		}
		out := make([]int32, 0, len(ids))
		for _, id := range ids {
			if reachable(id) {
				out = append(out, id)
			}
		}
		return out
	}
	st := partitionState{leader: metadata.NoLeader, replicas: filter(p.Replicas), isr: filter(p.ISR), offline: []int32{}}
	for _, id := range p.Replicas {
		if !reachable(id) {
			st.offline = append(st.offline, id)
		}
	}
	// The leader only needs to be registered with an endpoint on the listener; Kafka does
	// not check fencing here (the controller moves leadership off fenced brokers).
	b, registered := im.Broker(p.Leader)
	_, hasListener := func() (metadata.Endpoint, bool) {
		if !registered {
			return metadata.Endpoint{}, false
		}
		return b.Endpoint(listener)
	}()
	switch {
	case !registered:
		st.errCode = kerr.LeaderNotAvailable.Code
	case !hasListener:
		st.errCode = kerr.LeaderNotAvailable.Code
		if listenerNotFound {
			st.errCode = kerr.ListenerNotFound.Code
		}
	default:
		st.leader = p.Leader
		if len(st.replicas) < len(p.Replicas) || len(st.isr) < len(p.ISR) {
			st.errCode = kerr.ReplicaNotAvailable.Code
		}
	}
	return st
}

// parseBrokerID checks a BROKER or BROKER_LOGGER resource name names this node, with
// Kafka's messages (prefix is "Broker id" in DescribeConfigs, "Node id" when altering).
func parseBrokerID(name string, nodeID int32, prefix string) error {
	id, err := strconv.ParseInt(name, 10, 32)
	if err != nil {
		return errorf(kerr.InvalidRequest, "%s must be an integer, but it is: %s", prefix, name)
	}
	if int32(id) != nodeID {
		return errorf(kerr.InvalidRequest, "Unexpected broker id, expected %d, but received %s", nodeID, name)
	}
	return nil
}

// errorCodeAndMessage returns what a response carries for err: its code and, for a
// failure, its message.
func errorCodeAndMessage(r *Request, err error) (int16, *string) {
	if err == nil {
		return 0, nil
	}
	return r.ErrorCode(err), ErrorMessage(err)
}

// rootLogger is the one logger Sluice serves as a BROKER_LOGGER config: log4j's root.
const rootLogger = "root"

// kafkaLogLevels are the levels Kafka accepts for a logger, sorted as its error message
// lists them.
var kafkaLogLevels = []string{"DEBUG", "ERROR", "FATAL", "INFO", "TRACE", "WARN"}

// Kafka's TRACE and FATAL have no slog level; they sit one step (4) beyond DEBUG and ERROR,
// the spacing slog leaves between its levels.
const (
	levelTrace = slog.LevelDebug - 4
	levelFatal = slog.LevelError + 4
)

// kafkaLevelName names a slog level the way log4j would.
func kafkaLevelName(l slog.Level) string {
	switch {
	case l < slog.LevelDebug:
		return "TRACE"
	case l < slog.LevelInfo:
		return "DEBUG"
	case l < slog.LevelWarn:
		return "INFO"
	case l < slog.LevelError:
		return "WARN"
	case l < levelFatal:
		return "ERROR"
	}
	return "FATAL"
}

// parseKafkaLevel reads one of kafkaLogLevels (exactly, as Kafka compares them).
func parseKafkaLevel(s string) (slog.Level, bool) {
	switch s {
	case "TRACE":
		return levelTrace, true
	case "DEBUG":
		return slog.LevelDebug, true
	case "INFO":
		return slog.LevelInfo, true
	case "WARN":
		return slog.LevelWarn, true
	case "ERROR":
		return slog.LevelError, true
	case "FATAL":
		return levelFatal, true
	}
	return 0, false
}
