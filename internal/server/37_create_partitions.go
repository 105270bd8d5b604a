// CreatePartitions (key 37): versions 0–3.
//
// Partitions are added by the controller (all topics that validate in one metadata log
// entry); the answer comes once this broker's image has them. As in Kafka:
//   - count is the new total; it must exceed the current one (INVALID_PARTITIONS
//     otherwise). Assignments, when given, list the replicas of each new partition in
//     order, one per new partition, each with the topic's replication factor
//     (INVALID_REPLICA_ASSIGNMENT otherwise); without them the controller places the
//     replicas on unfenced brokers (INVALID_REPLICATION_FACTOR when too few).
//   - validate_only checks everything and adds nothing.
//   - A topic listed more than once is not changed and is answered once with
//     INVALID_REQUEST "Duplicate topic name."; an unknown topic is
//     UNKNOWN_TOPIC_OR_PARTITION. Every error carries a message.
//   - timeout_ms bounds the controller's work and the wait for this broker's image; 0 or
//     less does not wait for the image.
//
// Differences from Kafka: results come in request order (Kafka lists duplicates first);
// when the wait for the image runs out the increase is answered as done (it is committed);
// at most 100,000 new partitions per topic; no authorization; throttle time 0.

package server

import (
	"context"

	"github.com/sluicehq/sluice/internal/controller"
	"github.com/sluicehq/sluice/internal/protocol/kerr"
	"github.com/sluicehq/sluice/internal/protocol/message"
)

func (s *Server) createPartitionsHandler() Handler {
	return Handler{
		Versions:      Versions{Min: 0, Max: 3},
		Fn:            Handle(s.createPartitions),
		ErrorResponse: createPartitionsErrorResponse,
	}
}

func (s *Server) createPartitions(ctx context.Context, r *Request, req *message.CreatePartitionsRequest) (message.Response, error) {
	count := map[string]int{}
	for _, t := range req.Topics {
		count[t.Name]++
	}
	resp := message.NewCreatePartitionsResponse()
	resp.Results = []message.CreatePartitionsResponseCreatePartitionsTopicResult{}
	var specs []controller.PartitionsSpec
	var specIdx []int
	dupDone := map[string]bool{}
	for _, t := range req.Topics {
		res := message.CreatePartitionsResponseCreatePartitionsTopicResult{Name: t.Name}
		if count[t.Name] > 1 {
			if dupDone[t.Name] {
				continue
			}
			dupDone[t.Name] = true
			res.ErrorCode, res.ErrorMessage = errorCodeAndMessage(r, errorf(kerr.InvalidRequest, "Duplicate topic name."))
		} else {
			spec := controller.PartitionsSpec{Topic: t.Name, Count: t.Count}
			if t.Assignments != nil {
				spec.Assignments = make([][]int32, len(t.Assignments))
				for i, a := range t.Assignments {
					spec.Assignments[i] = a.BrokerIds
				}
			}
			specs = append(specs, spec)
			specIdx = append(specIdx, len(resp.Results))
		}
		resp.Results = append(resp.Results, res)
	}
	if len(specs) == 0 {
		return resp, nil
	}
	ctl, err := s.adminController()
	if err != nil {
		return nil, err
	}
	opCtx, cancel := withTimeout(ctx, req.TimeoutMs)
	defer cancel()
	results, offset, err := ctl.CreatePartitions(opCtx, specs, req.ValidateOnly)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err() // the connection is gone or the broker is stopping
		}
		for _, i := range specIdx {
			resp.Results[i].ErrorCode, resp.Results[i].ErrorMessage = errorCodeAndMessage(r, err)
		}
		return resp, nil
	}
	s.waitApplied(opCtx, r, offset, msTimeout(req.TimeoutMs))
	for k, res := range results {
		out := &resp.Results[specIdx[k]]
		out.ErrorCode, out.ErrorMessage = errorCodeAndMessage(r, res.Err)
	}
	return resp, nil
}

// createPartitionsErrorResponse answers every topic with the code, as Kafka's
// getErrorResponse does.
func createPartitionsErrorResponse(r *Request, code int16) message.Response {
	resp := message.NewCreatePartitionsResponse()
	req, _ := r.Body.(*message.CreatePartitionsRequest)
	if req == nil {
		return resp
	}
	msg := kerr.ForCode(code).Description
	for _, t := range req.Topics {
		resp.Results = append(resp.Results, message.CreatePartitionsResponseCreatePartitionsTopicResult{
			Name: t.Name, ErrorCode: code, ErrorMessage: &msg,
		})
	}
	return resp
}
