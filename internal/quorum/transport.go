package quorum

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// Preamble is the first bytes a raft connection sends on a controller listener. Read as a
// Kafka request frame, its first four bytes ("SLUI") are a size of 1,397,511,497 bytes,
// above 1 GiB and far above any socket.request.max.bytes, so a server that sees them knows
// the connection is not a Kafka client.
var Preamble = []byte("SLUICE-RAFT/1\n")

// ErrBadPreamble: a connection handed to the stream layer did not start with Preamble.
var ErrBadPreamble = errors.New("quorum: connection does not start with the raft preamble")

const (
	// acceptQueueLen bounds the connections handed off but not yet taken by the transport.
	// The transport accepts in a loop that only starts a goroutine, so the queue drains fast.
	acceptQueueLen = 16
	// maxPendingHandshakes bounds the connections being read a preamble from at once; more
	// are closed at once, so a connection flood cannot pile goroutines up.
	maxPendingHandshakes = 64
	// defaultHandshakeTimeout is how long a peer has to send the preamble.
	defaultHandshakeTimeout = 10 * time.Second
)

// HasPreamblePrefix reports whether b, the first bytes read from a new connection (at most
// len(Preamble) of them), agree with Preamble. A server that read the 4-byte size of what
// would be a Kafka request calls it with those 4 bytes.
func HasPreamblePrefix(b []byte) bool {
	return len(b) <= len(Preamble) && bytes.Equal(b, Preamble[:len(b)])
}

// StreamLayer is raft's connection layer for one node: outbound connections it dials itself
// (Dial writes Preamble first), inbound ones are handed to it.
//
// Who reads the preamble: the owner of the listener reads however many bytes it needs to
// tell raft from Kafka (the server reads the 4-byte frame size) and passes them to Handoff,
// which reads and checks the rest of Preamble before giving the connection to raft. From
// then on the stream layer owns the connection and closes it on Close.
//
// Every connection it dials or accepts is tracked and closed by Close: raft's transport does
// not close inbound connections on shutdown, and their handler goroutines would leak.
type StreamLayer struct {
	addr             advertisedAddr
	logger           *slog.Logger
	handshakeTimeout time.Duration

	accept     chan net.Conn
	handshakes chan struct{} // semaphore: connections reading their preamble
	closed     chan struct{}

	// ln is the owned listener (Listen), nil when the server owns the listener.
	ln net.Listener
	wg sync.WaitGroup // the owned listener's accept loop and the handshakes

	mu struct {
		sync.Mutex
		conns    map[*trackedConn]struct{}
		isClosed bool
	}
}

var _ raft.StreamLayer = (*StreamLayer)(nil)

// NewStreamLayer returns a stream layer for a node whose voter address (as written in
// controller.quorum.voters) is advertised. Inbound connections come through Handoff.
func NewStreamLayer(advertised string, logger *slog.Logger) (*StreamLayer, error) {
	if _, _, err := net.SplitHostPort(advertised); err != nil {
		return nil, fmt.Errorf("quorum: advertised address %q: %w", advertised, err)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &StreamLayer{
		addr:             advertisedAddr(advertised),
		logger:           logger,
		handshakeTimeout: defaultHandshakeTimeout,
		accept:           make(chan net.Conn, acceptQueueLen),
		handshakes:       make(chan struct{}, maxPendingHandshakes),
		closed:           make(chan struct{}),
	}
	s.mu.conns = make(map[*trackedConn]struct{})
	return s, nil
}

// Listen returns a stream layer that owns a TCP listener on listenAddr, for tests and for
// a controller whose raft traffic has its own port. advertised is the voter address; ""
// means the listener's own address (useful with port 0).
func Listen(listenAddr, advertised string, logger *slog.Logger) (*StreamLayer, error) {
	ln, err := net.Listen("tcp", listenAddr)
	if err != nil {
		return nil, fmt.Errorf("quorum: listen: %w", err)
	}
	if advertised == "" {
		advertised = ln.Addr().String()
	}
	s, err := NewStreamLayer(advertised, logger)
	if err != nil {
		ln.Close()
		return nil, err
	}
	s.ln = ln
	s.wg.Add(1)
	go s.acceptLoop()
	return s, nil
}

func (s *StreamLayer) acceptLoop() {
	defer s.wg.Done()
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			select {
			case <-s.closed:
				return
			default:
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			s.logger.Error("raft listener failed", "err", err)
			return
		}
		if err := s.Handoff(conn, nil); err != nil && !errors.Is(err, net.ErrClosed) {
			s.logger.Warn("refused raft connection", "remote", conn.RemoteAddr().String(), "err", err)
		}
	}
}

// Handoff gives raft an inbound connection whose first bytes, consumed (possibly empty), the
// caller has already read; they must be a prefix of Preamble. Handoff returns at once (the
// server calls it on its connection goroutine): a goroutine of the stream layer reads the
// rest of the preamble within a timeout, checks it, and queues the connection for raft, or
// closes it. From the call on, the stream layer owns conn and closes it on any error and on
// Close. At most 64 connections may be in that handshake; beyond that, and after Close,
// Handoff closes conn and returns an error.
func (s *StreamLayer) Handoff(conn net.Conn, consumed []byte) error {
	if !HasPreamblePrefix(consumed) {
		conn.Close()
		return ErrBadPreamble
	}
	tc, err := s.track(conn)
	if err != nil {
		return err
	}
	select {
	case s.handshakes <- struct{}{}:
	default:
		tc.Close()
		return errTooManyHandshakes
	}
	rest := len(Preamble) - len(consumed)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer func() { <-s.handshakes }()
		if err := s.finishHandshake(tc, rest); err != nil {
			tc.Close()
			if !errors.Is(err, net.ErrClosed) {
				s.logger.Warn("refused raft connection", "remote", conn.RemoteAddr().String(), "err", err)
			}
		}
	}()
	return nil
}

var errTooManyHandshakes = errors.New("quorum: too many raft connections in handshake")

func (s *StreamLayer) finishHandshake(tc *trackedConn, rest int) error {
	if rest > 0 {
		buf := make([]byte, rest)
		_ = tc.SetReadDeadline(time.Now().Add(s.handshakeTimeout))
		if _, err := io.ReadFull(tc, buf); err != nil {
			return fmt.Errorf("%w: %w", ErrBadPreamble, err)
		}
		if !bytes.Equal(buf, Preamble[len(Preamble)-rest:]) {
			return ErrBadPreamble
		}
		_ = tc.SetReadDeadline(time.Time{})
	}
	select {
	case s.accept <- tc:
		return nil
	case <-s.closed:
		return net.ErrClosed
	}
}

// Accept implements net.Listener for raft's transport.
func (s *StreamLayer) Accept() (net.Conn, error) {
	select {
	case c := <-s.accept:
		return c, nil
	case <-s.closed:
		return nil, net.ErrClosed
	}
}

// Dial implements raft.StreamLayer: it connects to a voter and writes Preamble.
func (s *StreamLayer) Dial(address raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	d := net.Dialer{Timeout: timeout}
	conn, err := d.Dial("tcp", string(address))
	if err != nil {
		return nil, err
	}
	_ = conn.SetWriteDeadline(time.Now().Add(timeout))
	if _, err := conn.Write(Preamble); err != nil {
		conn.Close()
		return nil, err
	}
	_ = conn.SetWriteDeadline(time.Time{})
	return s.track(conn)
}

// Addr is the advertised voter address; raft uses its String as this node's address.
func (s *StreamLayer) Addr() net.Addr { return s.addr }

// Close stops accepting, closes the owned listener (if any) and every tracked connection,
// and waits for the layer's goroutines. Raft's transport calls it on shutdown; calling it
// again is harmless.
func (s *StreamLayer) Close() error {
	s.mu.Lock()
	if s.mu.isClosed {
		s.mu.Unlock()
		return nil
	}
	s.mu.isClosed = true
	close(s.closed)
	conns := make([]*trackedConn, 0, len(s.mu.conns))
	for c := range s.mu.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	if s.ln != nil {
		s.ln.Close()
	}
	for _, c := range conns {
		c.Close()
	}
	s.wg.Wait()
	// Connections queued but never accepted are tracked too, so they are closed above.
	return nil
}

func (s *StreamLayer) track(conn net.Conn) (*trackedConn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.isClosed {
		conn.Close()
		return nil, net.ErrClosed
	}
	tc := &trackedConn{Conn: conn, s: s}
	s.mu.conns[tc] = struct{}{}
	return tc, nil
}

func (s *StreamLayer) untrack(tc *trackedConn) {
	s.mu.Lock()
	delete(s.mu.conns, tc)
	s.mu.Unlock()
}

type trackedConn struct {
	net.Conn
	s    *StreamLayer
	once sync.Once
}

func (c *trackedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.s.untrack(c) })
	return err
}

// advertisedAddr is a host:port kept verbatim: raft compares addresses as strings, so the
// node's own address must read exactly as in controller.quorum.voters.
type advertisedAddr string

func (a advertisedAddr) Network() string { return "tcp" }
func (a advertisedAddr) String() string  { return string(a) }
