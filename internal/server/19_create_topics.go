// CreateTopics (key 19): versions 0–7.
//
// Topics are created by the controller (all that validate in one metadata log entry); the
// answer comes once this broker's image has them, so the client's next Metadata here sees
// them. As in Kafka:
//   - validate_only (v1+) checks everything and creates nothing.
//   - num_partitions and replication_factor of -1 take num.partitions and
//     default.replication.factor (clients send -1 from v4); an explicit assignment needs
//     both at -1 and partitions numbered 0..n-1, each listed once
//     (INVALID_REPLICA_ASSIGNMENT "Found multiple manual partition assignments for
//     partition n").
//   - A name listed more than once: the name is not created and is answered once, at the end
//     of the response, with INVALID_REQUEST "Duplicate topic name.". __cluster_metadata
//     cannot be created (INVALID_REQUEST).
//   - Configs: every name must be a topic config and every value valid (INVALID_CONFIG with
//     the reason); a null value is INVALID_CONFIG "Null value not supported for topic
//     configs: …".
//   - Errors: INVALID_TOPIC_EXCEPTION (bad name, or a '.'/'_' collision), TOPIC_ALREADY_EXISTS,
//     INVALID_PARTITIONS, INVALID_REPLICATION_FACTOR (e.g. more replicas than unfenced
//     brokers), INVALID_REPLICA_ASSIGNMENT, NOT_CONTROLLER, REQUEST_TIMED_OUT, each with
//     a message from v1.
//   - v5+: the topic's partition count, replication factor and effective configs (value,
//     read-only, source, sensitive; sensitive values null) on success, also for
//     validate_only; v7: the topic id (a fresh id, not kept, under validate_only, as in
//     Kafka).
//   - timeout_ms bounds the controller's work and the wait for this broker's image; 0 or
//     less does not wait for the image (the change is still committed first).
//
// Differences from Kafka: when the wait for this broker's image runs out the topic is
// answered as created (it is committed), where Kafka's KRaft controller answers on commit
// without waiting at all; at most 100,000 partitions per topic (one log entry); no
// authorization or create-topic policies; no controller mutation quota (throttle time 0).

package server

import (
	"context"
	"slices"
	"strings"

	"github.com/sluicehq/sluice/internal/controller"
	"github.com/sluicehq/sluice/internal/metadata"
	"github.com/sluicehq/sluice/internal/protocol/kerr"
	"github.com/sluicehq/sluice/internal/protocol/message"
	"github.com/sluicehq/sluice/internal/protocol/wire"
)

func (s *Server) createTopicsHandler() Handler {
	return Handler{
		Versions:      Versions{Min: 0, Max: 7},
		Fn:            Handle(s.createTopics),
		ErrorResponse: createTopicsErrorResponse,
	}
}

func (s *Server) createTopics(ctx context.Context, r *Request, req *message.CreateTopicsRequest) (message.Response, error) {
	resp := message.NewCreateTopicsResponse()
	resp.Topics = make([]message.CreateTopicsResponseCreatableTopicResult, len(req.Topics))
	count := map[string]int{}
	for _, t := range req.Topics {
		count[t.Name]++
	}
	im, err := s.image()
	if err != nil {
		return nil, err
	}

	// Decide what the handler can alone; send the rest to the controller.
	var specs []controller.TopicSpec
	var specIdx []int // response index of each spec
	var dups []string
	for i, t := range req.Topics {
		res := &resp.Topics[i]
		res.Default()
		res.Name = t.Name
		if count[t.Name] > 1 {
			if !slices.Contains(dups, t.Name) {
				dups = append(dups, t.Name)
			}
			continue
		}
		if err := precheckCreateTopic(im, t); err != nil {
			setCreateTopicError(r, res, err)
			continue
		}
		spec := controller.TopicSpec{
			Name:              t.Name,
			NumPartitions:     t.NumPartitions,
			ReplicationFactor: t.ReplicationFactor,
			Configs:           map[string]string{},
		}
		if len(t.Assignments) > 0 {
			spec.Assignments = make(map[int32][]int32, len(t.Assignments))
			for _, a := range t.Assignments {
				spec.Assignments[a.PartitionIndex] = a.BrokerIds
			}
		}
		for _, c := range t.Configs {
			// precheck refused null values, unless the name is invalid or taken, which the
			// controller reports before looking at configs.
			if c.Value != nil {
				spec.Configs[c.Name] = *c.Value
			}
		}
		specs = append(specs, spec)
		specIdx = append(specIdx, i)
	}

	if len(specs) > 0 {
		ctl, err := s.adminController()
		if err != nil {
			return nil, err
		}
		opCtx, cancel := withTimeout(ctx, req.TimeoutMs)
		defer cancel()
		results, offset, err := ctl.CreateTopics(opCtx, specs, req.ValidateOnly)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err() // the connection is gone or the broker is stopping
			}
			for _, i := range specIdx {
				setCreateTopicError(r, &resp.Topics[i], err)
			}
		} else {
			s.waitApplied(opCtx, r, offset, msTimeout(req.TimeoutMs))
			cfg := s.effectiveConfig(s.opts.Deps.Metadata.Current())
			for k, res := range results {
				out := &resp.Topics[specIdx[k]]
				if res.Err != nil {
					setCreateTopicError(r, out, res.Err)
					continue
				}
				out.ErrorCode, out.ErrorMessage = 0, nil
				out.TopicId = wire.UUID(res.TopicID)
				out.NumPartitions = res.NumPartitions
				out.ReplicationFactor = res.ReplicationFactor
				entries, err := cfg.DescribeTopic(res.Configs)
				if err != nil {
					// The controller accepted these overrides; failing to describe them
					// now only loses the optional configs part of the answer.
					out.TopicConfigErrorCode = r.ErrorCode(err)
					out.Configs = nil
					continue
				}
				out.Configs = make([]message.CreateTopicsResponseCreatableTopicConfigs, 0, len(entries))
				for _, e := range entries {
					out.Configs = append(out.Configs, message.CreateTopicsResponseCreatableTopicConfigs{
						Name:         e.Name,
						Value:        e.Value,
						ReadOnly:     e.ReadOnly,
						ConfigSource: int8(e.Source),
						IsSensitive:  e.Sensitive,
					})
				}
			}
		}
	}

	// Kafka answers each duplicated name once, after the others, and drops the repeats.
	out := resp.Topics[:0]
	for i, t := range req.Topics {
		if count[t.Name] == 1 {
			out = append(out, resp.Topics[i])
		}
	}
	for _, name := range dups {
		var res message.CreateTopicsResponseCreatableTopicResult
		res.Default()
		res.Name = name
		setCreateTopicError(r, &res, errorf(kerr.InvalidRequest, "Duplicate topic name."))
		out = append(out, res)
	}
	resp.Topics = out
	return resp, nil
}

// precheckCreateTopic applies the checks Kafka makes that the controller's API cannot
// express (it takes assignments as a map and configs as strings), in Kafka's order: a
// topic whose name is invalid or taken is left to the controller, which reports that.
func precheckCreateTopic(im *metadata.Image, t message.CreateTopicsRequestCreatableTopic) error {
	if t.Name == clusterMetadataTopic {
		return errorf(kerr.InvalidRequest, "Creation of internal topic %s is prohibited.", clusterMetadataTopic)
	}
	if validateTopicName(t.Name) != nil {
		return nil
	}
	if _, exists := im.TopicByName(t.Name); exists {
		return nil
	}
	var nulls []string
	for _, c := range t.Configs {
		if c.Value == nil {
			nulls = append(nulls, c.Name)
		}
	}
	if len(nulls) > 0 {
		return errorf(kerr.InvalidConfig, "Null value not supported for topic configs: %s", strings.Join(nulls, ","))
	}
	if len(t.Assignments) > 0 && t.NumPartitions == -1 && t.ReplicationFactor == -1 {
		seen := map[int32]bool{}
		for _, a := range t.Assignments {
			if seen[a.PartitionIndex] {
				return errorf(kerr.InvalidReplicaAssignment, "Found multiple manual partition assignments for partition %d", a.PartitionIndex)
			}
			seen[a.PartitionIndex] = true
		}
	}
	return nil
}

func setCreateTopicError(r *Request, res *message.CreateTopicsResponseCreatableTopicResult, err error) {
	res.ErrorCode, res.ErrorMessage = errorCodeAndMessage(r, err)
	res.TopicId = wire.UUID{}
	res.NumPartitions, res.ReplicationFactor = -1, -1
	res.Configs = []message.CreateTopicsResponseCreatableTopicConfigs{}
}

// createTopicsErrorResponse answers every topic with the code, as Kafka's
// getErrorResponse does.
func createTopicsErrorResponse(r *Request, code int16) message.Response {
	resp := message.NewCreateTopicsResponse()
	req, _ := r.Body.(*message.CreateTopicsRequest)
	if req == nil {
		return resp
	}
	msg := kerr.ForCode(code).Description
	seen := map[string]bool{}
	for _, t := range req.Topics {
		if seen[t.Name] {
			continue
		}
		seen[t.Name] = true
		name := t.Name
		var res message.CreateTopicsResponseCreatableTopicResult
		res.Default()
		res.Name = name
		res.ErrorCode, res.ErrorMessage = code, &msg
		resp.Topics = append(resp.Topics, res)
	}
	return resp
}
