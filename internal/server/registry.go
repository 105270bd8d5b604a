package server

import (
	"context"
	"fmt"
	"slices"

	"github.com/sluicehq/sluice/internal/protocol/message"
)

// handlers is THE table of the APIs this broker serves: one line per handler file. ApiVersions
// advertises exactly these, with the ranges they declare, so an API is advertised if and only
// if it has a handler.
//
// Adding an API (say DescribeCluster, key 60) takes one new file and one line here.
// Create 60_describe_cluster.go, starting with a comment that lists the versions served and
// every way the handler differs from Apache Kafka, then a blank line (so the comment does not
// become package documentation), then the registration and the handler, a method on *Server
// that takes the typed request:
//
//	func (s *Server) describeClusterHandler() Handler {
//		return Handler{Versions: Versions{Min: 0, Max: 1}, Fn: Handle(s.describeCluster)}
//	}
//
//	func (s *Server) describeCluster(ctx context.Context, r *Request,
//		req *message.DescribeClusterRequest) (message.Response, error) {
//		…
//	}
//
// Then add `s.describeClusterHandler(),` below, in key order, and, if the handler needs a
// domain component, a field to Deps (deps.go). 18_api_versions.go is a complete example.
//
// What the pipeline does with requests outside this table follows Kafka's SocketServer:
//
//   - ApiVersions at a version outside its range: answered at v0 with UNSUPPORTED_VERSION and
//     only the ApiVersions range, so the client retries at a version both sides know
//     (KIP-511).
//   - An API key with no handler here, or not served on this listener (Handler.Listeners),
//     or a version outside the handler's range: the connection is closed (Kafka: "not
//     enabled", InvalidRequestException). Clients never send these: they pick versions from
//     ApiVersions.
//   - A frame whose header or body does not decode: the connection is closed.
//
// A version inside the range that the handler must still refuse (Produce v0–2, which Kafka
// 4.0 advertises but rejects) is the handler's business: it answers UNSUPPORTED_VERSION.
func (s *Server) handlers() []Handler {
	hs := []Handler{
		s.apiVersionsHandler(), // 18_api_versions.go
	}
	hs = append(hs, s.dataHandlers()...)  // handlers_data.go: Produce, Fetch, ListOffsets, …
	hs = append(hs, s.adminHandlers()...) // handlers_admin.go: Metadata, CreateTopics, configs, …
	hs = append(hs, s.groupHandlers()...) // handlers_group.go: FindCoordinator, JoinGroup, offsets, …
	return hs
}

// Handler registers one Kafka API.
type Handler struct {
	// Versions is the range advertised in ApiVersions and accepted from clients. It must lie
	// within what the specs define (message.LookupAPI). DESIGN §2: every version the specs
	// define that works with record batch v2.
	Versions Versions
	// Listeners says where the API is served. The zero value means client (broker)
	// listeners only.
	Listeners Listeners
	// Fn runs the request; make it with Handle (typed) or HandleAny.
	Fn Func
	// ErrorResponse, when set, builds the response for a request whose Fn returned an error
	// other than ErrNoResponse / ErrCloseConnection / a cancelled context: it gets the
	// request and the error's Kafka code (from ErrorCode) and sets it wherever the API
	// carries one, as Kafka's getErrorResponse does. Without it such an error is logged and
	// the connection closed (the client retries on a new one).
	ErrorResponse func(r *Request, code int16) message.Response
}

// Versions is an inclusive range of API versions.
type Versions struct{ Min, Max int16 }

// Contains reports whether v is in the range.
func (v Versions) Contains(version int16) bool { return version >= v.Min && version <= v.Max }

// Listeners is a set of listener kinds.
type Listeners uint8

const (
	// ClientListeners are the listeners not named in controller.listener.names: where
	// clients and other brokers talk to this node as a broker.
	ClientListeners Listeners = 1 << iota
	// ControllerListeners are the listeners named in controller.listener.names: where
	// brokers talk to the controller (BrokerRegistration, BrokerHeartbeat, …). Raft traffic
	// on them is handed off before any Kafka request is read (Options.Handoffs).
	ControllerListeners

	// AllListeners serves an API everywhere (ApiVersions).
	AllListeners = ClientListeners | ControllerListeners
)

// Func runs one request of the API it was registered for. See Handler.
//
// Return values:
//
//   - (resp, nil): resp is encoded at the request's version and sent, in request order.
//   - (nil, ErrNoResponse): nothing is sent (Produce acks=0).
//   - (nil, ErrCloseConnection): the connection is closed after the responses before it.
//   - (nil, err): Handler.ErrorResponse answers if set; otherwise the error is logged and the
//     connection closed. A cancelled ctx (connection gone, broker stopping) is not logged.
//
// The decoded request aliases the frame buffer, which is reused once Fn returns: copy any
// []byte (or records) that must outlive the call. Responses may hold file regions
// (wire.RecordChunks); register their release with Request.AfterSend.
type Func interface {
	apiKey() int16
	call(ctx context.Context, r *Request) (message.Response, error)
}

// Handle makes a Func from a function taking the typed request. The API key comes from the
// request type, so a handler cannot be registered under the wrong key.
func Handle[Req message.Request](fn func(ctx context.Context, r *Request, req Req) (message.Response, error)) Func {
	var zero Req
	return typedFunc[Req]{key: zero.APIKey(), fn: fn}
}

type typedFunc[Req message.Request] struct {
	key int16
	fn  func(context.Context, *Request, Req) (message.Response, error)
}

func (f typedFunc[Req]) apiKey() int16 { return f.key }

func (f typedFunc[Req]) call(ctx context.Context, r *Request) (message.Response, error) {
	req, ok := r.Body.(Req)
	if !ok {
		return nil, fmt.Errorf("server: handler for key %d got %T", f.key, r.Body)
	}
	return f.fn(ctx, r, req)
}

// HandleAny makes a Func for key from an untyped function (r.Body holds the request). For
// tests and for pass-through APIs (forwarding).
func HandleAny(key int16, fn func(ctx context.Context, r *Request) (message.Response, error)) Func {
	return anyFunc{key: key, fn: fn}
}

type anyFunc struct {
	key int16
	fn  func(context.Context, *Request) (message.Response, error)
}

func (f anyFunc) apiKey() int16 { return f.key }

func (f anyFunc) call(ctx context.Context, r *Request) (message.Response, error) {
	return f.fn(ctx, r)
}

// registry is the validated handler table, indexed by API key.
type registry struct {
	byKey []*registered // index = API key; nil when not served
	// advertised[k] is the sorted ApiVersions list for listener kind k (index by kindIndex).
	advertised [2][]message.ApiVersionsResponseApiVersion
}

type registered struct {
	Handler
	key  int16
	name string
}

func kindIndex(k Listeners) int {
	if k == ControllerListeners {
		return 1
	}
	return 0
}

// newRegistry validates hs (later entries for the same key replace earlier ones, so tests
// and the node assembly can override a table entry) and indexes them.
func newRegistry(hs []Handler) (*registry, error) {
	reg := &registry{}
	for _, h := range hs {
		if h.Fn == nil {
			return nil, fmt.Errorf("server: handler with nil Fn")
		}
		key := h.Fn.apiKey()
		info, ok := message.LookupAPI(key)
		if !ok {
			return nil, fmt.Errorf("server: handler for unknown API key %d", key)
		}
		if h.Versions.Min > h.Versions.Max || h.Versions.Min < info.MinVersion || h.Versions.Max > info.MaxVersion {
			return nil, fmt.Errorf("server: %s handler versions %d-%d outside the specs' %d-%d",
				info.Name, h.Versions.Min, h.Versions.Max, info.MinVersion, info.MaxVersion)
		}
		if h.Listeners == 0 {
			h.Listeners = ClientListeners
		}
		if int(key) >= len(reg.byKey) {
			reg.byKey = append(reg.byKey, make([]*registered, int(key)+1-len(reg.byKey))...)
		}
		reg.byKey[key] = &registered{Handler: h, key: key, name: info.Name}
	}
	if reg.lookup(message.KeyApiVersions) == nil {
		return nil, fmt.Errorf("server: no ApiVersions handler")
	}
	for _, kind := range []Listeners{ClientListeners, ControllerListeners} {
		var list []message.ApiVersionsResponseApiVersion
		for _, h := range reg.byKey {
			if h != nil && h.Listeners&kind != 0 {
				list = append(list, message.ApiVersionsResponseApiVersion{ApiKey: h.key, MinVersion: h.Versions.Min, MaxVersion: h.Versions.Max})
			}
		}
		reg.advertised[kindIndex(kind)] = list
	}
	return reg, nil
}

func (reg *registry) lookup(key int16) *registered {
	if key < 0 || int(key) >= len(reg.byKey) {
		return nil
	}
	return reg.byKey[key]
}

// apiVersions returns the advertised list for a listener kind. Callers must not modify it.
func (reg *registry) apiVersions(kind Listeners) []message.ApiVersionsResponseApiVersion {
	return reg.advertised[kindIndex(kind)]
}

// Advertised returns the API keys and version ranges this server advertises on a listener
// kind, in key order (for tests, docs and the node's startup log).
func (s *Server) Advertised(kind Listeners) []Versioned {
	var out []Versioned
	for _, a := range s.reg.apiVersions(kind) {
		out = append(out, Versioned{Key: a.ApiKey, Versions: Versions{Min: a.MinVersion, Max: a.MaxVersion}})
	}
	return slices.Clip(out)
}

// Versioned is an API key with its version range.
type Versioned struct {
	Key      int16
	Versions Versions
}
