// DescribeCluster (key 60): versions 0–1, on client and controller listeners.
//
// As Kafka (KIP-919 for v1's endpoint_type):
//   - On a client (broker) listener the endpoint type is BROKER: the unfenced brokers with
//     an endpoint on the request's listener, with their racks; the controller id is a random
//     unfenced broker (Kafka's brokers do the same: clients cannot reach a KRaft
//     controller), -1 when none.
//   - On a controller listener the endpoint type is CONTROLLER: the controller quorum's
//     voters, and the active controller's id (-1 when unknown or not among them).
//   - Asking for the other endpoint type is MISMATCHED_ENDPOINT_TYPE (v1) or
//     INVALID_REQUEST (v0, where the field does not exist and means BROKER); an unknown
//     type is UNSUPPORTED_ENDPOINT_TYPE (v1) or INVALID_REQUEST (v0); both with a message.
//   - Cluster authorized operations only when asked; without an authorizer (Sluice has none
//     yet) every cluster operation, as Kafka reports.
//
// Differences from Kafka: controllers are listed from controller.quorum.voters (the
// static quorum) with the voter's address and no rack, where Kafka lists the controllers'
// registrations (KIP-919) on the request's listener; no authorization (Kafka's controller
// requires ALTER on the cluster); throttle time 0.

package server

import (
	"context"

	"github.com/sluicehq/sluice/internal/protocol/kerr"
	"github.com/sluicehq/sluice/internal/protocol/message"
)

// KIP-919 endpoint types.
const (
	endpointBroker     int8 = 1
	endpointController int8 = 2
)

func endpointTypeName(t int8) string {
	if t == endpointController {
		return "CONTROLLER"
	}
	return "BROKER"
}

// describeClusterHandler serves client listeners when the node has the metadata image and
// controller listeners when it has a controller; Listeners is 0 when it has neither.
func (s *Server) describeClusterHandler() Handler {
	var where Listeners
	if s.opts.Deps.Metadata != nil {
		where |= ClientListeners
	}
	if s.opts.Deps.Controller != nil {
		where |= ControllerListeners
	}
	return Handler{
		Versions:  Versions{Min: 0, Max: 1},
		Listeners: where,
		Fn:        Handle(s.describeCluster),
		ErrorResponse: func(_ *Request, code int16) message.Response {
			resp := message.NewDescribeClusterResponse()
			resp.ErrorCode = code
			msg := kerr.ForCode(code).Description
			resp.ErrorMessage = &msg
			return resp
		},
	}
}

func (s *Server) describeCluster(_ context.Context, r *Request, req *message.DescribeClusterRequest) (message.Response, error) {
	resp := message.NewDescribeClusterResponse()
	resp.Brokers = []message.DescribeClusterResponseDescribeClusterBroker{}
	expected := endpointBroker
	if r.ListenerKind == ControllerListeners {
		expected = endpointController
	}
	fail := func(v1Code *kerr.Error, format string, args ...any) (message.Response, error) {
		code := v1Code
		if r.Version == 0 {
			code = kerr.InvalidRequest
		}
		resp.ErrorCode, resp.ErrorMessage = errorCodeAndMessage(r, errorf(code, format, args...))
		return resp, nil
	}
	switch req.EndpointType {
	case endpointBroker, endpointController:
		if req.EndpointType != expected {
			return fail(kerr.MismatchedEndpointType, "The request was sent to an endpoint of type %s, but we wanted an endpoint of type %s",
				endpointTypeName(expected), endpointTypeName(req.EndpointType))
		}
	default:
		return fail(kerr.UnsupportedEndpointType, "Unsupported endpoint type %d", req.EndpointType)
	}
	resp.EndpointType = expected
	if req.IncludeClusterAuthorizedOperations {
		resp.ClusterAuthorizedOperations = clusterAuthorizedOps
	}
	im, err := s.image()
	if err == nil {
		resp.ClusterId = im.ClusterID
	}

	controllerID := int32(-1)
	if expected == endpointBroker {
		if err != nil {
			return nil, err
		}
		for _, b := range aliveBrokerEndpoints(im, r.Listener) {
			resp.Brokers = append(resp.Brokers, message.DescribeClusterResponseDescribeClusterBroker{
				BrokerId: b.id, Host: b.host, Port: b.port, Rack: rackPtr(b.rack),
			})
		}
		controllerID = randomAliveBroker(im)
	} else {
		for _, v := range s.adminConfig().Quorum.Voters {
			resp.Brokers = append(resp.Brokers, message.DescribeClusterResponseDescribeClusterBroker{
				BrokerId: v.ID, Host: v.Host, Port: int32(v.Port),
			})
		}
		if ctl := s.opts.Deps.Controller; ctl != nil {
			if active, leader := ctl.Active(); active {
				controllerID = s.adminConfig().NodeID
			} else {
				controllerID = leader
			}
		}
	}
	// Kafka answers -1 rather than name a controller the client cannot find in the list.
	resp.ControllerId = -1
	for _, b := range resp.Brokers {
		if b.BrokerId == controllerID {
			resp.ControllerId = controllerID
		}
	}
	return resp, nil
}
