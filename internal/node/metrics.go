package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/sluicehq/sluice/internal/metrics"
	"github.com/sluicehq/sluice/internal/server"
)

// Timeouts of the metrics HTTP listener. A scrape reads atomics and asks the group shards
// (bounded by the metrics package); these only bound slow or idle HTTP clients.
const (
	metricsReadHeaderTimeout = 10 * time.Second
	metricsWriteTimeout      = 30 * time.Second
	metricsIdleTimeout       = 2 * time.Minute
	readyGroupsTimeout       = time.Second
	// metricsCloseTimeout bounds the wait for scrapes in progress at shutdown; the rest are
	// cut off.
	metricsCloseTimeout = 5 * time.Second
)

// metricsServer is the HTTP listener of sluice.metrics.listener: /metrics (Prometheus),
// /healthz (the process is alive: always 200) and /readyz (200 once the node serves, 503
// with the reason before and during shutdown). It owns one goroutine, the HTTP server's
// accept loop, which close ends and waits for.
type metricsServer struct {
	ln   net.Listener
	srv  *http.Server
	done chan struct{}
}

// startMetricsServer binds addr and serves m and the health endpoints; ready is asked on
// every /readyz.
func startMetricsServer(addr string, m *metrics.Metrics, ready func(context.Context) (bool, string), log *slog.Logger) (*metricsServer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%w: metrics listener (sluice.metrics.listener) %s: %w", ErrStartup, addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		ok, reason := ready(r.Context())
		if !ok {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, reason)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	s := &metricsServer{
		ln: ln,
		srv: &http.Server{
			Handler:           mux,
			ReadHeaderTimeout: metricsReadHeaderTimeout,
			WriteTimeout:      metricsWriteTimeout,
			IdleTimeout:       metricsIdleTimeout,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		},
		done: make(chan struct{}),
	}
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics listener stopped", slog.Any("err", err))
		}
	}()
	log.Info("metrics listener bound", slog.String("addr", ln.Addr().String()),
		slog.String("paths", "/metrics /healthz /readyz"))
	return s, nil
}

// Addr is the bound address.
func (s *metricsServer) Addr() net.Addr { return s.ln.Addr() }

// close stops the listener, lets scrapes in progress finish within ctx, and waits for the
// accept loop.
func (s *metricsServer) close(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, metricsCloseTimeout)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	if err != nil {
		err = errors.Join(err, s.srv.Close())
	}
	<-s.done
	return err
}

// readiness tracks where Start is, for /readyz.
type readiness struct {
	mu struct {
		sync.Mutex
		step    string // the startup step in progress, "" once serving
		serving bool
		closing bool
	}
}

func (r *readiness) setStep(step string) {
	r.mu.Lock()
	r.mu.step = step
	r.mu.Unlock()
}

func (r *readiness) setServing() {
	r.mu.Lock()
	r.mu.step, r.mu.serving = "", true
	r.mu.Unlock()
}

func (r *readiness) setClosing() {
	r.mu.Lock()
	r.mu.closing = true
	r.mu.Unlock()
}

// ready answers /readyz: serving (metadata applied, listeners bound) and every
// __consumer_offsets partition this broker leads loaded.
func (n *Node) ready(ctx context.Context) (bool, string) {
	n.readiness.mu.Lock()
	step, serving, closing := n.readiness.mu.step, n.readiness.mu.serving, n.readiness.mu.closing
	n.readiness.mu.Unlock()
	switch {
	case closing:
		return false, "not ready: shutting down"
	case !serving:
		return false, "not ready: starting: " + step
	}
	if n.groups != nil {
		ctx, cancel := context.WithTimeout(ctx, readyGroupsTimeout)
		defer cancel()
		if st := n.groups.Stats(ctx); st.Loading > 0 {
			return false, fmt.Sprintf("not ready: loading %d of %d __consumer_offsets partitions", st.Loading, st.Shards)
		}
	}
	return true, ""
}

// MetricsAddr is the bound address of the metrics listener, nil when it is off.
func (n *Node) MetricsAddr() net.Addr {
	if n.metricsSrv == nil {
		return nil
	}
	return n.metricsSrv.Addr()
}

// startMetrics creates the registry and binds the listener, first thing in Start, so that
// /healthz and /readyz answer while the node starts. Nothing when the listener is off.
func (n *Node) startMetrics(cfg string) error {
	if cfg == "" {
		return nil
	}
	n.metrics = metrics.New()
	srv, err := startMetricsServer(cfg, n.metrics, n.ready, n.log.With("component", "metrics"))
	if err != nil {
		return err
	}
	n.metricsSrv = srv
	return nil
}

// metricsSources hands the started components to the pull collectors.
func (n *Node) metricsSources() {
	if n.metrics == nil {
		return
	}
	s := metrics.Sources{Replicas: n.replicas, Storage: n.storage, Quorum: n.quorum, Groups: n.groups}
	if n.fsm != nil {
		fsm := n.fsm
		s.MetadataOffset = func() uint64 { return fsm.Current().Offset }
	}
	n.metrics.SetSources(s)
}

// observer is what the server reports to: the metrics, the caller's observer, or both.
func (n *Node) observer() server.Observer {
	switch {
	case n.metrics == nil:
		return n.opts.Observer
	case n.opts.Observer == nil:
		return n.metrics
	}
	return teeObserver{n.metrics, n.opts.Observer}
}

// onFlush is storage's flush hook: the metrics histogram, or nil when metrics are off.
func (n *Node) onFlush() func(time.Duration) {
	if n.metrics == nil {
		return nil
	}
	return n.metrics.ObserveFlush
}

type teeObserver [2]server.Observer

func (t teeObserver) ConnectionOpened(l string) {
	t[0].ConnectionOpened(l)
	t[1].ConnectionOpened(l)
}

func (t teeObserver) ConnectionClosed(l string) {
	t[0].ConnectionClosed(l)
	t[1].ConnectionClosed(l)
}

func (t teeObserver) ConnectionRefused(l string, r server.RefuseReason) {
	t[0].ConnectionRefused(l, r)
	t[1].ConnectionRefused(l, r)
}

func (t teeObserver) RequestDone(ev server.RequestEvent) {
	t[0].RequestDone(ev)
	t[1].RequestDone(ev)
}
