// ApiVersions (key 18): versions 0–4, on every listener.
//
// Answers the APIs and version ranges in the handler table (registry.go) that are served on
// the listener the request came in on, so only APIs with handlers are advertised, plus the
// features from Deps.Features (none until the metadata layer supplies them).
//
// As in Kafka:
//   - A request at a version above 4 is answered by the pipeline, not here: an ApiVersions v0
//     response with UNSUPPORTED_VERSION listing only ApiVersions' range (KIP-511), so the
//     client retries at the best version both know.
//   - v3+ carry the client's software name and version (KIP-511). Each must match
//     [a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?; otherwise the answer is INVALID_REQUEST
//     with an empty API list. Valid ones are remembered on the connection
//     (Request.ClientSoftwareName/Version on later requests).
//   - Below v4, supported features whose minimum version is 0 are left out (older clients
//     fail to parse them; KAFKA-17492).
//   - ApiVersions is answered before authentication, as Kafka does.
//
// Differences from Kafka: throttle time is always 0 (quotas do not exist yet) and
// ZkMigrationReady is always false (there is no ZooKeeper mode).

package server

import (
	"context"

	"github.com/sluicehq/sluice/internal/protocol/kerr"
	"github.com/sluicehq/sluice/internal/protocol/message"
)

func (s *Server) apiVersionsHandler() Handler {
	return Handler{
		Versions:  Versions{Min: 0, Max: 4},
		Listeners: AllListeners,
		Fn:        Handle(s.apiVersions),
	}
}

func (s *Server) apiVersions(_ context.Context, r *Request, req *message.ApiVersionsRequest) (message.Response, error) {
	resp := message.NewApiVersionsResponse()
	if r.Version >= 3 {
		if !validSoftwareField(req.ClientSoftwareName) || !validSoftwareField(req.ClientSoftwareVersion) {
			r.Logger().Debug("ApiVersions with an invalid client software name or version",
				"client_software_name", req.ClientSoftwareName, "client_software_version", req.ClientSoftwareVersion)
			resp.ErrorCode = kerr.InvalidRequest.Code
			return resp, nil
		}
		r.setClientSoftware(req.ClientSoftwareName, req.ClientSoftwareVersion)
	}
	// The registry's list is shared and read-only; encoding only reads it.
	resp.ApiKeys = r.apiVersions()
	if f := s.opts.Deps.Features; f != nil && r.Version >= 3 {
		info := f.Features()
		for _, sf := range info.Supported {
			if r.Version < 4 && sf.Min == 0 {
				continue
			}
			resp.SupportedFeatures = append(resp.SupportedFeatures, message.ApiVersionsResponseSupportedFeatureKey{
				Name: sf.Name, MinVersion: sf.Min, MaxVersion: sf.Max,
			})
		}
		resp.FinalizedFeaturesEpoch = info.FinalizedEpoch
		for _, ff := range info.Finalized {
			resp.FinalizedFeatures = append(resp.FinalizedFeatures, message.ApiVersionsResponseFinalizedFeatureKey{
				Name: ff.Name, MinVersionLevel: ff.Level, MaxVersionLevel: ff.Level,
			})
		}
	}
	return resp, nil
}

// unsupportedApiVersionsResponse is the v0 answer to an ApiVersions request of a version the
// broker does not serve.
func unsupportedApiVersionsResponse(reg *registry) *message.ApiVersionsResponse {
	resp := message.NewApiVersionsResponse()
	resp.ErrorCode = kerr.UnsupportedVersion.Code
	h := reg.lookup(message.KeyApiVersions)
	resp.ApiKeys = []message.ApiVersionsResponseApiVersion{{
		ApiKey: message.KeyApiVersions, MinVersion: h.Versions.Min, MaxVersion: h.Versions.Max,
	}}
	return resp
}

// validSoftwareField reports whether s matches [a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?,
// the KIP-511 rule for client software names and versions.
func validSoftwareField(s string) bool {
	if s == "" {
		return false
	}
	alnum := func(c byte) bool {
		return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
	}
	if !alnum(s[0]) || !alnum(s[len(s)-1]) {
		return false
	}
	for i := 1; i < len(s)-1; i++ {
		if c := s[i]; !alnum(c) && c != '-' && c != '.' {
			return false
		}
	}
	return true
}
