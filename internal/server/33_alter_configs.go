// AlterConfigs (key 33): versions 0–2.
//
// Kafka's legacy, non-incremental config change: each resource's dynamic configs are
// replaced by the ones given (keys not listed are removed). The controller writes the
// change to the metadata log; the answer comes once this broker's image has it, so a
// DescribeConfigs here shows it. Topic configs take effect on this broker's replicas
// without a restart (the node's metadata subscriber applies them), broker configs when the
// node swaps its configuration. As in Kafka:
//   - TOPIC: an existing topic (UNKNOWN_TOPIC_OR_PARTITION otherwise; INVALID_REQUEST for
//     the empty name, INVALID_TOPIC_EXCEPTION for an invalid one); every key a topic config
//     with a valid value (INVALID_CONFIG with the reason).
//   - BROKER: this broker's id or the empty name (the cluster-wide default); another id is
//     INVALID_REQUEST. A key that cannot change at runtime, or only per broker, or a bad
//     value is INVALID_REQUEST with the reason (Kafka's broker turns its broker-config
//     validation failures into InvalidRequestException).
//   - A resource listed twice: INVALID_REQUEST for each occurrence; a key listed twice or a
//     null value: INVALID_REQUEST. BROKER_LOGGER and other types: INVALID_REQUEST
//     ("Unknown resource type").
//   - validate_only checks everything and changes nothing.
//
// Differences from Kafka: unknown broker keys are refused (INVALID_REQUEST) where Kafka
// stores them; GROUP and CLIENT_METRICS resources are not supported (INVALID_REQUEST); no
// alter-config policies or authorization; throttle time 0.

package server

import (
	"context"

	"github.com/sluicehq/sluice/internal/controller"
	"github.com/sluicehq/sluice/internal/protocol/kerr"
	"github.com/sluicehq/sluice/internal/protocol/message"
)

func (s *Server) alterConfigsHandler() Handler {
	return Handler{
		Versions:      Versions{Min: 0, Max: 2},
		Fn:            Handle(s.alterConfigs),
		ErrorResponse: alterConfigsErrorResponse,
	}
}

func (s *Server) alterConfigs(ctx context.Context, r *Request, req *message.AlterConfigsRequest) (message.Response, error) {
	nodeID := s.adminConfig().NodeID
	resources := make([]alterResource, len(req.Resources))
	for i, res := range req.Resources {
		ar := alterResource{typ: res.ResourceType, name: res.ResourceName}
		for _, c := range res.Configs {
			ar.keys = append(ar.keys, c.Name)
			if c.Value == nil {
				ar.nulls = append(ar.nulls, c.Name)
			}
		}
		resources[i] = ar
	}
	dup := duplicateResources(resources)
	errs := make([]error, len(resources))
	var specs []controller.AlterConfigsSpec
	var specIdx []int
	for i, ar := range resources {
		switch {
		case dup[resourceKey{ar.typ, ar.name}]:
			errs[i] = errDuplicateResource
		case ar.typ == resourceBrokerLogger:
			errs[i] = errorf(kerr.InvalidRequest, "Unknown resource type %d", ar.typ)
		default:
			if errs[i] = precheckAlter(ar, nodeID); errs[i] != nil {
				continue
			}
			spec := controller.AlterConfigsSpec{Resource: configResource(ar.typ, ar.name), Configs: map[string]string{}}
			for _, c := range req.Resources[i].Configs {
				spec.Configs[c.Name] = *c.Value
			}
			specs = append(specs, spec)
			specIdx = append(specIdx, i)
		}
	}
	if len(specs) > 0 {
		ctl, err := s.adminController()
		if err != nil {
			return nil, err
		}
		results, offset, err := ctl.AlterConfigs(ctx, specs, req.ValidateOnly)
		if err := s.recordAlterResults(ctx, r, resources, specIdx, errs, results, offset, err); err != nil {
			return nil, err
		}
	}
	resp := message.NewAlterConfigsResponse()
	resp.Responses = make([]message.AlterConfigsResponseAlterConfigsResourceResponse, len(resources))
	for i, ar := range resources {
		out := &resp.Responses[i]
		out.ResourceType, out.ResourceName = ar.typ, ar.name
		out.ErrorCode, out.ErrorMessage = errorCodeAndMessage(r, errs[i])
	}
	return resp, nil
}

// alterConfigsErrorResponse answers every resource with the code.
func alterConfigsErrorResponse(r *Request, code int16) message.Response {
	resp := message.NewAlterConfigsResponse()
	req, _ := r.Body.(*message.AlterConfigsRequest)
	if req == nil {
		return resp
	}
	msg := kerr.ForCode(code).Description
	for _, res := range req.Resources {
		resp.Responses = append(resp.Responses, message.AlterConfigsResponseAlterConfigsResourceResponse{
			ErrorCode: code, ErrorMessage: &msg, ResourceType: res.ResourceType, ResourceName: res.ResourceName,
		})
	}
	return resp
}
