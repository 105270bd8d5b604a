// DeleteTopics (key 20): versions 0–6.
//
// Topics are removed by the controller (their partitions and configs with them, in one
// metadata log entry); the answer comes once this broker's image no longer has them, so
// the client's next Metadata here does not see them. This broker's replicas are deleted by
// the node's metadata subscriber. As in Kafka:
//   - v0–5 name topics; v6 names each by name or by id (UNKNOWN_TOPIC_ID with a null name
//     for an unknown id; INVALID_REQUEST when both or neither are given).
//   - A name (or id) listed more than once is not deleted and is answered once with
//     INVALID_REQUEST "Duplicate topic name." ("Duplicate topic id."); a name that maps to
//     an id also given by id answers INVALID_REQUEST and neither is deleted.
//   - delete.topic.enable=false fails every topic: TOPIC_DELETION_DISABLED, INVALID_REQUEST
//     below v3.
//   - An unknown name: UNKNOWN_TOPIC_OR_PARTITION. Error messages from v5.
//   - timeout_ms bounds the controller's work and the wait for this broker's image; 0 or
//     less does not wait for the image.
//
// Differences from Kafka: results come in request order (Kafka lists the errors it finds
// first); when the wait for the image runs out the deletion is answered as done (it is
// committed); no authorization; throttle time 0.

package server

import (
	"context"

	"github.com/sluicehq/sluice/internal/controller"
	"github.com/sluicehq/sluice/internal/metadata"
	"github.com/sluicehq/sluice/internal/protocol/kerr"
	"github.com/sluicehq/sluice/internal/protocol/message"
	"github.com/sluicehq/sluice/internal/protocol/wire"
)

func (s *Server) deleteTopicsHandler() Handler {
	return Handler{
		Versions:      Versions{Min: 0, Max: 6},
		Fn:            Handle(s.deleteTopics),
		ErrorResponse: deleteTopicsErrorResponse,
	}
}

// deleteItem is one topic of the request: by name (ID zero) or by id (Name nil).
type deleteItem struct {
	name *string
	id   metadata.UUID
}

// deleteItems lists the request's topics whatever its version.
func deleteItems(v int16, req *message.DeleteTopicsRequest) []deleteItem {
	var items []deleteItem
	if v < 6 {
		for i := range req.TopicNames {
			items = append(items, deleteItem{name: &req.TopicNames[i]})
		}
		return items
	}
	for _, t := range req.Topics {
		items = append(items, deleteItem{name: t.Name, id: metadata.UUID(t.TopicId)})
	}
	return items
}

func (s *Server) deleteTopics(ctx context.Context, r *Request, req *message.DeleteTopicsRequest) (message.Response, error) {
	v := r.Version
	if !s.adminConfig().DeleteTopicEnable {
		if v < 3 {
			return nil, errorf(kerr.InvalidRequest, "Topic deletion is disabled.")
		}
		return nil, errorf(kerr.TopicDeletionDisabled, "Topic deletion is disabled.")
	}
	im, err := s.image()
	if err != nil {
		return nil, err
	}
	items := deleteItems(v, req)
	nameCount := map[string]int{}
	idCount := map[metadata.UUID]int{}
	for _, it := range items {
		switch {
		case it.name != nil && it.id.IsZero():
			nameCount[*it.name]++
		case it.name == nil && !it.id.IsZero():
			idCount[it.id]++
		}
	}
	// Names that resolve to an id also given by id: Kafka refuses the name and deletes
	// neither.
	clash := map[metadata.UUID]bool{}
	for name, n := range nameCount {
		if t, ok := im.TopicByName(name); ok && n == 1 && idCount[t.ID] > 0 {
			clash[t.ID] = true
		}
	}

	type result struct {
		name *string
		id   metadata.UUID
		err  error
	}
	var results []result
	var refs []controller.TopicRef
	var refIdx []int
	dupNameDone := map[string]bool{}
	dupIDDone := map[metadata.UUID]bool{}
	for _, it := range items {
		res := result{name: it.name, id: it.id}
		switch {
		case it.name == nil && it.id.IsZero():
			res.err = errorf(kerr.InvalidRequest, "Neither topic name nor id were specified.")
		case it.name != nil && !it.id.IsZero():
			res.err = errorf(kerr.InvalidRequest, "You may not specify both topic name and topic id.")
		case it.name != nil && nameCount[*it.name] > 1:
			if dupNameDone[*it.name] {
				continue
			}
			dupNameDone[*it.name] = true
			res.err = errorf(kerr.InvalidRequest, "Duplicate topic name.")
		case it.name == nil && idCount[it.id] > 1:
			if dupIDDone[it.id] {
				continue
			}
			dupIDDone[it.id] = true
			res.err = errorf(kerr.InvalidRequest, "Duplicate topic id.")
		case it.name == nil && clash[it.id]:
			continue // answered through the name that maps to it
		case it.name != nil && clashName(im, *it.name, clash):
			t, _ := im.TopicByName(*it.name)
			res.id = t.ID
			res.err = errorf(kerr.InvalidRequest, "The provided topic name maps to an ID that was already supplied.")
		default:
			ref := controller.TopicRef{ID: it.id}
			if it.name != nil {
				ref.Name = *it.name
			}
			refs = append(refs, ref)
			refIdx = append(refIdx, len(results))
		}
		results = append(results, res)
	}

	if len(refs) > 0 {
		ctl, err := s.adminController()
		if err != nil {
			return nil, err
		}
		opCtx, cancel := withTimeout(ctx, req.TimeoutMs)
		defer cancel()
		out, offset, err := ctl.DeleteTopics(opCtx, refs)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err() // the connection is gone or the broker is stopping
			}
			for _, i := range refIdx {
				results[i].err = err
			}
		} else {
			s.waitApplied(opCtx, r, offset, msTimeout(req.TimeoutMs))
			for k, o := range out {
				res := &results[refIdx[k]]
				res.err = o.Err
				if o.Err == nil || !o.ID.IsZero() {
					res.id = o.ID
				}
				if o.Name != "" {
					name := o.Name
					res.name = &name
				}
			}
		}
	}

	resp := message.NewDeleteTopicsResponse()
	resp.Responses = make([]message.DeleteTopicsResponseDeletableTopicResult, 0, len(results))
	for _, res := range results {
		var d message.DeleteTopicsResponseDeletableTopicResult
		d.Default()
		d.Name = res.name
		if d.Name == nil && v < 6 {
			d.Name = wire.Ptr("")
		}
		d.TopicId = wire.UUID(res.id)
		d.ErrorCode, d.ErrorMessage = errorCodeAndMessage(r, res.err)
		resp.Responses = append(resp.Responses, d)
	}
	return resp, nil
}

func clashName(im *metadata.Image, name string, clash map[metadata.UUID]bool) bool {
	t, ok := im.TopicByName(name)
	return ok && clash[t.ID]
}

// deleteTopicsErrorResponse answers every topic with the code, as Kafka's
// getErrorResponse does.
func deleteTopicsErrorResponse(r *Request, code int16) message.Response {
	resp := message.NewDeleteTopicsResponse()
	req, _ := r.Body.(*message.DeleteTopicsRequest)
	if req == nil {
		return resp
	}
	msg := kerr.ForCode(code).Description
	for _, it := range deleteItems(r.Version, req) {
		var d message.DeleteTopicsResponseDeletableTopicResult
		d.Default()
		d.Name = it.name
		if d.Name == nil && r.Version < 6 {
			d.Name = wire.Ptr("")
		}
		d.TopicId = wire.UUID(it.id)
		d.ErrorCode, d.ErrorMessage = code, &msg
		resp.Responses = append(resp.Responses, d)
	}
	return resp
}
