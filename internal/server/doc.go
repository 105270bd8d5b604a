// Package server is the broker's network edge: listeners, connections, the request pipeline,
// the handler table and one handler file per Kafka API key (00_produce.go, 01_fetch.go, …,
// 18_api_versions.go). It translates between the wire types of internal/protocol and the
// domain packages below it; domain errors become Kafka error codes in exactly one place
// (errors.go).
//
// # File map
//
//	server.go        Options, Server: New, Start, Addr, Reconfigure, Close; connection limits
//	listener.go      accept loops, socket options, controller-listener handoff matching
//	conn.go          one connection: reader → processor → writer
//	registry.go      THE handler table (Server.handlers), Handler, Handle, version/listener checks
//	request.go       Request (what a handler gets), Principal
//	errors.go        domain error → Kafka error code table; ErrNoResponse, ErrCloseConnection
//	deps.go          Deps: the domain components handlers use
//	fetchsession.go  KIP-227 fetch session cache for the Fetch handler
//	memory.go        the request memory budget and buffer pools
//	observer.go      metric hook points (Observer), ErrorCounts
//	NN_name.go       one handler per API key, headed by the versions served and the
//	                 differences from Kafka (a blank line before "package server", so the
//	                 comment does not become package documentation)
//
// # Pipeline
//
// Each connection has a reader, a processor and a writer goroutine joined by queues of
// Options.MaxQueuedPerConnection entries. Requests of one connection are handled one at a
// time, in order; responses go out in request order; reading ahead and writing overlap with
// handling. Responses are wire.Output chunk lists written straight to the socket, so file
// regions (fetched records) go out by sendfile; runs of in-memory responses are batched into
// one writev.
//
// What closes a connection, as in Kafka's SocketServer: a size prefix above
// socket.request.max.bytes (or negative), a header or body that does not decode, an API key
// with no handler or not served on the listener, a version outside the handler's range
// (except ApiVersions, answered at v0 with UNSUPPORTED_VERSION), a handler panic (logged
// with its stack; other connections are unaffected), a handler error without an
// ErrorResponse, ErrCloseConnection. Each is logged with the peer address. The connection
// closes in order: responses to the requests before the offending one are still written,
// then the server sends FIN and discards input for a moment (bounded) before closing, so a
// client that kept sending does not receive a RST that would destroy those responses.
// Socket errors and forced shutdown close at once.
//
// # Limits
//
//   - socket.request.max.bytes: checked on the size prefix, before anything is allocated.
//   - Memory: a broker-wide budget, queued.max.request.bytes (default 256 MiB), covers
//     every request frame from the read of its payload until its handler returns; a reader
//     waits for room (FIFO) before reading a payload. Per connection at most
//     MaxQueuedPerConnection+2 request frames and MaxQueuedPerConnection+17 encoded
//     responses exist at once (the writer gathers up to 16 for one writev); response bytes
//     are not counted in the budget. Frame buffers up to 1 MiB and response writers come
//     from size-classed pools; larger ones are not kept.
//   - queued.max.requests: requests read but not yet taken by their connection's processor,
//     broker-wide (Kafka's request queue; a request being handled, e.g. a long-poll fetch,
//     does not hold a slot).
//   - max.connections counts connections on client listeners; max.connections.per.ip (and
//     its overrides, host names resolved when the config is applied) counts every
//     listener's. Over a limit, a new connection is closed at once and logged. (Kafka
//     makes the acceptor wait for a slot under max.connections instead of closing.)
//   - connections.max.idle.ms: a connection with no request in flight and no activity for
//     that long is closed; one waiting for a slow response is not idle.
//   - Slow peers: once a frame's first byte arrives, the frame must complete within
//     Options.FrameTimeout + size/FrameMinBytesPerSecond (30 s + 256 KiB/s by default); the
//     same bound applies to writing a response. A client that sends two bytes and stalls
//     is closed after 30 s, holding no budget meanwhile (the budget is reserved only once
//     the size is known). Kafka has no such bound: its idle timer restarts on every byte.
//
// # Controller listeners
//
// Connections on controller listeners carry Kafka requests (broker → controller RPCs) or raft.
// The first 4 bytes of such a connection are matched against Options.Handoffs; on a match the
// connection goes to its owner (quorum.StreamLayer.Handoff) with the consumed bytes.
//
// # Security
//
// PLAINTEXT only. SSL slots in by wrapping the accepted connection before serve (sendfile
// then falls back to pread+write, which wire.WriteChunks does by itself); SASL by an
// authentication state on the connection, checked in conn.handle before dispatch, and the
// SaslHandshake/SaslAuthenticate handlers setting the principal. Every request carries the
// principal (Anonymous for now) for ACL checks.
//
// # Lifecycle
//
// New validates; Start binds every listener (or none); Close stops accepting, stops reading,
// lets read requests finish and their responses flush, closes connections, and waits for
// every goroutine it started. If Close's context ends first, connection contexts are
// cancelled (handlers must honour ctx) and sockets closed. Handlers' contexts are also
// cancelled when their connection closes.
//
// # Locks
//
// Server.mu (listeners, connection set, counters) and FetchSessions.mu are leaves: nothing
// else is locked while holding either, and neither is held across I/O or a handler call.
// budget.mu is a leaf too. Connection state is owned by its goroutines (see conn).
//
// # Imports
//
// server may import every domain package; none of them may import server, net or
// internal/protocol/message (DESIGN §4).
package server
