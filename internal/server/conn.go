package server

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicehq/sluice/internal/protocol/message"
	"github.com/sluicehq/sluice/internal/protocol/wire"
)

// A connection is served by three goroutines joined by two bounded queues:
//
//	reader ──frames──▶ processor ──responses──▶ writer
//
// The reader reads size-prefixed frames (within the memory budget), the processor decodes
// and handles them strictly one at a time in arrival order (Kafka processes a connection's
// requests sequentially, and idempotent producers with several requests in flight rely on
// that order), and the writer sends the encoded responses in the same order, with sendfile
// for file regions. Reading the next request and writing earlier responses overlap with
// handling, but never reorder.
//
// Ending paths:
//   - in order (client EOF, Server.Close, and after a protocol error, a handler panic or
//     failure, or ErrCloseConnection): the reader stops and closes the frame queue; the
//     processor finishes what was queued (or, after an error, drops it) and closes the
//     response queue; the writer writes what remains; serve then closes the socket with
//     lingerClose, so the client receives every response written.
//     The reader stopping for a bad frame (too large, too slow, cut off by EOF) or for
//     idleness ends the connection the same way.
//   - abort (a socket read or write failure, a reset, forced shutdown): the context is
//     cancelled and the socket closed at once; queued frames and responses are released
//     without being handled or sent.
//
// Lock order: conn.ncMu is a leaf (it only guards nc against use after a handoff).
type conn struct {
	srv  *Server
	l    *listener
	nc   net.Conn
	br   *bufio.Reader
	peer netip.AddrPort
	log  *slog.Logger

	// ctx is cancelled on abort, on close, and when Close gives up waiting; handlers get it.
	ctx    context.Context
	cancel context.CancelFunc

	// stop is closed (and stopping set) when the reader must stop taking new frames.
	stop      chan struct{}
	stopping  atomic.Bool
	stopOnce  sync.Once
	closeOnce sync.Once
	aborted   atomic.Bool

	frames    chan *frame
	responses chan *outgoing

	// lastActiveNs is when a frame was last read or a response last written (unix ns);
	// inflight counts frames read whose response is not yet written or dropped. Together
	// they decide idleness (connections.max.idle.ms).
	lastActiveNs atomic.Int64
	inflight     atomic.Int32

	// Reader-only: a handoff chosen on the first frame, and the 4 bytes it consumed.
	handoff  *Handoff
	consumed [4]byte
	// handedOff is set once nc belongs to a handoff: from then on stopReading and
	// closeSocket (called by Server.Close) must not touch it.
	ncMu      sync.Mutex
	handedOff bool

	// Processor-only state.
	principal             Principal
	clientSoftwareName    string
	clientSoftwareVersion string
	closeRequested        bool
}

// frame is one request frame read from the socket, holding budget and a pooled buffer
// until release.
type frame struct {
	buf    []byte
	readAt time.Time
}

// outgoing is one encoded response on its way to the socket.
type outgoing struct {
	w         *wire.Writer
	out       wire.Output
	afterSend []func()
	ev        RequestEvent
	queuedAt  time.Time
	// closeConn marks the end of the connection: nothing follows it, and the socket is
	// closed once the responses before it are written.
	closeConn bool
	// noEvent: no handler ran (a protocol error), so there is no request to report.
	noEvent bool
}

// readBufferBytes is the read-ahead buffer per connection: small pipelined requests are
// read many to a syscall; large payloads bypass it.
const readBufferBytes = 16 << 10

// Errors ending a connection's reader.
var (
	errStopped   = errors.New("server: connection stopping")
	errIdle      = errors.New("server: connection idle")
	errHandedOff = errors.New("server: connection handed off")
	errSlowFrame = errors.New("server: frame not completed in time")
	errFrameSize = errors.New("server: frame size out of range")
)

func newConn(s *Server, l *listener, nc net.Conn) *conn {
	peer := addrPort(nc.RemoteAddr())
	c := &conn{
		srv:       s,
		l:         l,
		nc:        nc,
		br:        bufio.NewReaderSize(nc, readBufferBytes),
		peer:      peer,
		log:       s.log.With(slog.String("listener", l.cfg.Name), slog.String("peer", peer.String())),
		stop:      make(chan struct{}),
		frames:    make(chan *frame, s.opts.MaxQueuedPerConnection),
		responses: make(chan *outgoing, s.opts.MaxQueuedPerConnection),
		principal: Anonymous,
	}
	c.ctx, c.cancel = context.WithCancel(s.ctx)
	c.lastActiveNs.Store(time.Now().UnixNano())
	return c
}

// serve runs the connection to its end. The Server counted it in connWG.
func (c *conn) serve() {
	defer c.srv.connWG.Done()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		c.process()
	}()
	go func() {
		defer wg.Done()
		c.write()
	}()
	c.read()
	wg.Wait()
	c.cancel()

	if h := c.handoff; h != nil {
		c.ncMu.Lock()
		c.handedOff = !c.stopping.Load() // a stopping server closes it instead
		c.ncMu.Unlock()
		if c.handedOff {
			// Nothing of ours touches nc any more: clear our deadlines and give it away.
			_ = c.nc.SetDeadline(time.Time{})
			c.srv.forget(c)
			c.log.Debug("connection handed off")
			if err := h.Fn(c.nc, c.consumed[:]); err != nil {
				c.log.Debug("handoff refused the connection", slog.Any("err", err))
			}
			return
		}
	}
	c.lingerClose()
	c.srv.forget(c)
}

// lingerTimeout and lingerMaxBytes bound lingerClose.
const (
	lingerTimeout  = 500 * time.Millisecond
	lingerMaxBytes = 1 << 20
)

// lingerClose runs after the reader, processor and writer have stopped (they set deadlines
// on nc too). It ends a connection that is closing in order (client EOF, a protocol error after
// the earlier responses, server shutdown): it sends FIN, then reads and discards what the
// client still sends until it closes too (bounded in time and bytes), and only then closes.
// Closing a socket with unread input makes the kernel send RST, and a client that receives
// RST may lose the responses it has not read yet. An aborted connection is closed at once.
func (c *conn) lingerClose() {
	if tc, ok := c.nc.(*net.TCPConn); ok && !c.aborted.Load() && c.srv.ctx.Err() == nil {
		if tc.CloseWrite() == nil {
			_ = tc.SetReadDeadline(time.Now().Add(lingerTimeout))
			_, _ = io.Copy(io.Discard, io.LimitReader(tc, lingerMaxBytes))
		}
	}
	c.closeSocket()
}

// stopReading makes the reader stop at the next frame boundary (or abandon a frame it is
// reading); what was read is still handled and answered.
func (c *conn) stopReading() {
	c.stopOnce.Do(func() {
		c.stopping.Store(true)
		close(c.stop)
		// Wake a blocked Read. The reader re-checks stopping after every deadline it sets,
		// so it cannot sleep past this.
		c.ncMu.Lock()
		if !c.handedOff {
			_ = c.nc.SetReadDeadline(time.Unix(1, 0))
		}
		c.ncMu.Unlock()
	})
}

// abort ends the connection now: handlers see a cancelled context, queued work is dropped.
func (c *conn) abort() {
	c.aborted.Store(true)
	c.cancel()
	c.stopReading()
	c.closeSocket()
}

func (c *conn) closeSocket() {
	c.ncMu.Lock()
	defer c.ncMu.Unlock()
	if !c.handedOff {
		c.closeOnce.Do(func() { _ = c.nc.Close() })
	}
}

func (c *conn) touch() { c.lastActiveNs.Store(time.Now().UnixNano()) }

// ---- reader ----

func (c *conn) read() {
	defer close(c.frames)
	first := true
	for {
		f, err := c.readFrame(first)
		first = false
		if err != nil {
			c.readEnded(err)
			return
		}
		c.inflight.Add(1)
		// queued.max.requests: a slot per frame between here and its processor.
		if !c.srv.reqSlots.acquire(1, c.stop, c.ctx.Done()) {
			c.releaseFrame(f)
			c.inflight.Add(-1)
			return
		}
		select {
		case c.frames <- f:
		case <-c.ctx.Done():
			c.srv.reqSlots.release(1)
			c.releaseFrame(f)
			c.inflight.Add(-1)
			return
		}
	}
}

// readEnded logs why the reader stopped. Except after a read failure of the socket itself,
// the connection then ends in order: requests read before are still answered.
func (c *conn) readEnded(err error) {
	switch {
	case errors.Is(err, errStopped), errors.Is(err, errHandedOff):
	case errors.Is(err, io.EOF):
		c.log.Debug("client closed the connection")
	case errors.Is(err, io.ErrUnexpectedEOF):
		c.log.Warn("client closed the connection in the middle of a frame", slog.Any("err", err))
	case errors.Is(err, errIdle):
		c.log.Debug("closing idle connection", slog.Duration("idle", c.srv.limits.Load().idle))
	case errors.Is(err, errFrameSize), errors.Is(err, errSlowFrame):
		c.log.Warn("closing connection", slog.Any("err", err))
	default:
		c.log.Debug("connection read failed", slog.Any("err", err))
		c.abort()
	}
}

// readFrame reads one frame: it waits for its first byte under the idle rule, then gives
// the rest FrameTimeout plus size/FrameMinBytesPerSecond, and reserves the memory budget
// for the payload before reading it.
func (c *conn) readFrame(first bool) (*frame, error) {
	var hdr [4]byte
	var src io.Reader = c.br
	if first && len(c.l.handoffs) > 0 {
		// Unbuffered, so that no byte after the 4 we sniff is consumed from a connection we
		// may hand off.
		src = c.nc
	}
	n, err := c.readFirst(src, hdr[:])
	if err != nil {
		return nil, err
	}
	start := time.Now()
	if n < len(hdr) {
		if err := c.readFull(src, hdr[n:], start.Add(c.srv.opts.FrameTimeout)); err != nil {
			return nil, frameReadError("size prefix", err)
		}
	}
	if first {
		if h := c.l.matchHandoff(hdr[:]); h != nil {
			c.handoff, c.consumed = h, hdr
			return nil, errHandedOff
		}
	}
	size := int32(binary.BigEndian.Uint32(hdr[:]))
	maxBytes := c.srv.cfg.Load().SocketRequestMaxBytes
	if size < 0 || int64(size) > maxBytes {
		return nil, fmt.Errorf("%w: %d bytes, socket.request.max.bytes is %d", errFrameSize, size, maxBytes)
	}
	if !c.srv.reqBytes.acquire(int64(size), c.stop, c.ctx.Done()) {
		return nil, errStopped
	}
	f := getFrame(int(size))
	deadline := time.Now().Add(c.frameTimeout(int64(size)))
	if err := c.readFull(src, f.buf, deadline); err != nil {
		c.releaseFrame(f)
		return nil, frameReadError(fmt.Sprintf("%d-byte payload", size), err)
	}
	f.readAt = time.Now()
	c.lastActiveNs.Store(f.readAt.UnixNano())
	return f, nil
}

// frameReadError describes a failure inside a frame: a deadline means the peer is too slow,
// an EOF that the peer stopped in the middle of a frame.
func frameReadError(what string, err error) error {
	switch {
	case errors.Is(err, errStopped):
		return err
	case errors.Is(err, os.ErrDeadlineExceeded):
		return fmt.Errorf("%w: %s", errSlowFrame, what)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%s: %w", what, io.ErrUnexpectedEOF)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// frameTimeout is the time a frame of size bytes gets once started.
func (c *conn) frameTimeout(size int64) time.Duration {
	o := &c.srv.opts
	return o.FrameTimeout + time.Duration(size*int64(time.Second)/o.FrameMinBytesPerSecond)
}

// readFirst blocks until at least one byte arrives. A connection with nothing in flight
// whose last activity is older than connections.max.idle.ms is idle; one waiting for a
// slow response is not.
func (c *conn) readFirst(src io.Reader, b []byte) (int, error) {
	for {
		idle := c.srv.limits.Load().idle
		var deadline time.Time
		if idle > 0 {
			now := time.Now()
			deadline = time.Unix(0, c.lastActiveNs.Load()).Add(idle)
			if c.inflight.Load() > 0 {
				deadline = now.Add(idle)
			}
			// A deadline already past fails a Read without looking at the socket; leave a
			// moment so bytes that did arrive (a reader scheduled late) are still read.
			deadline = later(deadline, now.Add(time.Millisecond))
		}
		_ = c.nc.SetReadDeadline(deadline)
		if c.stopping.Load() {
			return 0, errStopped
		}
		n, err := src.Read(b)
		if n > 0 {
			return n, nil
		}
		if err == nil {
			continue
		}
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			return 0, err
		}
		if c.stopping.Load() {
			return 0, errStopped
		}
		if idle > 0 && c.inflight.Load() == 0 && time.Since(time.Unix(0, c.lastActiveNs.Load())) >= idle {
			return 0, errIdle
		}
	}
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// readFull fills b before deadline.
func (c *conn) readFull(src io.Reader, b []byte, deadline time.Time) error {
	_ = c.nc.SetReadDeadline(deadline)
	if c.stopping.Load() {
		return errStopped
	}
	_, err := io.ReadFull(src, b)
	if err != nil && c.stopping.Load() {
		return errStopped
	}
	return err
}

func (c *conn) releaseFrame(f *frame) {
	c.srv.reqBytes.release(int64(len(f.buf)))
	putFrame(f)
}

// ---- processor ----

func (c *conn) process() {
	defer close(c.responses)
	for f := range c.frames {
		c.srv.reqSlots.release(1)
		if c.ctx.Err() != nil || c.closeRequested {
			c.releaseFrame(f)
			c.inflight.Add(-1)
			continue
		}
		out := c.handle(f)
		c.releaseFrame(f)
		if out == nil {
			c.inflight.Add(-1)
			continue
		}
		out.queuedAt = time.Now()
		select {
		case c.responses <- out:
		case <-c.ctx.Done():
			out.finish(false, c)
			c.inflight.Add(-1)
		}
	}
}

// handle decodes, checks and dispatches one frame and returns what goes to the writer: an
// encoded response, a close marker (closeAfter), or nil when nothing is sent.
func (c *conn) handle(f *frame) *outgoing {
	hdr, body, err := message.DecodeRequest(f.buf)
	if err != nil {
		if hdr.RequestApiKey == message.KeyApiVersions && errors.Is(err, wire.ErrUnsupportedVersion) {
			return c.unsupportedApiVersions(f, &hdr)
		}
		return c.protocolError(&hdr, "cannot decode request", err)
	}
	key, version := hdr.RequestApiKey, hdr.RequestApiVersion
	h := c.srv.reg.lookup(key)
	switch {
	case h == nil || h.Listeners&c.l.kind == 0:
		return c.protocolError(&hdr, "API not served on this listener", nil)
	case !h.Versions.Contains(version):
		if key == message.KeyApiVersions {
			return c.unsupportedApiVersions(f, &hdr)
		}
		return c.protocolError(&hdr, "API version not served", nil)
	}
	// SASL slots in here: before authentication only ApiVersions, SaslHandshake and
	// SaslAuthenticate are allowed, and anything else closes the connection (Kafka's
	// IllegalSaslStateException). PLAINTEXT connections start authenticated.

	r := &Request{
		APIKey:                key,
		Version:               version,
		CorrelationID:         hdr.CorrelationId,
		Header:                hdr,
		Body:                  body,
		Size:                  len(f.buf),
		ReceivedAt:            f.readAt,
		Listener:              c.l.cfg.Name,
		SecurityProtocol:      c.l.cfg.SecurityProtocol,
		ListenerKind:          c.l.kind,
		Peer:                  c.peer,
		Principal:             c.principal,
		ClientSoftwareName:    c.clientSoftwareName,
		ClientSoftwareVersion: c.clientSoftwareVersion,
		conn:                  c,
	}
	if hdr.ClientId != nil {
		r.ClientID = *hdr.ClientId
	}
	start := time.Now()
	resp, herr, panicked := c.call(h, r)
	ev := RequestEvent{
		Listener:      c.l.cfg.Name,
		APIKey:        key,
		Version:       version,
		CorrelationID: r.CorrelationID,
		ClientID:      r.ClientID,
		RequestBytes:  len(f.buf),
		QueueTime:     start.Sub(f.readAt),
		HandleTime:    time.Since(start),
	}
	switch {
	case panicked:
		return c.closeAfter(r, ev)
	case herr == nil && resp == nil:
		r.Logger().Error("handler returned neither a response nor an error; closing the connection")
		return c.closeAfter(r, ev)
	case herr == nil:
	case errors.Is(herr, ErrNoResponse):
		(&outgoing{afterSend: r.afterSend, ev: ev}).finish(false, c)
		return nil
	case errors.Is(herr, ErrCloseConnection):
		return c.closeAfter(r, ev)
	case c.ctx.Err() != nil:
		// The connection is gone or the broker gave up waiting: nobody to answer.
		(&outgoing{afterSend: r.afterSend, ev: ev}).finish(false, c)
		return nil
	case h.ErrorResponse != nil:
		resp = h.ErrorResponse(r, r.ErrorCode(herr))
	default:
		r.Logger().Error("handler failed; closing the connection", slog.Any("err", herr))
		return c.closeAfter(r, ev)
	}
	out, err := c.encode(r.CorrelationID, version, resp, ev)
	if err != nil {
		r.Logger().Error("cannot encode response; closing the connection", slog.Any("err", err))
		return c.closeAfter(r, ev)
	}
	out.afterSend = r.afterSend
	return out
}

// closeAfter ends the connection after the responses already queued: the reader stops, later
// frames are dropped, and the socket is closed once the writer has passed the marker returned.
// r may be nil when no handler ran.
func (c *conn) closeAfter(r *Request, ev RequestEvent) *outgoing {
	c.closeRequested = true
	c.stopReading()
	out := &outgoing{ev: ev, closeConn: true, noEvent: r == nil}
	if r != nil {
		out.afterSend = r.afterSend
	}
	return out
}

// call runs the handler, recovering a panic as the last line of defence: a panic is a bug,
// logged with its stack; the connection is closed and the broker keeps serving others.
func (c *conn) call(h *registered, r *Request) (resp message.Response, err error, panicked bool) {
	defer func() {
		if p := recover(); p != nil {
			panicked = true
			r.Logger().Error("handler panicked; closing the connection",
				slog.String("api", h.name), slog.Any("panic", p), slog.String("stack", string(debug.Stack())))
		}
	}()
	resp, err = h.Fn.call(c.ctx, r)
	return resp, err, false
}

// encode encodes a whole response frame into a pooled writer.
func (c *conn) encode(correlationID int32, version int16, resp message.Response, ev RequestEvent) (*outgoing, error) {
	w := getWriter()
	out := &outgoing{w: w, ev: ev}
	out.ev.Response = resp
	if err := message.EncodeResponse(w, correlationID, version, resp); err != nil {
		putWriter(w)
		out.w = nil
		return out, err
	}
	out.out = w.Output()
	out.ev.ResponseBytes = out.out.Size
	return out, nil
}

// unsupportedApiVersions answers an ApiVersions request of a version this broker does not
// serve as Kafka does (KIP-511): an ApiVersions v0 response with UNSUPPORTED_VERSION whose
// list holds only ApiVersions' own range, so the client retries at the highest version both
// sides know. The request body is not parsed.
func (c *conn) unsupportedApiVersions(f *frame, hdr *message.RequestHeader) *outgoing {
	resp := unsupportedApiVersionsResponse(c.srv.reg)
	ev := RequestEvent{Listener: c.l.cfg.Name, APIKey: message.KeyApiVersions, Version: 0,
		RequestBytes: len(f.buf), QueueTime: time.Since(f.readAt)}
	out, err := c.encode(hdr.CorrelationId, 0, resp, ev)
	if err != nil {
		c.log.Error("cannot encode ApiVersions v0 response", slog.Any("err", err))
		return c.closeAfter(nil, ev)
	}
	c.log.Debug("ApiVersions at an unsupported version; answered v0", slog.Int("api_version", int(hdr.RequestApiVersion)))
	return out
}

// protocolError logs a request the broker will not serve and closes the connection, as Kafka
// does for malformed requests, unknown API keys and versions it does not enable (after the
// responses to earlier requests).
func (c *conn) protocolError(hdr *message.RequestHeader, what string, err error) *outgoing {
	attrs := []any{
		slog.Int("api_key", int(hdr.RequestApiKey)),
		slog.Int("api_version", int(hdr.RequestApiVersion)),
		slog.Int("correlation_id", int(hdr.CorrelationId)),
	}
	if err != nil {
		attrs = append(attrs, slog.Any("err", err))
	}
	c.log.Warn(what+"; closing the connection", attrs...)
	return c.closeAfter(nil, RequestEvent{})
}

// ---- writer ----

// maxWriteBatch bounds the responses gathered into one writev.
const (
	maxWriteBatch      = 16
	maxWriteBatchBytes = 1 << 20
)

// write runs until the processor closes the response queue. After an abort it keeps
// draining, releasing what it does not send.
func (c *conn) write() {
	batch := make([]*outgoing, 0, maxWriteBatch)
	bufs := make([][]byte, 0, 2*maxWriteBatch)
	for out := range c.responses {
		batch = append(batch[:0], out)
		// Gather more in-memory responses already waiting, for one writev.
		if !out.closeConn && !out.hasRegions() {
			size := out.out.Size
		gather:
			for len(batch) < maxWriteBatch && size < maxWriteBatchBytes {
				select {
				case next, ok := <-c.responses:
					if !ok {
						break gather
					}
					batch = append(batch, next)
					if next.closeConn || next.hasRegions() {
						break gather
					}
					size += next.out.Size
				default:
					break gather
				}
			}
		}
		bufs = c.writeBatch(batch, bufs)
	}
}

// writeBatch writes responses in order: runs of in-memory ones with one writev, ones with
// file regions through wire.WriteChunks (sendfile) on the socket itself. It returns bufs
// for reuse.
func (c *conn) writeBatch(batch []*outgoing, bufs [][]byte) [][]byte {
	for i := 0; i < len(batch); {
		out := batch[i]
		if out.closeConn {
			// Everything before the marker is written and the processor sends nothing after
			// it; serve closes the socket (lingerClose) once the reader has stopped too.
			out.finish(false, c)
			c.inflight.Add(-1)
			i++
			continue
		}
		j := i + 1
		if !out.hasRegions() {
			for j < len(batch) && !batch[j].closeConn && !batch[j].hasRegions() {
				j++
			}
		}
		run := batch[i:j]
		sent := false
		if c.ctx.Err() == nil {
			var size int64
			for _, o := range run {
				size += o.out.Size
			}
			_ = c.nc.SetWriteDeadline(time.Now().Add(c.frameTimeout(size)))
			var err error
			if out.hasRegions() {
				_, err = out.out.WriteTo(c.nc)
			} else {
				bufs = bufs[:0]
				for _, o := range run {
					for _, ch := range o.out.Chunks {
						bufs = append(bufs, ch.Bytes)
					}
				}
				nb := net.Buffers(bufs) // WriteTo consumes nb, not bufs
				_, err = nb.WriteTo(c.nc)
				clear(bufs)
			}
			if err != nil {
				c.log.Debug("writing response failed; closing the connection", slog.Any("err", err))
				c.abort()
			} else {
				sent = true
				c.touch()
			}
		}
		now := time.Now()
		for _, o := range run {
			o.ev.SendTime = now.Sub(o.queuedAt)
			o.finish(sent, c)
			c.inflight.Add(-1)
		}
		i = j
	}
	return bufs[:0]
}

func (o *outgoing) hasRegions() bool {
	for _, ch := range o.out.Chunks {
		if ch.Region.File != nil {
			return true
		}
	}
	return false
}

// finish runs the AfterSend callbacks, returns the writer to its pool, logs the request
// (at Debug) and reports it to the observer.
func (o *outgoing) finish(sent bool, c *conn) {
	for _, fn := range o.afterSend {
		fn()
	}
	o.afterSend = nil
	o.ev.Sent = sent
	if !sent {
		o.ev.ResponseBytes = 0
	}
	if !o.noEvent {
		// Checked first, so that at Info and above the request log costs one call.
		if c.log.Enabled(c.ctx, slog.LevelDebug) {
			logRequest(c.log, &o.ev)
		}
		c.srv.obs.RequestDone(o.ev)
	}
	o.ev.Response = nil
	if o.w != nil {
		putWriter(o.w)
		o.w = nil
	}
}

// logRequest writes the request log line, Kafka's kafka.request.logger at DEBUG: what was
// asked, by whom, how big, and where the time went. The connection's logger already carries
// the listener and the peer.
func logRequest(log *slog.Logger, ev *RequestEvent) {
	api := "unknown"
	if info, ok := message.LookupAPI(ev.APIKey); ok {
		api = info.Name
	}
	log.LogAttrs(context.Background(), slog.LevelDebug, "request completed",
		slog.String("api", api),
		slog.Int("api_version", int(ev.Version)),
		slog.Int("correlation_id", int(ev.CorrelationID)),
		slog.String("client_id", ev.ClientID),
		slog.Int("request_bytes", ev.RequestBytes),
		slog.Int64("response_bytes", ev.ResponseBytes),
		slog.Bool("sent", ev.Sent),
		slog.Duration("queue_time", ev.QueueTime),
		slog.Duration("handle_time", ev.HandleTime),
		slog.Duration("send_time", ev.SendTime),
		slog.Duration("total_time", ev.QueueTime+ev.HandleTime+ev.SendTime),
	)
}
