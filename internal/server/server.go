package server

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicehq/sluice/internal/config"
)

// Options configure a Server. Config is required; every other field has a default
// (EnsureDefaults) or may be left empty.
type Options struct {
	// Config is the node's configuration: listeners, socket.request.max.bytes,
	// connections.max.idle.ms, max.connections(.per.ip[.overrides]), queued.max.requests,
	// socket buffer sizes, max.incremental.fetch.session.cache.slots.
	Config *config.Broker
	// Logger receives the server's logs; nil discards them.
	Logger *slog.Logger
	// Deps are the domain components the handlers use.
	Deps Deps
	// Observer receives connection and request events for metrics; nil ignores them.
	Observer Observer
	// Handoffs hand connections on controller listeners whose first bytes are not a Kafka
	// frame (raft) to their owner. See Handoff.
	Handoffs []Handoff
	// ExtraHandlers are registered after the handler table and replace table entries with the
	// same API key. For tests, and for the node assembly to plug in APIs whose
	// implementation lives outside this package.
	ExtraHandlers []Handler

	// QueuedMaxRequestBytes bounds the bytes of requests held in memory across all
	// connections: read from sockets and not yet handled (Kafka's queued.max.request.bytes,
	// which Kafka leaves unbounded by default). A reader that would exceed it waits before
	// reading its frame's payload. Zero takes Config.QueuedMaxRequestBytes, else 256 MiB;
	// raised to socket.request.max.bytes if below it, so that every admissible request fits.
	QueuedMaxRequestBytes int64
	// MaxQueuedPerConnection bounds, per connection, the requests read ahead of the one
	// being handled and the responses waiting to be written. Default 8.
	MaxQueuedPerConnection int
	// FrameTimeout and FrameMinBytesPerSecond bound how long a frame may take once its
	// first byte has arrived, in either direction: FrameTimeout plus its size divided by
	// FrameMinBytesPerSecond (defaults 30 s and 256 KiB/s: a 1 MiB request has 34 s, a
	// 100 MiB one 430 s). A peer slower than that is closed, so a client that sends two
	// bytes and stalls (slow-loris) holds a connection for 30 s at most, and one that never
	// reads its responses cannot pin their memory. Between frames connections.max.idle.ms
	// applies instead.
	FrameTimeout           time.Duration
	FrameMinBytesPerSecond int64
}

// Defaults for Options.
const (
	DefaultQueuedMaxRequestBytes  = 256 << 20
	DefaultMaxQueuedPerConnection = 8
	DefaultFrameTimeout           = 30 * time.Second
	DefaultFrameMinBytesPerSecond = 256 << 10
)

// EnsureDefaults fills unset fields with their defaults.
func (o *Options) EnsureDefaults() {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Observer == nil {
		o.Observer = NopObserver{}
	}
	if o.QueuedMaxRequestBytes <= 0 && o.Config != nil {
		o.QueuedMaxRequestBytes = o.Config.QueuedMaxRequestBytes
	}
	if o.QueuedMaxRequestBytes <= 0 {
		o.QueuedMaxRequestBytes = DefaultQueuedMaxRequestBytes
	}
	if o.Config != nil && o.QueuedMaxRequestBytes < o.Config.SocketRequestMaxBytes {
		o.QueuedMaxRequestBytes = o.Config.SocketRequestMaxBytes
	}
	if o.MaxQueuedPerConnection <= 0 {
		o.MaxQueuedPerConnection = DefaultMaxQueuedPerConnection
	}
	if o.FrameTimeout <= 0 {
		o.FrameTimeout = DefaultFrameTimeout
	}
	if o.FrameMinBytesPerSecond <= 0 {
		o.FrameMinBytesPerSecond = DefaultFrameMinBytesPerSecond
	}
}

// Validate checks the options after EnsureDefaults.
func (o *Options) Validate() error {
	if o.Config == nil {
		return errors.New("server: Options.Config is nil")
	}
	for _, l := range o.Config.Listeners {
		if l.SecurityProtocol != config.Plaintext {
			// SSL wraps the accepted net.Conn (tls.Server) before serve; SASL adds the
			// authentication state checked in conn.dispatch. Neither exists yet.
			return fmt.Errorf("server: listener %s: security protocol %s is not supported yet (only PLAINTEXT)", l.Name, l.SecurityProtocol)
		}
	}
	for i, h := range o.Handoffs {
		if len(h.Prefix) < 4 || h.Fn == nil {
			return fmt.Errorf("server: handoff %d: prefix shorter than 4 bytes or nil Fn", i)
		}
		// The prefix's first 4 bytes are read as a Kafka frame size; they must never be one.
		size := int32(binary.BigEndian.Uint32(h.Prefix))
		if size >= 0 && int64(size) <= o.Config.SocketRequestMaxBytes {
			return fmt.Errorf("server: handoff %d: prefix %q reads as a valid frame size %d", i, h.Prefix[:4], size)
		}
	}
	return nil
}

// Handoff passes a connection on a controller listener to another protocol. The server
// reads the 4 bytes a Kafka frame's size would take; when they equal Prefix[:4] (a size no
// Kafka frame can have: Validate checks it is negative or above socket.request.max.bytes),
// it calls Fn with the connection and those 4 consumed bytes. Fn reads and checks the rest
// of its preamble itself, and owns conn from then on, error or not: the server neither reads
// from it nor closes it again, and stops counting it against connection limits.
//
// Fn runs on the connection's goroutine and Close waits for it, so it must return promptly
// (queue the connection, do not serve it). quorum.StreamLayer.Handoff fits.
//
// Only the first frame of a connection is sniffed; only controller listeners are.
type Handoff struct {
	Prefix []byte
	Fn     func(conn net.Conn, consumed []byte) error
}

// Server is the broker's network edge. Create it with New, open its listeners with Start,
// stop it with Close.
type Server struct {
	opts Options
	log  *slog.Logger
	obs  Observer
	reg  *registry

	cfg    atomic.Pointer[config.Broker] // replaced by Reconfigure
	limits atomic.Pointer[connLimits]

	// reqBytes bounds request bytes in memory, reqSlots the requests read and not yet taken
	// by their processor (queued.max.requests).
	reqBytes *budget
	reqSlots *budget

	fetchSessions *FetchSessions

	// ctx is the parent of every connection's context; cancelled when Close gives up waiting.
	ctx    context.Context
	cancel context.CancelFunc
	// stopping is closed when Close begins.
	stopping chan struct{}
	closed   chan struct{}

	acceptWG sync.WaitGroup // accept loops
	connWG   sync.WaitGroup // connection goroutines (each waits for its own children)

	mu struct {
		sync.Mutex
		started   bool
		closing   bool
		listeners []*listener
		conns     map[*conn]struct{}
		// clientConns counts connections on client listeners (max.connections); perIP
		// counts every listener's (max.connections.per.ip).
		clientConns int
		perIP       map[netip.Addr]int
	}
	closeOnce sync.Once
	closeErr  error
}

// connLimits are the connection limits in force (max.connections are dynamic in Kafka).
type connLimits struct {
	maxConns      int
	maxPerIP      int
	perIPOverride map[netip.Addr]int
	idle          time.Duration // <= 0: never close idle connections
}

// New validates opts and builds a server; it opens nothing (Start does).
func New(opts Options) (*Server, error) {
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	s := &Server{
		opts:     opts,
		log:      opts.Logger,
		obs:      opts.Observer,
		reqBytes: newBudget(opts.QueuedMaxRequestBytes),
		reqSlots: newBudget(int64(max(opts.Config.QueuedMaxRequests, 1))),
		stopping: make(chan struct{}),
		closed:   make(chan struct{}),
	}
	reg, err := newRegistry(append(s.handlers(), opts.ExtraHandlers...))
	if err != nil {
		return nil, err
	}
	s.reg = reg
	s.cfg.Store(opts.Config)
	s.limits.Store(limitsFrom(opts.Config))
	s.fetchSessions = NewFetchSessions(FetchSessionOptions{MaxSessions: opts.Config.MaxIncrementalFetchSessionCacheSlots})
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.mu.conns = map[*conn]struct{}{}
	s.mu.perIP = map[netip.Addr]int{}
	return s, nil
}

func limitsFrom(cfg *config.Broker) *connLimits {
	l := &connLimits{
		maxConns:      cfg.MaxConnections,
		maxPerIP:      cfg.MaxConnectionsPerIP,
		perIPOverride: map[netip.Addr]int{},
		idle:          cfg.ConnectionsMaxIdle,
	}
	for host, n := range cfg.MaxConnectionsPerIPOverrides {
		if a, err := netip.ParseAddr(host); err == nil {
			l.perIPOverride[a.Unmap()] = n
			continue
		}
		// Kafka accepts host names here and resolves them; so do we, once, when the
		// config is applied. A name that does not resolve gets no override.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		cancel()
		if err == nil {
			for _, a := range addrs {
				l.perIPOverride[a.Unmap()] = n
			}
		}
	}
	return l
}

// Reconfigure applies the dynamic parts of a new config: max.connections,
// max.connections.per.ip(.overrides) and connections.max.idle.ms. Existing connections over
// a lowered limit are kept; new ones are refused until the count drops.
func (s *Server) Reconfigure(cfg *config.Broker) {
	s.cfg.Store(cfg)
	s.limits.Store(limitsFrom(cfg))
}

// Start opens every configured listener and starts accepting. If a listener cannot be
// opened, the ones already open are closed and the error returned.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.started || s.mu.closing {
		return errors.New("server: Start called twice or after Close")
	}
	cfg := s.cfg.Load()
	var opened []*listener
	for _, lc := range cfg.Listeners {
		kind := ClientListeners
		if slices.Contains(cfg.ControllerListenerNames, lc.Name) {
			kind = ControllerListeners
		}
		ln, err := net.Listen("tcp", lc.Addr())
		if err != nil {
			for _, l := range opened {
				l.ln.Close()
			}
			return fmt.Errorf("server: listener %s: %w", lc, err)
		}
		l := &listener{srv: s, cfg: lc, kind: kind, ln: ln}
		if kind == ControllerListeners {
			l.handoffs = s.opts.Handoffs
		}
		opened = append(opened, l)
	}
	s.mu.started = true
	s.mu.listeners = opened
	for _, l := range opened {
		s.log.Info("listening", slog.String("listener", l.cfg.Name), slog.String("addr", l.ln.Addr().String()),
			slog.String("security_protocol", string(l.cfg.SecurityProtocol)))
		s.acceptWG.Add(1)
		go l.acceptLoop()
	}
	return nil
}

// Addr returns the bound address of the named listener (useful with port 0), or nil.
func (s *Server) Addr(listenerName string) net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range s.mu.listeners {
		if l.cfg.Name == listenerName {
			return l.ln.Addr()
		}
	}
	return nil
}

// FetchSessions returns the broker's fetch session cache (KIP-227).
func (s *Server) FetchSessions() *FetchSessions { return s.fetchSessions }

// Close shuts the server down: it stops accepting, stops reading new requests, lets the
// requests already read finish and their responses be written, closes every connection,
// and waits for every goroutine it started. When ctx ends first, the remaining
// connections' contexts are cancelled (handlers must return promptly then) and their
// sockets closed; Close still waits for the goroutines and returns ctx's error. Later calls
// wait for the first one and return its result.
func (s *Server) Close(ctx context.Context) error {
	first := false
	s.closeOnce.Do(func() { first = true })
	if !first {
		select {
		case <-s.closed:
			return s.closeErr
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	defer close(s.closed)

	s.mu.Lock()
	s.mu.closing = true
	listeners := s.mu.listeners
	s.mu.Unlock()
	close(s.stopping)
	for _, l := range listeners {
		l.ln.Close()
	}
	s.acceptWG.Wait()

	// No connection can be added now: admit checks closing under mu.
	s.mu.Lock()
	conns := make([]*conn, 0, len(s.mu.conns))
	for c := range s.mu.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.stopReading()
	}

	done := make(chan struct{})
	go func() { // owned here: ends when connWG does, and Close waits for done below
		s.connWG.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		s.closeErr = ctx.Err()
		s.log.Warn("shutdown deadline reached; closing connections with requests in flight")
		s.cancel()
		for _, c := range conns {
			c.abort()
		}
		<-done
	}
	s.cancel()
	return s.closeErr
}

// admit registers an accepted connection, or refuses it (closing nc) when the server is
// closing or a connection limit is reached.
func (s *Server) admit(l *listener, nc net.Conn) (*conn, bool) {
	ip := addrPort(nc.RemoteAddr()).Addr().Unmap()
	lim := s.limits.Load()
	perIPMax := lim.maxPerIP
	if n, ok := lim.perIPOverride[ip]; ok {
		perIPMax = n
	}
	s.mu.Lock()
	var reason RefuseReason
	switch {
	case s.mu.closing:
		s.mu.Unlock()
		nc.Close()
		return nil, false
	case l.kind == ClientListeners && s.mu.clientConns >= lim.maxConns:
		reason = RefusedMaxConnections
	case s.mu.perIP[ip] >= perIPMax:
		reason = RefusedMaxConnectionsPerIP
	}
	if reason != "" {
		s.mu.Unlock()
		nc.Close()
		s.obs.ConnectionRefused(l.cfg.Name, reason)
		s.log.Warn("connection refused", slog.String("listener", l.cfg.Name),
			slog.String("peer", nc.RemoteAddr().String()), slog.String("limit", string(reason)))
		return nil, false
	}
	c := newConn(s, l, nc)
	s.mu.conns[c] = struct{}{}
	s.mu.perIP[ip]++
	if l.kind == ClientListeners {
		s.mu.clientConns++
	}
	s.connWG.Add(1)
	s.mu.Unlock()
	s.obs.ConnectionOpened(l.cfg.Name)
	return c, true
}

// forget unregisters a connection (closed, or handed off).
func (s *Server) forget(c *conn) {
	s.mu.Lock()
	if _, ok := s.mu.conns[c]; ok {
		delete(s.mu.conns, c)
		ip := c.peer.Addr().Unmap()
		if s.mu.perIP[ip]--; s.mu.perIP[ip] <= 0 {
			delete(s.mu.perIP, ip)
		}
		if c.l.kind == ClientListeners {
			s.mu.clientConns--
		}
	}
	s.mu.Unlock()
	s.obs.ConnectionClosed(c.l.cfg.Name)
}

// connCount reports the open connections (tests).
func (s *Server) connCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.mu.conns)
}

func addrPort(a net.Addr) netip.AddrPort {
	if ta, ok := a.(*net.TCPAddr); ok {
		return ta.AddrPort()
	}
	ap, _ := netip.ParseAddrPort(a.String())
	return ap
}
