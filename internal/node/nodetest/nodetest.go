// Package nodetest starts real single-node Sluice clusters inside a test process, for the
// integration tests of other packages: the same node.Start that `sluice serve` runs, in
// t.TempDir(), on 127.0.0.1 with ephemeral ports, driven by franz-go clients.
//
//	c := nodetest.Start(t)                       // broker+controller, one voter
//	cl := c.Client(t, kgo.DefaultProduceTopic("t"))
//	adm := c.Admin(t)
//	c.Restart(t)                                 // clean stop and start on the same dir and ports
//
// Everything is closed by t.Cleanup, in reverse order of creation (clients before the node).
// A crash (kill -9) cannot be simulated in-process without leaking the node's goroutines and
// files; the crash tests of cmd/sluice run `sluice serve` as a child process for that.
package nodetest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/node"
)

// Option changes how Start builds the cluster.
type Option func(*options)

type options struct {
	props    map[string]string
	level    slog.Level
	nodeOpts func(*node.Options)
}

// Override sets a server.properties key (Kafka's name), as `--override key=value` would.
func Override(key, value string) Option {
	return func(o *options) { o.props[key] = value }
}

// Config sets several server.properties keys at once.
func Config(props map[string]string) Option {
	return func(o *options) { maps.Copy(o.props, props) }
}

// LogLevel sets the level of the node's logs, which go to t.Log (default Warn).
func LogLevel(l slog.Level) Option {
	return func(o *options) { o.level = l }
}

// NodeOptions adjusts node.Options before the node starts (extra handlers, server options).
func NodeOptions(fn func(*node.Options)) Option {
	return func(o *options) { o.nodeOpts = fn }
}

// Cluster is a running single-node cluster.
type Cluster struct {
	// Addr is the bootstrap address, 127.0.0.1:port, of the PLAINTEXT listener.
	Addr string
	// Node is the running node (replaced by Restart).
	Node *node.Node
	// Dir holds the node's data (log.dirs and the metadata log).
	Dir string

	opts  options
	props map[string]string // the properties the node was last started with
	tb    testing.TB
	mu    sync.Mutex // guards Node against Restart racing with cleanup
}

// startAttempts bounds retries when a port picked for a listener was taken before the node
// bound it (see node's resolvePorts).
const startAttempts = 3

// Start starts a combined broker+controller node in a fresh temporary directory and
// registers its shutdown with t.Cleanup. It fails the test if the node does not start.
func Start(t testing.TB, opts ...Option) *Cluster {
	t.Helper()
	o := options{props: map[string]string{}, level: slog.LevelWarn}
	for _, fn := range opts {
		fn(&o)
	}
	c := &Cluster{opts: o, tb: t}
	var err error
	for range startAttempts {
		c.Dir = t.TempDir()
		c.props = baseProps(c.Dir, "127.0.0.1:0", "127.0.0.1:0")
		maps.Copy(c.props, o.props)
		if err = c.start(t); err == nil || !errors.Is(err, syscall.EADDRINUSE) {
			break
		}
	}
	if err != nil {
		t.Fatalf("nodetest: start: %v", err)
	}
	t.Cleanup(func() { c.stop(t) })
	return c
}

// baseProps are the single-node defaults with local ephemeral listeners and data in dir.
func baseProps(dir, clientAddr, controllerAddr string) map[string]string {
	p := config.SingleNodeDefaults()
	p["listeners"] = "PLAINTEXT://" + clientAddr + ",CONTROLLER://" + controllerAddr
	p["controller.quorum.voters"] = p["node.id"] + "@" + controllerAddr
	p["log.dirs"] = filepath.Join(dir, "data")
	// Metrics on, as by default, but on a free port: tests run many nodes at once.
	p["sluice.metrics.listener"] = "127.0.0.1:0"
	// Tests fail fast instead of waiting a minute for a registration that cannot happen.
	p["initial.broker.registration.timeout.ms"] = "20000"
	return p
}

func (c *Cluster) start(t testing.TB) error {
	cfg, warns, err := config.New(config.NewProps(c.props, config.Origin{Name: "nodetest"}))
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(&testWriter{tb: t}, &slog.HandlerOptions{Level: c.opts.level}))
	for _, w := range warns {
		logger.Warn("config", slog.String("warning", w.String()))
	}
	nopts := node.Options{Logger: logger}
	if c.opts.nodeOpts != nil {
		c.opts.nodeOpts(&nopts)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	n, err := node.Start(ctx, cfg, nopts)
	if err != nil {
		return err
	}
	addr := n.Addr("PLAINTEXT")
	if addr == nil {
		n.Close(context.Background())
		return fmt.Errorf("nodetest: node has no PLAINTEXT listener")
	}
	c.mu.Lock()
	c.Node = n
	c.Addr = addr.String()
	c.mu.Unlock()
	// A restart reuses the ports, so that clients and the raft voter address stay valid.
	ctrl := n.Addr("CONTROLLER")
	c.props["listeners"] = "PLAINTEXT://" + addr.String() + ",CONTROLLER://" + ctrl.String()
	c.props["controller.quorum.voters"] = c.props["node.id"] + "@" + ctrl.String()
	return nil
}

// stop closes the node gracefully (30 s at most) and fails the test on error.
func (c *Cluster) stop(t testing.TB) {
	c.mu.Lock()
	n := c.Node
	c.mu.Unlock()
	if n == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := n.Close(ctx); err != nil {
		t.Errorf("nodetest: close: %v", err)
	}
}

// Stop closes the node gracefully now (t.Cleanup would otherwise). Restart brings it back.
func (c *Cluster) Stop(t testing.TB) {
	t.Helper()
	c.stop(t)
}

// Restart stops the node gracefully (SIGTERM's path) and starts it again on the same
// directory and ports. Clients made with Client reconnect by themselves.
func (c *Cluster) Restart(t testing.TB) {
	t.Helper()
	c.stop(t)
	var err error
	for attempt := 0; attempt < 50; attempt++ {
		// The old listeners are closed, but another process may briefly hold a port.
		if err = c.start(t); err == nil || !errors.Is(err, syscall.EADDRINUSE) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("nodetest: restart: %v", err)
	}
}

// Client returns a franz-go client seeded with the cluster's address, closed by t.Cleanup.
func (c *Cluster) Client(t testing.TB, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	all := append([]kgo.Opt{kgo.SeedBrokers(c.Addr)}, opts...)
	cl, err := kgo.NewClient(all...)
	if err != nil {
		t.Fatalf("nodetest: client: %v", err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// Admin returns an admin client on its own franz-go client, closed by t.Cleanup.
func (c *Cluster) Admin(t testing.TB) *kadm.Client {
	t.Helper()
	return kadm.NewClient(c.Client(t))
}

// Port returns the bound port of a listener ("PLAINTEXT", "CONTROLLER").
func (c *Cluster) Port(listener string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if a, ok := c.Node.Addr(listener).(*net.TCPAddr); ok {
		return a.Port
	}
	return 0
}

// Props returns the server.properties the node was last started with.
func (c *Cluster) Props() map[string]string { return maps.Clone(c.props) }

// testWriter sends each log line to t.Log. Lines written after the test finished (a
// goroutine still logging during cleanup) are dropped rather than panicking.
type testWriter struct {
	tb testing.TB
}

func (w *testWriter) Write(p []byte) (n int, err error) {
	defer func() {
		if recover() != nil {
			n, err = len(p), nil
		}
	}()
	w.tb.Helper()
	w.tb.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
