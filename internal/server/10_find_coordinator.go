// FindCoordinator (key 10): versions 0–6 (several keys from v4).
//
// As Kafka's KafkaApis.getCoordinator:
//   - Group keys (key type 0): the coordinator is the leader of __consumer_offsets
//     partition abs(javaHashCode(key)) % partitions, with its endpoint on the listener the
//     request came in on. When the topic does not exist it is created (through the
//     controller, with offsets.topic.num.partitions, offsets.topic.replication.factor,
//     offsets.topic.segment.bytes, cleanup.policy=compact, compression.type=producer).
//     COORDINATOR_NOT_AVAILABLE while the topic cannot be created (too few brokers for
//     its replication factor), the partition has no leader or the leader has no endpoint
//     on this listener.
//   - Transaction keys (key type 1): INVALID_REQUEST with a message saying Sluice has no
//     transaction coordinator yet. Kafka always has one; a retriable code here
//     (COORDINATOR_NOT_AVAILABLE) made transactional clients retry forever, so the error is
//     deliberately final: a transactional producer fails at its first call, saying why.
//   - Share keys (key type 2): INVALID_REQUEST below v6 and, as a broker without share
//     groups answers, at v6. Unknown key types: INVALID_REQUEST.
//   - Up to v3 a failure has node id -1, host "" and port -1, with the error's message
//     from v1; from v4 every key has its own result.
//
// Differences from Kafka: the topic is created synchronously and the answer names the
// coordinator at once (Kafka answers COORDINATOR_NOT_AVAILABLE and creates it in the
// background); no authorization (GROUP_AUTHORIZATION_FAILED never happens); throttle 0.

package server

import (
	"context"

	"github.com/sluicehq/sluice/internal/group"
	"github.com/sluicehq/sluice/internal/metadata"
	"github.com/sluicehq/sluice/internal/protocol/kerr"
	"github.com/sluicehq/sluice/internal/protocol/message"
)

// Kafka's CoordinatorType ids.
const (
	coordinatorGroup       int8 = 0
	coordinatorTransaction int8 = 1
	coordinatorShare       int8 = 2
)

func (s *Server) findCoordinatorHandler() Handler {
	return Handler{Versions: Versions{Min: 0, Max: 6}, Fn: Handle(s.findCoordinator)}
}

// coordinatorNode is one key's answer.
type coordinatorNode struct {
	code int16
	msg  string // the error message; "" for the code's description
	id   int32
	host string
	port int32
}

var noCoordinator = coordinatorNode{id: -1, port: -1}

// noTxnCoordinator is the message transactional clients get from FindCoordinator.
const noTxnCoordinator = "Sluice has no transaction coordinator yet: transactional producers are not supported (idempotent producers are)"

// message is the error message sent with a failed lookup.
func (n coordinatorNode) message() *string {
	if n.msg != "" {
		return ptrTo(n.msg)
	}
	return ptrTo(kerr.ForCode(n.code).Description)
}

func (s *Server) findCoordinator(ctx context.Context, r *Request, req *message.FindCoordinatorRequest) (message.Response, error) {
	keys := req.CoordinatorKeys
	if r.Version < 4 {
		keys = []string{req.Key}
	}
	// The image is read (and __consumer_offsets created) once for all group keys.
	var im *metadata.Image
	imOK := false
	if req.KeyType == coordinatorGroup && len(keys) > 0 {
		im, imOK = s.ensureOffsetsTopic(ctx, r)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	nodes := make([]coordinatorNode, len(keys))
	for i, key := range keys {
		n := noCoordinator
		switch req.KeyType {
		case coordinatorGroup:
			n.code = kerr.CoordinatorNotAvailable.Code
			if imOK {
				n = s.groupCoordinatorNode(im, key, r.Listener)
			}
		case coordinatorTransaction:
			n.code, n.msg = kerr.InvalidRequest.Code, noTxnCoordinator
		default: // share (no share coordinator) and unknown types
			n.code = kerr.InvalidRequest.Code
		}
		nodes[i] = n
	}

	resp := message.NewFindCoordinatorResponse()
	if r.Version >= 4 {
		resp.Coordinators = make([]message.FindCoordinatorResponseCoordinator, 0, len(keys))
		for i, key := range keys {
			n := nodes[i]
			c := message.FindCoordinatorResponseCoordinator{Key: key, NodeId: n.id, Host: n.host, Port: n.port, ErrorCode: n.code}
			if n.code != 0 {
				c.ErrorMessage = n.message()
			}
			resp.Coordinators = append(resp.Coordinators, c)
		}
		return resp, nil
	}
	n := nodes[0]
	resp.ErrorCode, resp.NodeId, resp.Host, resp.Port = n.code, n.id, n.host, n.port
	if n.code != 0 && r.Version >= 1 {
		resp.ErrorMessage = n.message()
	}
	return resp, nil
}

// groupCoordinatorNode finds the leader of the group's __consumer_offsets partition.
func (s *Server) groupCoordinatorNode(im *metadata.Image, key, listener string) coordinatorNode {
	n := noCoordinator
	n.code = kerr.CoordinatorNotAvailable.Code
	p, ok := im.Partition(group.OffsetsTopic, s.opts.Deps.Groups.PartitionFor(key))
	if !ok || p.Leader == metadata.NoLeader {
		return n
	}
	b, ok := im.Broker(p.Leader)
	if !ok || b.Fenced {
		return n
	}
	ep, ok := b.Endpoint(listener)
	if !ok {
		return n
	}
	return coordinatorNode{id: b.ID, host: ep.Host, port: int32(ep.Port)}
}

func ptrTo[T any](v T) *T { return &v }
