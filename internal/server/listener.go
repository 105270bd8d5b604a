package server

import (
	"bytes"
	"errors"
	"log/slog"
	"net"
	"time"

	"github.com/sluicehq/sluice/internal/config"
)

// listener is one open listening socket and its accept loop.
type listener struct {
	srv      *Server
	cfg      config.Listener
	kind     Listeners
	ln       net.Listener
	handoffs []Handoff // controller listeners only
}

// acceptLoop accepts until the listener is closed. Temporary failures (EMFILE, ENFILE,
// ECONNABORTED) back off from 5 ms to 1 s instead of spinning; anything else after Close is
// the end.
func (l *listener) acceptLoop() {
	defer l.srv.acceptWG.Done()
	var backoff time.Duration
	for {
		nc, err := l.ln.Accept()
		if err != nil {
			select {
			case <-l.srv.stopping:
				return
			default:
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			l.srv.log.Warn("accept failed; backing off", slog.String("listener", l.cfg.Name),
				slog.Any("err", err), slog.Duration("backoff", backoff))
			t := time.NewTimer(backoff)
			select {
			case <-t.C:
			case <-l.srv.stopping:
				t.Stop()
				return
			}
			continue
		}
		backoff = 0
		l.configure(nc)
		c, ok := l.srv.admit(l, nc)
		if !ok {
			continue
		}
		go c.serve()
	}
}

// configure applies socket options from the config (Kafka's socket.send.buffer.bytes and
// socket.receive.buffer.bytes; -1 keeps the OS default). Failures only cost performance.
func (l *listener) configure(nc net.Conn) {
	tc, ok := nc.(*net.TCPConn)
	if !ok {
		return
	}
	cfg := l.srv.cfg.Load()
	if cfg.SocketSendBufferBytes > 0 {
		_ = tc.SetWriteBuffer(cfg.SocketSendBufferBytes)
	}
	if cfg.SocketReceiveBufferBytes > 0 {
		_ = tc.SetReadBuffer(cfg.SocketReceiveBufferBytes)
	}
}

// matchHandoff returns the handoff whose prefix starts with first (a connection's first 4
// bytes), or nil.
func (l *listener) matchHandoff(first []byte) *Handoff {
	for i := range l.handoffs {
		if bytes.Equal(l.handoffs[i].Prefix[:len(first)], first) {
			return &l.handoffs[i]
		}
	}
	return nil
}
