package server

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"maps"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/protocol/message"
	"github.com/sluicehq/sluice/internal/protocol/wire"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// baseProps is a combined single node listening on loopback with free ports.
func baseProps(t testing.TB) map[string]string {
	return map[string]string{
		"node.id":                   "1",
		"process.roles":             "broker,controller",
		"listeners":                 "PLAINTEXT://127.0.0.1:0,CONTROLLER://127.0.0.1:0",
		"controller.listener.names": "CONTROLLER",
		"controller.quorum.voters":  "1@127.0.0.1:19093",
		"log.dirs":                  t.TempDir(),
	}
}

func testConfig(t testing.TB, overrides map[string]string) *config.Broker {
	t.Helper()
	props := baseProps(t)
	maps.Copy(props, overrides)
	cfg, _, err := config.New(config.NewProps(props, config.Origin{Name: "test"}))
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	return cfg
}

// logBuffer collects log output so tests can check what was logged.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// contains waits (bounded) until the log holds s; log lines are written by connection
// goroutines, possibly after the client saw the effect.
func (b *logBuffer) waitFor(t testing.TB, s string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		out := b.String()
		if strings.Contains(out, s) {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("log never contained %q; log:\n%s", s, out)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

type testServer struct {
	*Server
	logs *logBuffer
}

// startServer starts a server with the given config overrides; mod may adjust the options.
// Cleanup closes it and fails the test if the close was not clean.
func startServer(t testing.TB, overrides map[string]string, mod func(*Options)) *testServer {
	t.Helper()
	logs := &logBuffer{}
	opts := Options{
		Config: testConfig(t, overrides),
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if mod != nil {
		mod(&opts)
	}
	s, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := s.Start(); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		closedByTest := false
		select {
		case <-s.closed:
			closedByTest = true
		default:
		}
		if err := s.Close(ctx); err != nil && !closedByTest {
			t.Errorf("Close: %v", err)
		}
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	return &testServer{Server: s, logs: logs}
}

// inflight sums the requests read and not yet answered over every connection.
func (s *testServer) inflight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for c := range s.mu.conns {
		n += int(c.inflight.Load())
	}
	return n
}

func (s *testServer) addr() string           { return s.Addr("PLAINTEXT").String() }
func (s *testServer) controllerAddr() string { return s.Addr("CONTROLLER").String() }

// rawConn is a hand-driven Kafka client over a real TCP socket.
type rawConn struct {
	t testing.TB
	net.Conn
}

func dial(t testing.TB, addr string) *rawConn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawConn{t: t, Conn: c}
}

// frame encodes a whole request frame.
func requestFrame(t testing.TB, version int16, correlationID int32, req message.Request) []byte {
	t.Helper()
	w := wire.NewWriter(nil)
	hdr := message.NewRequestHeader()
	hdr.RequestApiKey = req.APIKey()
	hdr.RequestApiVersion = version
	hdr.CorrelationId = correlationID
	hdr.ClientId = wire.Ptr("test-client")
	if err := message.EncodeRequest(w, hdr, req); err != nil {
		t.Fatalf("encode request: %v", err)
	}
	return bytes.Clone(w.Buffer())
}

func (c *rawConn) send(version int16, correlationID int32, req message.Request) {
	c.t.Helper()
	c.write(requestFrame(c.t, version, correlationID, req))
}

func (c *rawConn) write(b []byte) {
	c.t.Helper()
	if _, err := c.Write(b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// readFrame reads one response frame (bounded wait).
func (c *rawConn) readFrame() ([]byte, error) {
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	return wire.ReadFrame(c, 256<<20, nil)
}

// recv reads and decodes a response to an API key at a version; it returns the correlation id.
func (c *rawConn) recv(key, version int16) (int32, message.Response) {
	c.t.Helper()
	f, err := c.readFrame()
	if err != nil {
		c.t.Fatalf("read response: %v", err)
	}
	return decodeResponse(c.t, f, key, version)
}

func decodeResponse(t testing.TB, f []byte, key, version int16) (int32, message.Response) {
	t.Helper()
	r := wire.NewReader(f)
	var hdr message.ResponseHeader
	if err := hdr.Decode(&r, message.ResponseHeaderVersion(key, version)); err != nil {
		t.Fatalf("response header: %v", err)
	}
	resp := message.NewResponse(key)
	if err := resp.Decode(&r, version); err != nil {
		t.Fatalf("response body (key %d v%d): %v", key, version, err)
	}
	if err := r.Complete(); err != nil {
		t.Fatalf("response: %v", err)
	}
	return hdr.CorrelationId, resp
}

// expectClosed waits until the server closes the connection (EOF or reset), failing if a
// response arrives instead.
func (c *rawConn) expectClosed() {
	c.t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	var b [1]byte
	n, err := c.Read(b[:])
	if n > 0 {
		c.t.Fatalf("got data, want the connection closed")
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		c.t.Fatalf("connection still open after 10 s")
	}
	if err == nil {
		c.t.Fatalf("read returned no error")
	}
}

// apiVersions does one ApiVersions v3 round trip and returns the response.
func (c *rawConn) apiVersions(correlationID int32) *message.ApiVersionsResponse {
	c.t.Helper()
	req := message.NewApiVersionsRequest()
	req.ClientSoftwareName, req.ClientSoftwareVersion = "sluice-test", "1.0"
	c.send(3, correlationID, req)
	corr, resp := c.recv(message.KeyApiVersions, 3)
	if corr != correlationID {
		c.t.Fatalf("correlation id %d, want %d", corr, correlationID)
	}
	return resp.(*message.ApiVersionsResponse)
}

// sizePrefix returns a 4-byte frame size.
func sizePrefix(n int32) []byte {
	return binary.BigEndian.AppendUint32(nil, uint32(n))
}

// waitUntil polls cond (bounded) for effects that happen on server goroutines.
func waitUntil(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// readAll drains a connection until EOF or error (bounded).
func readAll(c net.Conn) []byte {
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	b, _ := io.ReadAll(c)
	return b
}
