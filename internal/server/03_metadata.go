// Metadata (key 3): versions 0–12.
//
// Answers from this broker's metadata image, as Kafka's KRaft brokers do:
//   - Brokers: the unfenced brokers with an endpoint on the listener the request came in on,
//     with that endpoint and their rack (v1+). The controller id (v1+) is a random
//     unfenced broker, as Kafka's KRaft brokers report (clients cannot reach a KRaft
//     controller; any broker forwards), -1 when none. The cluster id from v2.
//   - Topics: all of them when the list is null (v1+) or, at v0, empty; an empty list at
//     v1+ asks for none. By id (v12+; Kafka refuses ids and null names below v12 with
//     INVALID_REQUEST): when any id is given, named entries are ignored as in Kafka, and an
//     unknown id answers UNKNOWN_TOPIC_ID with a null name. Repeated names are answered once.
//     Without ids, an entry with a null name is INVALID_REQUEST.
//   - Partitions: leader (-1 with LEADER_NOT_AVAILABLE when it is not registered, or, when
//     it has no endpoint on the listener, LISTENER_NOT_FOUND from v6 and
//     LEADER_NOT_AVAILABLE before), leader epoch (v7+), replicas, ISR, offline replicas (v5+:
//     fenced, unregistered or without the listener). At v0 replicas and ISR list only
//     reachable brokers and a shortened list answers REPLICA_NOT_AVAILABLE.
//   - Topic ids (v10+), is_internal (v1+: __consumer_offsets, __transaction_state,
//     __share_group_state).
//   - Authorized operations (v8+): the schema's "not requested" value unless asked; when
//     asked, every operation the resource type supports, which is what Kafka reports
//     without an authorizer (Sluice has none yet). Cluster operations only v8–10.
//   - A missing topic: INVALID_TOPIC_EXCEPTION for an invalid name, else, when
//     auto.create.topics.enable is on and the request allows it (v4+ field; always below
//     v4) and it did not ask for all topics, the topic is created through the controller
//     with num.partitions and default.replication.factor and answered LEADER_NOT_AVAILABLE
//     (clients retry and find it). Otherwise UNKNOWN_TOPIC_OR_PARTITION.
//
// Differences from Kafka:
//   - Auto-creation is synchronous: the answer comes after the controller has committed the
//     topic and this broker's image has it (bounded by 30 s), so the client's retry finds
//     it. Kafka's KRaft brokers send the creation off and answer at once. A creation the
//     controller refuses answers with the controller's error (e.g.
//     INVALID_REPLICATION_FACTOR when default.replication.factor exceeds the brokers), as
//     Kafka's ZooKeeper-mode brokers did; when the controller cannot be reached the topic
//     is UNKNOWN_TOPIC_OR_PARTITION (retriable).
//   - Internal topics (__consumer_offsets, __transaction_state, __share_group_state) and
//     __cluster_metadata are never auto-created here: their coordinators create them. Kafka
//     auto-creates the coordinator topics with their own settings.
//   - No authorization: every topic is visible (no TOPIC_AUTHORIZATION_FAILED).
//   - Throttle time is always 0 (no quotas yet).

package server

import (
	"context"
	"time"

	"github.com/sluicehq/sluice/internal/controller"
	"github.com/sluicehq/sluice/internal/metadata"
	"github.com/sluicehq/sluice/internal/protocol/kerr"
	"github.com/sluicehq/sluice/internal/protocol/message"
	"github.com/sluicehq/sluice/internal/protocol/wire"
)

// autoCreateTimeout bounds Metadata's auto-creation (controller commit plus this broker's
// image catching up); Kafka sends its creation request with request.timeout.ms (30 s).
const autoCreateTimeout = 30 * time.Second

func (s *Server) metadataHandler() Handler {
	return Handler{
		Versions:      Versions{Min: 0, Max: 12},
		Fn:            Handle(s.metadata),
		ErrorResponse: metadataErrorResponse,
	}
}

func (s *Server) metadata(ctx context.Context, r *Request, req *message.MetadataRequest) (message.Response, error) {
	v := r.Version
	allTopics := req.Topics == nil || (v == 0 && len(req.Topics) == 0)
	if !allTopics && v < 12 {
		for _, t := range req.Topics {
			if t.Name == nil {
				return nil, errorf(kerr.InvalidRequest, "Topic name can not be null for version %d", v)
			}
			if t.TopicId != (wire.UUID{}) {
				return nil, errorf(kerr.InvalidRequest, "Topic IDs are not supported in requests for version %d", v)
			}
		}
	}
	im, err := s.image()
	if err != nil {
		return nil, err
	}
	cfg := s.adminConfig()

	resp := message.NewMetadataResponse()
	resp.ClusterId = &im.ClusterID
	resp.ControllerId = randomAliveBroker(im)
	for _, b := range aliveBrokerEndpoints(im, r.Listener) {
		resp.Brokers = append(resp.Brokers, message.MetadataResponseBroker{
			NodeId: b.id, Host: b.host, Port: b.port, Rack: rackPtr(b.rack),
		})
	}
	if v >= 8 && v <= 10 && req.IncludeClusterAuthorizedOperations {
		resp.ClusterAuthorizedOperations = clusterAuthorizedOps
	}

	// The names to describe, in request order, each once.
	var names []string
	if allTopics {
		for _, t := range im.Topics() {
			names = append(names, t.Name)
		}
	} else {
		useIDs := false
		for _, t := range req.Topics {
			if t.TopicId != (wire.UUID{}) {
				useIDs = true
				break
			}
		}
		seen := map[string]bool{}
		seenID := map[wire.UUID]bool{}
		for _, rt := range req.Topics {
			var name string
			if useIDs {
				if rt.TopicId == (wire.UUID{}) || seenID[rt.TopicId] {
					continue
				}
				seenID[rt.TopicId] = true
				t, ok := im.TopicByID(metadata.UUID(rt.TopicId))
				if !ok {
					resp.Topics = append(resp.Topics, metadataTopic(kerr.UnknownTopicID.Code, nil, rt.TopicId, false))
					continue
				}
				name = t.Name
			} else {
				if rt.Name == nil { // v12: neither a name nor an id
					return nil, errorf(kerr.InvalidRequest, "Topic name can not be null when no topic id is given")
				}
				name = *rt.Name
			}
			if !seen[name] {
				seen[name] = true
				names = append(names, name)
			}
		}
	}

	autoCreate := cfg.AutoCreateTopics && req.AllowAutoTopicCreation && !allTopics
	var toCreate []string
	for _, name := range names {
		t, ok := im.TopicByName(name)
		if ok {
			resp.Topics = append(resp.Topics, topicMetadata(im, t, r.Listener, v))
			continue
		}
		code := kerr.UnknownTopicOrPartition.Code
		switch {
		case validateTopicName(name) != nil:
			code = kerr.InvalidTopicException.Code
		case autoCreate && !isInternalTopic(name) && name != clusterMetadataTopic:
			toCreate = append(toCreate, name)
			continue
		}
		resp.Topics = append(resp.Topics, metadataTopic(code, &name, wire.UUID{}, isInternalTopic(name)))
	}
	if len(toCreate) > 0 {
		for i, code := range s.autoCreateTopics(ctx, r, toCreate) {
			resp.Topics = append(resp.Topics, metadataTopic(code, &toCreate[i], wire.UUID{}, false))
		}
	}

	if v >= 8 && req.IncludeTopicAuthorizedOperations {
		for i := range resp.Topics {
			if resp.Topics[i].ErrorCode != kerr.UnknownTopicID.Code {
				resp.Topics[i].TopicAuthorizedOperations = topicAuthorizedOps
			}
		}
	}
	return resp, nil
}

// autoCreateTopics creates topics with the broker defaults and returns each one's code:
// LEADER_NOT_AVAILABLE once created (or found created by someone else meanwhile), the
// controller's refusal otherwise.
func (s *Server) autoCreateTopics(ctx context.Context, r *Request, names []string) []int16 {
	codes := make([]int16, len(names))
	for i := range codes {
		codes[i] = kerr.UnknownTopicOrPartition.Code
	}
	ctl, err := s.adminController()
	if err != nil {
		return codes
	}
	ctx, cancel := context.WithTimeout(ctx, autoCreateTimeout)
	defer cancel()
	specs := make([]controller.TopicSpec, len(names))
	for i, name := range names {
		specs[i] = controller.TopicSpec{Name: name, NumPartitions: -1, ReplicationFactor: -1}
	}
	results, offset, err := ctl.CreateTopics(ctx, specs, false)
	if err != nil {
		r.Logger().Info("auto-creating topics failed", "topics", names, "err", err)
		return codes
	}
	for i, res := range results {
		switch code := r.ErrorCode(res.Err); code {
		case 0, kerr.TopicAlreadyExists.Code:
			codes[i] = kerr.LeaderNotAvailable.Code
		default:
			r.Logger().Info("auto-creating a topic was refused", "topic", res.Name, "err", res.Err)
			codes[i] = code
		}
	}
	if deadline, ok := ctx.Deadline(); ok {
		s.waitApplied(ctx, r, offset, time.Until(deadline))
	}
	return codes
}

func metadataTopic(code int16, name *string, id wire.UUID, internal bool) message.MetadataResponseTopic {
	var t message.MetadataResponseTopic
	t.Default()
	t.ErrorCode = code
	t.Name = name
	t.TopicId = id
	t.IsInternal = internal
	t.Partitions = []message.MetadataResponsePartition{}
	return t
}

func topicMetadata(im *metadata.Image, t *metadata.Topic, listener string, v int16) message.MetadataResponseTopic {
	name := t.Name
	mt := metadataTopic(0, &name, wire.UUID(t.ID), isInternalTopic(t.Name))
	mt.Partitions = make([]message.MetadataResponsePartition, 0, len(t.Partitions))
	for _, p := range t.Partitions {
		st := describePartition(im, p, listener, v == 0, v >= 6)
		mt.Partitions = append(mt.Partitions, message.MetadataResponsePartition{
			ErrorCode:       st.errCode,
			PartitionIndex:  p.ID,
			LeaderId:        st.leader,
			LeaderEpoch:     p.LeaderEpoch,
			ReplicaNodes:    st.replicas,
			IsrNodes:        st.isr,
			OfflineReplicas: st.offline,
		})
	}
	return mt
}

// metadataErrorResponse answers a failed Metadata request as Kafka's getErrorResponse does:
// every requested topic with the code.
func metadataErrorResponse(r *Request, code int16) message.Response {
	resp := message.NewMetadataResponse()
	req, _ := r.Body.(*message.MetadataRequest)
	if req == nil {
		return resp
	}
	for _, t := range req.Topics {
		name := ""
		if t.Name != nil {
			name = *t.Name
		}
		resp.Topics = append(resp.Topics, metadataTopic(code, &name, t.TopicId, false))
	}
	return resp
}
