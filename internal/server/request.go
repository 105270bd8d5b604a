package server

import (
	"log/slog"
	"net/netip"
	"time"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/protocol/message"
)

// Principal is the authenticated identity of a connection, as Kafka's KafkaPrincipal:
// a type ("User") and a name.
type Principal struct {
	Type string
	Name string
}

// Anonymous is the principal of connections on PLAINTEXT and SSL-without-client-auth
// listeners, as in Kafka.
var Anonymous = Principal{Type: "User", Name: "ANONYMOUS"}

// String returns "Type:Name", Kafka's notation (used in ACLs and super.users).
func (p Principal) String() string { return p.Type + ":" + p.Name }

// Request is what a handler gets besides its typed body: who asked, on which connection, and
// the hooks to the pipeline. It is valid until the handler returns (AfterSend callbacks
// excepted); handlers run one at a time per connection, so nothing here needs a lock.
type Request struct {
	// APIKey and Version are the request header's; Version is within the handler's range.
	APIKey  int16
	Version int16
	// CorrelationID is echoed in the response header by the pipeline.
	CorrelationID int32
	// ClientID is the header's client id ("" when null, as Kafka treats it).
	ClientID string
	// Header is the decoded request header (tagged fields included).
	Header message.RequestHeader
	// Body is the decoded request; Handle passes it typed as well.
	Body message.Request
	// Size is the frame's size in bytes, size prefix excluded.
	Size int
	// ReceivedAt is when the whole frame had been read.
	ReceivedAt time.Time

	// Listener is the listener's name (upper case, e.g. "PLAINTEXT", "CONTROLLER") and
	// SecurityProtocol its protocol.
	Listener         string
	SecurityProtocol config.SecurityProtocol
	// ListenerKind says whether the request came in on a client or a controller listener.
	ListenerKind Listeners
	// Peer is the client's address.
	Peer netip.AddrPort
	// Principal is the connection's authenticated identity (Anonymous until SASL/mTLS exist).
	Principal Principal
	// ClientSoftwareName and ClientSoftwareVersion are what the client sent in its
	// ApiVersions request v3+ (KIP-511), "" before that or for older clients.
	ClientSoftwareName    string
	ClientSoftwareVersion string

	conn      *conn
	afterSend []func()
	logger    *slog.Logger
}

// Logger returns a logger carrying the connection's and the request's attributes (listener,
// peer, api, version, correlation id, client id). It is built on first use.
func (r *Request) Logger() *slog.Logger {
	if r.logger == nil {
		base := slog.New(slog.DiscardHandler)
		if r.conn != nil {
			base = r.conn.log
		}
		r.logger = base.With(
			slog.Int("api_key", int(r.APIKey)),
			slog.Int("api_version", int(r.Version)),
			slog.Int("correlation_id", int(r.CorrelationID)),
			slog.String("client_id", r.ClientID),
		)
	}
	return r.logger
}

// AfterSend registers fn to run once the response has been written to the socket, or
// dropped (no response, connection closed, encoding failure). Fetch uses it to release the
// segment regions its response sends with sendfile. Callbacks run in registration order on
// the connection's writer goroutine and must not block.
func (r *Request) AfterSend(fn func()) { r.afterSend = append(r.afterSend, fn) }

// ShuttingDown is closed when the server begins a graceful shutdown. Handlers that wait
// (a Fetch long poll, a JoinGroup) should answer at once with what they have when it closes;
// Close waits for them otherwise, up to its context's deadline.
func (r *Request) ShuttingDown() <-chan struct{} {
	if r.conn == nil {
		return nil
	}
	return r.conn.srv.stopping
}

// ErrorCode is ErrorCode(err) that also logs errors the table does not know (they reach the
// client as UNKNOWN_SERVER_ERROR, which always means a missing table entry or a bug).
func (r *Request) ErrorCode(err error) int16 {
	code, known := ErrorCode(err)
	if !known {
		r.Logger().Error("unmapped error answered as UNKNOWN_SERVER_ERROR", slog.Any("err", err))
	}
	return code
}

// setClientSoftware records KIP-511 client information on the connection (ApiVersions).
func (r *Request) setClientSoftware(name, version string) {
	r.ClientSoftwareName, r.ClientSoftwareVersion = name, version
	if r.conn != nil {
		r.conn.clientSoftwareName, r.conn.clientSoftwareVersion = name, version
	}
}

// apiVersions returns the advertised API list for this request's listener kind.
func (r *Request) apiVersions() []message.ApiVersionsResponseApiVersion {
	return r.conn.srv.reg.apiVersions(r.ListenerKind)
}
