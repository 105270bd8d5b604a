// IncrementalAlterConfigs (key 44): versions 0–1.
//
// Changes some keys of each resource with SET, DELETE, APPEND and SUBTRACT (the last two
// for list keys only: INVALID_CONFIG otherwise; APPEND and SUBTRACT start from the value
// in effect when the resource has no override). The controller writes the change to the
// metadata log; the answer comes once this broker's image has it. Topic configs take effect
// on this broker's replicas without a restart (the node's metadata subscriber applies
// them), broker configs when the node swaps its configuration. As in Kafka:
//   - TOPIC: an existing topic (UNKNOWN_TOPIC_OR_PARTITION otherwise; INVALID_REQUEST for
//     the empty name, INVALID_TOPIC_EXCEPTION for an invalid one); the resulting configs
//     must be valid topic configs (INVALID_CONFIG with the reason).
//   - BROKER: this broker's id or the empty name (the cluster-wide default); another id is
//     INVALID_REQUEST. A key that cannot change at runtime, or only per broker, or a bad
//     value is INVALID_REQUEST with the reason (Kafka's broker turns its broker-config
//     validation failures into InvalidRequestException).
//   - BROKER_LOGGER with this broker's id: SET of the "root" logger's level (TRACE, DEBUG,
//     INFO, WARN, ERROR, FATAL) changes the node's log level at once, not persisted, as
//     Kafka's log4j levels; DELETE of root, APPEND and SUBTRACT are INVALID_REQUEST; other
//     logger names INVALID_CONFIG "Logger … does not exist!". INVALID_REQUEST when the node
//     does not supply its level (Deps.LogLevel).
//   - A resource listed twice: INVALID_REQUEST for each occurrence; a key listed twice, or a
//     null value with an operation other than DELETE: INVALID_REQUEST; an unknown
//     operation or resource type: INVALID_REQUEST.
//   - validate_only checks everything and changes nothing.
//
// Differences from Kafka: unknown broker keys are refused (INVALID_REQUEST) where Kafka
// stores them; Sluice has one logger where Kafka has log4j's tree; GROUP and
// CLIENT_METRICS resources are not supported (INVALID_REQUEST); no alter-config policies
// or authorization; throttle time 0.

package server

import (
	"context"

	"github.com/sluicehq/sluice/internal/controller"
	"github.com/sluicehq/sluice/internal/protocol/kerr"
	"github.com/sluicehq/sluice/internal/protocol/message"
)

func (s *Server) incrementalAlterConfigsHandler() Handler {
	return Handler{
		Versions:      Versions{Min: 0, Max: 1},
		Fn:            Handle(s.incrementalAlterConfigs),
		ErrorResponse: incrementalAlterConfigsErrorResponse,
	}
}

func (s *Server) incrementalAlterConfigs(ctx context.Context, r *Request, req *message.IncrementalAlterConfigsRequest) (message.Response, error) {
	nodeID := s.adminConfig().NodeID
	resources := make([]alterResource, len(req.Resources))
	changes := make([][]controller.ConfigChange, len(req.Resources))
	for i, res := range req.Resources {
		ar := alterResource{typ: res.ResourceType, name: res.ResourceName}
		for _, c := range res.Configs {
			ar.keys = append(ar.keys, c.Name)
			op := controller.ConfigOp(c.ConfigOperation)
			if op != controller.OpDelete && c.Value == nil {
				ar.nulls = append(ar.nulls, c.Name)
			}
			changes[i] = append(changes[i], controller.ConfigChange{Name: c.Name, Op: op, Value: c.Value})
		}
		resources[i] = ar
	}
	dup := duplicateResources(resources)
	errs := make([]error, len(resources))
	var specs []controller.IncrementalAlterConfigsSpec
	var specIdx []int
	for i, ar := range resources {
		if dup[resourceKey{ar.typ, ar.name}] {
			errs[i] = errDuplicateResource
			continue
		}
		if errs[i] = precheckAlter(ar, nodeID); errs[i] != nil {
			continue
		}
		if ar.typ == resourceBrokerLogger {
			errs[i] = s.alterLogger(ar, changes[i], nodeID, req.ValidateOnly)
			continue
		}
		specs = append(specs, controller.IncrementalAlterConfigsSpec{Resource: configResource(ar.typ, ar.name), Changes: changes[i]})
		specIdx = append(specIdx, i)
	}
	if len(specs) > 0 {
		ctl, err := s.adminController()
		if err != nil {
			return nil, err
		}
		results, offset, err := ctl.IncrementalAlterConfigs(ctx, specs, req.ValidateOnly)
		if err := s.recordAlterResults(ctx, r, resources, specIdx, errs, results, offset, err); err != nil {
			return nil, err
		}
	}
	resp := message.NewIncrementalAlterConfigsResponse()
	resp.Responses = make([]message.IncrementalAlterConfigsResponseAlterConfigsResourceResponse, len(resources))
	for i, ar := range resources {
		out := &resp.Responses[i]
		out.ResourceType, out.ResourceName = ar.typ, ar.name
		out.ErrorCode, out.ErrorMessage = errorCodeAndMessage(r, errs[i])
	}
	return resp, nil
}

// incrementalAlterConfigsErrorResponse answers every resource with the code.
func incrementalAlterConfigsErrorResponse(r *Request, code int16) message.Response {
	resp := message.NewIncrementalAlterConfigsResponse()
	req, _ := r.Body.(*message.IncrementalAlterConfigsRequest)
	if req == nil {
		return resp
	}
	msg := kerr.ForCode(code).Description
	for _, res := range req.Resources {
		resp.Responses = append(resp.Responses, message.IncrementalAlterConfigsResponseAlterConfigsResourceResponse{
			ErrorCode: code, ErrorMessage: &msg, ResourceType: res.ResourceType, ResourceName: res.ResourceName,
		})
	}
	return resp
}
