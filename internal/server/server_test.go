package server

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluicehq/sluice/internal/protocol/kerr"
	"github.com/sluicehq/sluice/internal/protocol/message"
	"github.com/sluicehq/sluice/internal/protocol/wire"
)

// metadataHandler is a test-only Metadata handler naming this node as the only broker, so
// that franz-go's admin client can find it.
func metadataHandler() Handler {
	return Handler{
		Versions: Versions{Min: 0, Max: 12},
		Fn: Handle(func(_ context.Context, r *Request, _ *message.MetadataRequest) (message.Response, error) {
			addr := r.conn.l.ln.Addr().(*net.TCPAddr)
			resp := message.NewMetadataResponse()
			resp.Brokers = []message.MetadataResponseBroker{{NodeId: 1, Host: addr.IP.String(), Port: int32(addr.Port)}}
			resp.ClusterId = wire.Ptr("test-cluster")
			resp.ControllerId = 1
			return resp, nil
		}),
	}
}

// heartbeatEcho answers Heartbeat with the request's generation id as its error code, after
// a random pause, and fails the test if two requests of one connection ever run at once.
func heartbeatEcho(t *testing.T) Handler {
	var running sync.Map // *conn -> *atomic.Int32
	return Handler{
		Versions: Versions{Min: 0, Max: 4},
		Fn: Handle(func(_ context.Context, r *Request, req *message.HeartbeatRequest) (message.Response, error) {
			v, _ := running.LoadOrStore(r.conn, new(atomic.Int32))
			n := v.(*atomic.Int32)
			if n.Add(1) != 1 {
				t.Errorf("requests of one connection handled concurrently")
			}
			time.Sleep(time.Duration(rand.IntN(200)) * time.Microsecond)
			n.Add(-1)
			resp := message.NewHeartbeatResponse()
			resp.ErrorCode = int16(req.GenerationId)
			return resp, nil
		}),
	}
}

func heartbeat(gen int32) *message.HeartbeatRequest {
	req := message.NewHeartbeatRequest()
	req.GroupId, req.MemberId, req.GenerationId = "g", "m", gen
	return req
}

func TestFranzGoApiVersions(t *testing.T) {
	s := startServer(t, nil, func(o *Options) { o.ExtraHandlers = []Handler{metadataHandler()} })
	cl, err := kgo.NewClient(kgo.SeedBrokers(s.addr()), kgo.MetadataMinAge(10*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	vs, err := kadm.NewClient(cl).ApiVersions(ctx)
	if err != nil {
		t.Fatalf("kadm ApiVersions: %v", err)
	}
	v, ok := vs[1]
	if !ok || v.Err != nil {
		t.Fatalf("broker 1 versions: %+v", vs)
	}
	if lo, hi, ok := v.KeyVersions(int16(kmsg.ApiVersions)); !ok || lo != 0 || hi != 4 {
		t.Errorf("ApiVersions advertised %d-%d (%v), want 0-4", lo, hi, ok)
	}
	if lo, hi, ok := v.KeyVersions(int16(kmsg.Metadata)); !ok || lo != 0 || hi != 12 {
		t.Errorf("Metadata advertised %d-%d (%v), want 0-12", lo, hi, ok)
	}
	if _, _, ok := v.KeyVersions(int16(kmsg.Produce)); ok {
		t.Errorf("Produce advertised without a handler")
	}
	if got := len(v.Raw().ApiKeys); got != 2 {
		t.Errorf("%d APIs advertised, want 2", got)
	}

	// A raw request through the client, at the client's highest version.
	req := kmsg.NewPtrApiVersionsRequest()
	req.ClientSoftwareName, req.ClientSoftwareVersion = "franz-go", "1.22.2"
	raw, err := req.RequestWith(ctx, cl)
	if err != nil || raw.ErrorCode != 0 {
		t.Fatalf("raw ApiVersions: %v %v", err, raw)
	}
	// An invalid software name at v3+ is INVALID_REQUEST (KIP-511).
	bad := kmsg.NewPtrApiVersionsRequest()
	bad.ClientSoftwareName, bad.ClientSoftwareVersion = "bad name!", "1"
	resp, err := bad.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	if resp.ErrorCode != kerr.InvalidRequest.Code || len(resp.ApiKeys) != 0 {
		t.Errorf("invalid software name: error %d, %d keys", resp.ErrorCode, len(resp.ApiKeys))
	}
}

func TestFranzGoPipelining(t *testing.T) {
	s := startServer(t, nil, func(o *Options) { o.ExtraHandlers = []Handler{metadataHandler(), heartbeatEcho(t)} })
	cl, err := kgo.NewClient(kgo.SeedBrokers(s.addr()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := kadm.NewClient(cl).BrokerMetadata(ctx); err != nil {
		t.Fatal(err)
	}
	broker := cl.Broker(1)
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := kmsg.NewPtrHeartbeatRequest()
			req.Group, req.MemberID, req.Generation = "g", "m", int32(i%100)
			// Sent straight to broker 1 (no coordinator lookup); franz-go pipelines them on
			// one connection.
			resp, err := req.RequestWith(ctx, broker)
			if err != nil {
				t.Errorf("request %d: %v", i, err)
				return
			}
			if resp.ErrorCode != int16(i%100) {
				t.Errorf("request %d got the answer for %d", i, resp.ErrorCode)
			}
		}()
	}
	wg.Wait()
}

func TestRawPipeliningOrder(t *testing.T) {
	s := startServer(t, nil, func(o *Options) { o.ExtraHandlers = []Handler{heartbeatEcho(t)} })
	c := dial(t, s.addr())
	// Every request in one write, so many frames arrive in one read and queue up.
	var all []byte
	const n = 300
	for i := range n {
		all = append(all, requestFrame(t, 4, int32(1000+i), heartbeat(int32(i%100)))...)
	}
	c.write(all)
	for i := range n {
		corr, resp := c.recv(message.KeyHeartbeat, 4)
		if corr != int32(1000+i) || resp.(*message.HeartbeatResponse).ErrorCode != int16(i%100) {
			t.Fatalf("response %d: correlation %d, code %d", i, corr, resp.(*message.HeartbeatResponse).ErrorCode)
		}
	}
}

func TestApiVersionsFallback(t *testing.T) {
	s := startServer(t, nil, nil)
	for _, version := range []int16{5, 99, -1} {
		c := dial(t, s.addr())
		// A client newer than us: ApiVersions v99 with a body we cannot know.
		w := wire.NewWriter(nil)
		at := w.BeginSize()
		w.Int16(message.KeyApiVersions)
		w.Int16(version)
		w.Int32(77)
		w.String("future-client", false)
		if version >= 3 {
			w.TagCount(0)
		}
		w.Raw([]byte("a body from the future"))
		w.EndSize(at)
		c.write(w.Buffer())
		corr, resp := c.recv(message.KeyApiVersions, 0)
		av := resp.(*message.ApiVersionsResponse)
		if corr != 77 || av.ErrorCode != kerr.UnsupportedVersion.Code {
			t.Fatalf("v%d: correlation %d, error %d", version, corr, av.ErrorCode)
		}
		want := []message.ApiVersionsResponseApiVersion{{ApiKey: 18, MinVersion: 0, MaxVersion: 4}}
		if !slices.EqualFunc(av.ApiKeys, want, func(a, b message.ApiVersionsResponseApiVersion) bool {
			return a.ApiKey == b.ApiKey && a.MinVersion == b.MinVersion && a.MaxVersion == b.MaxVersion
		}) {
			t.Fatalf("v%d: keys %+v", version, av.ApiKeys)
		}
		// The connection stays usable: the client retries at a version both know.
		if got := c.apiVersions(78); got.ErrorCode != 0 || len(got.ApiKeys) != 1 {
			t.Fatalf("retry: %+v", got)
		}
	}
}

func TestApiVersionsAllVersions(t *testing.T) {
	s := startServer(t, nil, func(o *Options) {
		o.ExtraHandlers = []Handler{metadataHandler()}
		o.Deps.Features = staticFeatures{FeatureInfo{
			Supported:      []FeatureRange{{Name: "group.version", Min: 0, Max: 1}, {Name: "metadata.version", Min: 7, Max: 22}},
			FinalizedEpoch: 42,
			Finalized:      []FeatureLevel{{Name: "metadata.version", Level: 22}},
		}}
	})
	c := dial(t, s.addr())
	for v := int16(0); v <= 4; v++ {
		req := message.NewApiVersionsRequest()
		req.ClientSoftwareName, req.ClientSoftwareVersion = "x", "1.0.0-rc.1"
		c.send(v, int32(v), req)
		_, resp := c.recv(message.KeyApiVersions, v)
		av := resp.(*message.ApiVersionsResponse)
		if av.ErrorCode != 0 || len(av.ApiKeys) != 2 || av.ApiKeys[0].ApiKey != 3 || av.ApiKeys[1].ApiKey != 18 {
			t.Fatalf("v%d: %+v", v, av)
		}
		switch {
		case v < 3:
			if len(av.SupportedFeatures) != 0 {
				t.Errorf("v%d carries features", v)
			}
		case v == 3:
			// Features with minimum 0 are hidden below v4 (KAFKA-17492).
			if len(av.SupportedFeatures) != 1 || av.SupportedFeatures[0].Name != "metadata.version" {
				t.Errorf("v3 features %+v", av.SupportedFeatures)
			}
		default:
			if len(av.SupportedFeatures) != 2 || av.FinalizedFeaturesEpoch != 42 ||
				len(av.FinalizedFeatures) != 1 || av.FinalizedFeatures[0].MaxVersionLevel != 22 {
				t.Errorf("v4 features %+v epoch %d finalized %+v", av.SupportedFeatures, av.FinalizedFeaturesEpoch, av.FinalizedFeatures)
			}
		}
	}
}

type staticFeatures struct{ info FeatureInfo }

func (f staticFeatures) Features() FeatureInfo { return f.info }

func TestValidSoftwareField(t *testing.T) {
	for s, want := range map[string]bool{
		"a": true, "franz-go": true, "1.0.0": true, "apache-kafka-java": true, "v1.2-SNAPSHOT": true,
		"": false, "-a": false, "a-": false, "a b": false, ".": false, "a_b": false, "é": false,
	} {
		if got := validSoftwareField(s); got != want {
			t.Errorf("%q: %v, want %v", s, got, want)
		}
	}
}

func TestClientSoftwareRemembered(t *testing.T) {
	seen := make(chan string, 2)
	s := startServer(t, nil, func(o *Options) {
		o.ExtraHandlers = []Handler{{Versions: Versions{Min: 0, Max: 4}, Fn: Handle(
			func(_ context.Context, r *Request, _ *message.HeartbeatRequest) (message.Response, error) {
				seen <- r.ClientSoftwareName + "/" + r.ClientSoftwareVersion + " " + r.ClientID + " " + r.Principal.String()
				return message.NewHeartbeatResponse(), nil
			})}}
	})
	c := dial(t, s.addr())
	c.send(4, 1, heartbeat(1))
	c.recv(message.KeyHeartbeat, 4)
	c.apiVersions(2)
	c.send(4, 3, heartbeat(1))
	c.recv(message.KeyHeartbeat, 4)
	if got := <-seen; got != "/ test-client User:ANONYMOUS" {
		t.Errorf("before ApiVersions: %q", got)
	}
	if got := <-seen; got != "sluice-test/1.0 test-client User:ANONYMOUS" {
		t.Errorf("after ApiVersions: %q", got)
	}
}

// TestRequestsThatCloseTheConnection covers what Kafka answers by closing: unknown keys,
// keys without a handler, versions outside the handler's range, undecodable requests.
func TestRequestsThatCloseTheConnection(t *testing.T) {
	s := startServer(t, nil, func(o *Options) {
		h := heartbeatEcho(t)
		h.Versions = Versions{Min: 2, Max: 3}
		o.ExtraHandlers = []Handler{h}
	})
	frameWith := func(key, version int16, body []byte) []byte {
		w := wire.NewWriter(nil)
		at := w.BeginSize()
		w.Int16(key)
		w.Int16(version)
		w.Int32(9)
		w.String("c", false)
		w.Raw(body)
		w.EndSize(at)
		return w.Buffer()
	}
	tests := []struct {
		name  string
		frame []byte
		log   string
	}{
		{"unknown api key", frameWith(1000, 0, nil), "cannot decode request"},
		{"no handler", requestFrame(t, 0, 9, message.NewMetadataRequest()), "API not served"},
		{"version below range", requestFrame(t, 1, 9, heartbeat(1)), "API version not served"},
		{"version above range", requestFrame(t, 4, 9, heartbeat(1)), "API version not served"},
		{"version above spec", frameWith(message.KeyHeartbeat, 9, nil), "cannot decode request"},
		{"truncated body", frameWith(message.KeyHeartbeat, 3, []byte{0, 1, 'g'}), "cannot decode request"},
		{"trailing bytes", append(slices.Clone(requestFrame(t, 3, 9, heartbeat(1))[4:]), 0), "cannot decode request"},
		{"short header", []byte{0, 0, 0, 2, 0, 18}, "cannot decode request"},
		{"empty frame", []byte{0, 0, 0, 0}, "cannot decode request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dial(t, s.addr())
			f := tt.frame
			if tt.name == "trailing bytes" {
				f = append(sizePrefix(int32(len(f))), f...)
			}
			c.write(f)
			c.expectClosed()
			local := c.LocalAddr().String()
			out := s.logs.waitFor(t, "peer="+local)
			if !strings.Contains(out, tt.log) {
				t.Errorf("log lacks %q", tt.log)
			}
		})
	}
	// The server still serves others.
	if av := dial(t, s.addr()).apiVersions(1); av.ErrorCode != 0 {
		t.Fatal(av)
	}
}

func TestOversizedFrameClosesOnlyThatConnection(t *testing.T) {
	s := startServer(t, map[string]string{"socket.request.max.bytes": "4096"}, nil)
	other := dial(t, s.addr())
	other.apiVersions(1)

	for _, size := range []int32{4097, 1 << 30, -5} {
		c := dial(t, s.addr())
		c.write(sizePrefix(size))
		c.expectClosed()
		s.logs.waitFor(t, "peer="+c.LocalAddr().String())
	}
	if out := s.logs.String(); !strings.Contains(out, "socket.request.max.bytes is 4096") {
		t.Errorf("log does not explain the close:\n%s", out)
	}
	// Nothing was reserved for the refused sizes.
	if got := s.reqBytes.available(); got != s.reqBytes.capacity {
		t.Errorf("budget %d of %d after refused frames", got, s.reqBytes.capacity)
	}
	other.apiVersions(2)
	// A frame of exactly the limit is read (and closed only because it is garbage).
	c := dial(t, s.addr())
	c.write(append(sizePrefix(4096), make([]byte, 4096)...))
	c.expectClosed()
	s.logs.waitFor(t, "cannot decode request")
}

func TestTruncatedFrame(t *testing.T) {
	s := startServer(t, nil, nil)
	c := dial(t, s.addr())
	full := requestFrame(t, 3, 5, message.NewApiVersionsRequest())
	// One complete request, then half of another, then EOF: the complete one is answered.
	c.write(append(slices.Clone(full), full[:len(full)/2]...))
	c.Conn.(*net.TCPConn).CloseWrite()
	corr, _ := c.recv(message.KeyApiVersions, 3)
	if corr != 5 {
		t.Fatalf("correlation %d", corr)
	}
	c.expectClosed()
	waitUntil(t, "connection released", func() bool { return s.connCount() == 0 })
	if got := s.reqBytes.available(); got != s.reqBytes.capacity {
		t.Errorf("budget leaked: %d of %d", got, s.reqBytes.capacity)
	}
}

func TestGarbageFrames(t *testing.T) {
	s := startServer(t, map[string]string{"socket.request.max.bytes": "65536"}, func(o *Options) {
		o.ExtraHandlers = []Handler{metadataHandler(), heartbeatEcho(t)}
		o.FrameTimeout = 200 * time.Millisecond
	})
	rng := rand.New(rand.NewPCG(1, 2))
	valid := requestFrame(t, 3, 1, message.NewApiVersionsRequest())
	for i := range 200 {
		var b []byte
		switch i % 4 {
		case 0: // random bytes
			b = make([]byte, rng.IntN(64))
			for j := range b {
				b[j] = byte(rng.UintN(256))
			}
		case 1: // a valid size with a random body
			body := make([]byte, rng.IntN(100))
			for j := range body {
				body[j] = byte(rng.UintN(256))
			}
			b = append(sizePrefix(int32(len(body))), body...)
		default: // a valid request with bytes flipped after the size
			b = slices.Clone(valid)
			for range 1 + rng.IntN(3) {
				j := 4 + rng.IntN(len(b)-4)
				b[j] ^= byte(1 + rng.UintN(255))
			}
		}
		c, err := net.Dial("tcp", s.addr())
		if err != nil {
			t.Fatal(err)
		}
		c.Write(b)
		c.(*net.TCPConn).CloseWrite()
		readAll(c)
		c.Close()
	}
	last := dial(t, s.addr())
	if av := last.apiVersions(9); av.ErrorCode != 0 {
		t.Fatal(av)
	}
	last.Close()
	waitUntil(t, "connections released", func() bool { return s.connCount() == 0 })
	if got := s.reqBytes.available(); got != s.reqBytes.capacity {
		t.Errorf("budget leaked: %d of %d", got, s.reqBytes.capacity)
	}
}

func TestSlowLoris(t *testing.T) {
	s := startServer(t, nil, func(o *Options) { o.FrameTimeout = 300 * time.Millisecond })
	var slow []*rawConn
	for range 5 {
		c := dial(t, s.addr())
		c.write([]byte{0, 0}) // half a size prefix, then nothing
		slow = append(slow, c)
	}
	// Another client is served meanwhile.
	good := dial(t, s.addr())
	for i := range 20 {
		good.apiVersions(int32(i))
	}
	for _, c := range slow {
		c.expectClosed()
	}
	s.logs.waitFor(t, "frame not completed in time")
	good.apiVersions(99)
}

func TestSlowPayloadHoldsNoMoreThanItsFrame(t *testing.T) {
	s := startServer(t, nil, func(o *Options) { o.FrameTimeout = 300 * time.Millisecond })
	c := dial(t, s.addr())
	c.write(append(sizePrefix(1000), 1, 2, 3)) // promises 1000 bytes, sends 3
	waitUntil(t, "budget reserved", func() bool { return s.reqBytes.available() == s.reqBytes.capacity-1000 })
	c.expectClosed()
	waitUntil(t, "budget released", func() bool { return s.reqBytes.available() == s.reqBytes.capacity })
}

func TestIdleConnectionsClose(t *testing.T) {
	release := make(chan struct{})
	s := startServer(t, map[string]string{"connections.max.idle.ms": "100"}, func(o *Options) {
		o.ExtraHandlers = []Handler{{Versions: Versions{Min: 0, Max: 4}, Fn: Handle(
			func(ctx context.Context, _ *Request, _ *message.HeartbeatRequest) (message.Response, error) {
				<-release
				return message.NewHeartbeatResponse(), nil
			})}}
	})
	idle := dial(t, s.addr())
	idle.apiVersions(1)
	idle.expectClosed()
	s.logs.waitFor(t, "closing idle connection")

	// A connection waiting for a slow response is not idle.
	busy := dial(t, s.addr())
	busy.send(4, 2, heartbeat(1))
	time.Sleep(400 * time.Millisecond) // four idle periods
	close(release)
	if corr, _ := busy.recv(message.KeyHeartbeat, 4); corr != 2 {
		t.Fatalf("correlation %d", corr)
	}
}

func TestMaxConnections(t *testing.T) {
	s := startServer(t, map[string]string{"max.connections": "2"}, nil)
	a, b := dial(t, s.addr()), dial(t, s.addr())
	a.apiVersions(1)
	b.apiVersions(1)
	refused := dial(t, s.addr())
	refused.expectClosed()
	s.logs.waitFor(t, "limit=max.connections")
	// Controller listeners are not counted.
	dial(t, s.controllerAddr()).apiVersions(1)

	a.Close()
	waitUntil(t, "a slot", func() bool { return s.connCount() == 2 })
	dial(t, s.addr()).apiVersions(2)
}

func TestMaxConnectionsPerIP(t *testing.T) {
	s := startServer(t, map[string]string{
		"max.connections.per.ip":           "1",
		"max.connections.per.ip.overrides": "127.0.0.2:3",
	}, nil)
	dial(t, s.addr()).apiVersions(1)
	dial(t, s.addr()).expectClosed()
	s.logs.waitFor(t, "limit=max.connections.per.ip")

	// 127.0.0.2 has an override of 3.
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}
	for i := range 4 {
		nc, err := d.Dial("tcp", s.addr())
		if err != nil {
			t.Skipf("cannot dial from 127.0.0.2: %v", err)
		}
		c := &rawConn{t: t, Conn: nc}
		t.Cleanup(func() { nc.Close() })
		if i < 3 {
			c.apiVersions(int32(i))
		} else {
			c.expectClosed()
		}
	}
}

func TestPanicRecovery(t *testing.T) {
	var afterSend atomic.Int32
	s := startServer(t, nil, func(o *Options) {
		o.ExtraHandlers = []Handler{{Versions: Versions{Min: 0, Max: 4}, Fn: Handle(
			func(_ context.Context, r *Request, req *message.HeartbeatRequest) (message.Response, error) {
				r.AfterSend(func() { afterSend.Add(1) })
				if req.GenerationId == 13 {
					var m map[string]int
					//lint:ignore SA5000 the test needs a real runtime panic, as a handler bug would raise
					m["boom"]++
				}
				return message.NewHeartbeatResponse(), nil
			})}}
	})
	other := dial(t, s.addr())
	other.apiVersions(1)
	c := dial(t, s.addr())
	c.send(4, 1, heartbeat(1))
	c.send(4, 2, heartbeat(13))
	c.send(4, 3, heartbeat(1))
	if corr, _ := c.recv(message.KeyHeartbeat, 4); corr != 1 {
		t.Fatalf("correlation %d", corr)
	}
	c.expectClosed()
	out := s.logs.waitFor(t, "handler panicked")
	if !strings.Contains(out, "assignment to entry in nil map") || !strings.Contains(out, "server_test.go") {
		t.Errorf("panic log lacks the value or the stack:\n%s", out)
	}
	other.apiVersions(2)
	waitUntil(t, "AfterSend of the sent and the panicked request", func() bool { return afterSend.Load() >= 2 })
}

func TestNoResponseAndCloseConnection(t *testing.T) {
	produce := Handler{Versions: Versions{Min: 3, Max: 11}, Fn: Handle(
		func(_ context.Context, _ *Request, req *message.ProduceRequest) (message.Response, error) {
			switch req.Acks {
			case 0:
				return nil, ErrNoResponse
			case 99:
				return nil, ErrCloseConnection
			}
			return message.NewProduceResponse(), nil
		})}
	var done []RequestEvent
	var mu sync.Mutex
	s := startServer(t, nil, func(o *Options) {
		o.ExtraHandlers = []Handler{produce}
		o.Observer = funcObserver{done: func(ev RequestEvent) { mu.Lock(); done = append(done, ev); mu.Unlock() }}
	})
	req := func(acks int16) *message.ProduceRequest {
		r := message.NewProduceRequest()
		r.Acks = acks
		return r
	}
	c := dial(t, s.addr())
	c.send(9, 1, req(0))
	c.send(9, 2, req(1))
	c.send(9, 3, req(0))
	c.send(9, 4, req(-1))
	for _, want := range []int32{2, 4} {
		if corr, _ := c.recv(message.KeyProduce, 9); corr != want {
			t.Fatalf("correlation %d, want %d", corr, want)
		}
	}
	// ErrCloseConnection: the responses before it go out, then the connection closes.
	c.send(9, 5, req(1))
	c.send(9, 6, req(99))
	c.send(9, 7, req(1))
	if corr, _ := c.recv(message.KeyProduce, 9); corr != 5 {
		t.Fatalf("correlation %d, want 5", corr)
	}
	c.expectClosed()
	waitUntil(t, "events", func() bool { mu.Lock(); defer mu.Unlock(); return len(done) >= 6 })
	mu.Lock()
	defer mu.Unlock()
	var sent, unsent int
	for _, ev := range done {
		if ev.APIKey != message.KeyProduce || ev.Version != 9 {
			t.Errorf("event %+v", ev)
		}
		if ev.Sent {
			sent++
			if ev.ResponseBytes <= 0 {
				t.Errorf("sent event without size: %+v", ev)
			}
		} else {
			unsent++
		}
	}
	if sent != 3 || unsent != 3 {
		t.Errorf("%d sent, %d unsent events, want 3 and 3", sent, unsent)
	}
}

type funcObserver struct {
	NopObserver
	done func(RequestEvent)
}

func (o funcObserver) RequestDone(ev RequestEvent) { o.done(ev) }

func TestHandlerErrors(t *testing.T) {
	fail := func(_ context.Context, _ *Request, req *message.HeartbeatRequest) (message.Response, error) {
		switch req.GenerationId {
		case 1:
			return nil, kerr.NotCoordinator
		case 2:
			return nil, errors.New("something unmapped")
		}
		return nil, nil // a bug: neither
	}
	withErrResp := Handler{Versions: Versions{Min: 0, Max: 4}, Fn: Handle(fail),
		ErrorResponse: func(_ *Request, code int16) message.Response {
			resp := message.NewHeartbeatResponse()
			resp.ErrorCode = code
			return resp
		}}
	s := startServer(t, nil, func(o *Options) { o.ExtraHandlers = []Handler{withErrResp} })
	c := dial(t, s.addr())
	for gen, want := range map[int32]int16{1: kerr.NotCoordinator.Code, 2: kerr.UnknownServerError.Code} {
		c.send(4, gen, heartbeat(gen))
		if _, resp := c.recv(message.KeyHeartbeat, 4); resp.(*message.HeartbeatResponse).ErrorCode != want {
			t.Errorf("gen %d: code %d, want %d", gen, resp.(*message.HeartbeatResponse).ErrorCode, want)
		}
	}
	s.logs.waitFor(t, "unmapped error answered as UNKNOWN_SERVER_ERROR")
	c.send(4, 3, heartbeat(3))
	c.expectClosed()
	s.logs.waitFor(t, "handler returned neither")

	// Without ErrorResponse, an error closes the connection.
	s2 := startServer(t, nil, func(o *Options) {
		o.ExtraHandlers = []Handler{{Versions: Versions{Min: 0, Max: 4}, Fn: Handle(fail)}}
	})
	c2 := dial(t, s2.addr())
	c2.send(4, 1, heartbeat(1))
	c2.expectClosed()
	s2.logs.waitFor(t, "handler failed; closing the connection")
}

func TestSendfileThroughSocket(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "segment")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	data := make([]byte, 3<<20) // larger than socket buffers, so sendfile loops
	for i := range data {
		data[i] = byte(i * 7)
	}
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
	const off, length = 12345, 2<<20 + 17
	var released atomic.Int32
	fetch := Handler{Versions: Versions{Min: 4, Max: 17}, Fn: Handle(
		func(_ context.Context, r *Request, _ *message.FetchRequest) (message.Response, error) {
			r.AfterSend(func() { released.Add(1) })
			resp := message.NewFetchResponse()
			p := message.FetchResponsePartitionData{PartitionIndex: 0, HighWatermark: 10, LastStableOffset: 10, PreferredReadReplica: -1}
			p.Records = wire.RecordChunks([]wire.Chunk{
				{Bytes: []byte("head")},
				{Region: wire.FileRegion{File: f, Offset: off, Length: length}},
			})
			resp.Responses = []message.FetchResponseFetchableTopicResponse{{Topic: "t", Partitions: []message.FetchResponsePartitionData{p}}}
			return resp, nil
		})}
	s := startServer(t, nil, func(o *Options) { o.ExtraHandlers = []Handler{fetch, heartbeatEcho(t)} })
	c := dial(t, s.addr())
	// A fetch between two small requests: order holds across the sendfile response.
	c.send(4, 1, heartbeat(1))
	c.send(12, 2, message.NewFetchRequest())
	c.send(4, 3, heartbeat(3))
	if corr, _ := c.recv(message.KeyHeartbeat, 4); corr != 1 {
		t.Fatal(corr)
	}
	corr, resp := c.recv(message.KeyFetch, 12)
	if corr != 2 {
		t.Fatal(corr)
	}
	got, _ := resp.(*message.FetchResponse).Responses[0].Partitions[0].Records.Bytes()
	want := append([]byte("head"), data[off:off+length]...)
	if !bytes.Equal(got, want) {
		t.Fatalf("records differ: %d bytes, want %d", len(got), len(want))
	}
	if corr, _ := c.recv(message.KeyHeartbeat, 4); corr != 3 {
		t.Fatal(corr)
	}
	waitUntil(t, "AfterSend", func() bool { return released.Load() == 1 })
}

func TestMemoryBudgetBoundsRequestsInFlight(t *testing.T) {
	started := make(chan struct{}, 4)
	release := make(chan struct{})
	slow := Handler{Versions: Versions{Min: 3, Max: 11}, Fn: Handle(
		func(_ context.Context, _ *Request, _ *message.ProduceRequest) (message.Response, error) {
			started <- struct{}{}
			<-release
			return message.NewProduceResponse(), nil
		})}
	s := startServer(t, map[string]string{"socket.request.max.bytes": "65536"}, func(o *Options) {
		o.QueuedMaxRequestBytes = 65536
		o.ExtraHandlers = []Handler{slow}
	})
	big := func(corr int32) []byte {
		req := message.NewProduceRequest()
		req.Acks = 1
		req.TransactionalId = wire.Ptr(strings.Repeat("x", 20000))
		return requestFrame(t, 9, corr, req)
	}
	a, b, other := dial(t, s.addr()), dial(t, s.addr()), dial(t, s.addr())
	a.write(big(1))
	<-started
	b.write(big(2))
	b.write(big(3))
	// a holds ~20 KB while its handler runs; b's first frame fits, its second must wait.
	waitUntil(t, "b's first frame admitted", func() bool { return len(started) == 1 })
	used := s.reqBytes.capacity - s.reqBytes.available()
	if used > s.reqBytes.capacity {
		t.Fatalf("used %d of %d", used, s.reqBytes.capacity)
	}
	// Small requests still fit in what is left.
	other.apiVersions(1)
	close(release)
	for _, c := range []*rawConn{a, b, b} {
		c.recv(message.KeyProduce, 9)
	}
	waitUntil(t, "budget released", func() bool { return s.reqBytes.available() == s.reqBytes.capacity })
}

func TestControllerListener(t *testing.T) {
	controllerOnly := Handler{Versions: Versions{Min: 0, Max: 4}, Listeners: ControllerListeners, Fn: Handle(
		func(_ context.Context, r *Request, _ *message.HeartbeatRequest) (message.Response, error) {
			if r.ListenerKind != ControllerListeners || r.Listener != "CONTROLLER" {
				t.Errorf("request on %s (%d)", r.Listener, r.ListenerKind)
			}
			return message.NewHeartbeatResponse(), nil
		})}
	handedOff := make(chan string, 1)
	s := startServer(t, nil, func(o *Options) {
		o.ExtraHandlers = []Handler{metadataHandler(), controllerOnly}
		o.Handoffs = []Handoff{{Prefix: []byte("RAFT/1\n"), Fn: func(nc net.Conn, consumed []byte) error {
			rest := make([]byte, 3)
			_ = nc.SetReadDeadline(time.Now().Add(10 * time.Second))
			if _, err := nc.Read(rest); err != nil {
				nc.Close()
				return err
			}
			handedOff <- string(consumed) + string(rest)
			nc.Write([]byte("ok"))
			nc.Close()
			return nil
		}}}
	})
	ctl := dial(t, s.controllerAddr())
	av := ctl.apiVersions(1)
	if len(av.ApiKeys) != 2 || av.ApiKeys[0].ApiKey != message.KeyHeartbeat || av.ApiKeys[1].ApiKey != message.KeyApiVersions {
		t.Errorf("controller listener advertises %+v", av.ApiKeys)
	}
	ctl.send(4, 2, heartbeat(1))
	ctl.recv(message.KeyHeartbeat, 4)

	client := dial(t, s.addr())
	if av := client.apiVersions(1); len(av.ApiKeys) != 2 || av.ApiKeys[0].ApiKey != message.KeyMetadata {
		t.Errorf("client listener advertises %+v", av.ApiKeys)
	}
	client.send(4, 2, heartbeat(1)) // controller-only API on a client listener
	client.expectClosed()

	// Raft traffic is handed off with the 4 bytes the server consumed.
	r := dial(t, s.controllerAddr())
	r.write([]byte("RAFT/1\n"))
	if got := <-handedOff; got != "RAFT/1\n" {
		t.Errorf("handoff saw %q", got)
	}
	if got := readAll(r); string(got) != "ok" {
		t.Errorf("handoff conn got %q", got)
	}
	// The prefix is not special on client listeners: there it is an oversized frame.
	p := dial(t, s.addr())
	p.write([]byte("RAFT/1\n"))
	p.expectClosed()
	waitUntil(t, "handed-off connection forgotten", func() bool { return s.connCount() == 1 })
}

func TestHandoffPrefixMustNotBeAFrameSize(t *testing.T) {
	_, err := New(Options{Config: testConfig(t, nil), Handoffs: []Handoff{{Prefix: []byte{0, 0, 1, 0, 9}, Fn: func(net.Conn, []byte) error { return nil }}}})
	if err == nil {
		t.Fatal("a prefix that reads as a valid size was accepted")
	}
}

func TestRegistryValidation(t *testing.T) {
	fn := HandleAny(message.KeyHeartbeat, func(context.Context, *Request) (message.Response, error) { return nil, nil })
	for name, h := range map[string]Handler{
		"above spec":   {Versions: Versions{Min: 0, Max: 5}, Fn: fn},
		"below spec":   {Versions: Versions{Min: -1, Max: 4}, Fn: fn},
		"inverted":     {Versions: Versions{Min: 3, Max: 2}, Fn: fn},
		"nil function": {Versions: Versions{Min: 0, Max: 4}},
		"unknown key":  {Versions: Versions{Min: 0, Max: 0}, Fn: HandleAny(999, nil)},
	} {
		if _, err := New(Options{Config: testConfig(t, nil), ExtraHandlers: []Handler{h}}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if got := Handle(func(context.Context, *Request, *message.ProduceRequest) (message.Response, error) { return nil, nil }).apiKey(); got != 0 {
		t.Errorf("Handle key %d", got)
	}
}

func TestSecurityProtocolsNotYetSupported(t *testing.T) {
	cfg := testConfig(t, map[string]string{
		"listeners":                      "SASL_PLAINTEXT://127.0.0.1:0,CONTROLLER://127.0.0.1:0",
		"listener.security.protocol.map": "SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT",
		"sasl.enabled.mechanisms":        "PLAIN",
		"inter.broker.listener.name":     "SASL_PLAINTEXT",
	})
	if _, err := New(Options{Config: cfg}); err == nil || !strings.Contains(err.Error(), "not supported yet") {
		t.Fatalf("New: %v", err)
	}
}

func TestGracefulShutdown(t *testing.T) {
	started := make(chan struct{}, 1)
	release := make(chan struct{})
	var sawCancel atomic.Bool
	s := startServer(t, nil, func(o *Options) {
		o.ExtraHandlers = []Handler{{Versions: Versions{Min: 0, Max: 4}, Fn: Handle(
			func(ctx context.Context, _ *Request, _ *message.HeartbeatRequest) (message.Response, error) {
				started <- struct{}{}
				<-release
				sawCancel.Store(ctx.Err() != nil)
				return message.NewHeartbeatResponse(), nil
			})}}
	})
	idle := dial(t, s.addr())
	idle.apiVersions(1)
	c := dial(t, s.addr())
	c.send(4, 1, heartbeat(1))
	c.send(4, 2, heartbeat(1)) // queued behind the first
	<-started
	// Requests read before Close are answered; wait until the second one has been read.
	waitUntil(t, "second request read", func() bool { return s.inflight() == 2 })

	closed := make(chan error, 1)
	go func() { closed <- s.Close(context.Background()) }()
	// Stopping: no new connections. Dials may still complete in the kernel backlog, but
	// nothing is answered.
	waitUntil(t, "listener closed", func() bool {
		nc, err := net.DialTimeout("tcp", s.addr(), time.Second)
		if err != nil {
			return true
		}
		nc.Close()
		return false
	})
	select {
	case err := <-closed:
		t.Fatalf("Close returned with a request in flight: %v", err)
	default:
	}
	close(release)
	<-started
	for _, want := range []int32{1, 2} {
		if corr, _ := c.recv(message.KeyHeartbeat, 4); corr != want {
			t.Fatalf("correlation %d, want %d", corr, want)
		}
	}
	c.expectClosed()
	idle.expectClosed()
	if err := <-closed; err != nil {
		t.Fatalf("Close: %v", err)
	}
	if sawCancel.Load() {
		t.Error("a graceful shutdown cancelled the handler's context")
	}
}

func TestForcedShutdown(t *testing.T) {
	started := make(chan struct{}, 1)
	cancelled := make(chan struct{})
	s := startServer(t, nil, func(o *Options) {
		o.ExtraHandlers = []Handler{{Versions: Versions{Min: 0, Max: 4}, Fn: Handle(
			func(ctx context.Context, _ *Request, _ *message.HeartbeatRequest) (message.Response, error) {
				started <- struct{}{}
				<-ctx.Done()
				close(cancelled)
				return nil, ctx.Err()
			})}}
	})
	c := dial(t, s.addr())
	c.send(4, 1, heartbeat(1))
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := s.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Close: %v", err)
	}
	<-cancelled
	c.expectClosed()
	// A second Close returns the first one's result.
	if err := s.Close(context.Background()); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second Close: %v", err)
	}
	if strings.Contains(s.logs.String(), "handler failed") {
		t.Error("a cancelled handler was logged as failed")
	}
}

func TestConnectionContextCancelledOnReset(t *testing.T) {
	started := make(chan struct{})
	done := make(chan struct{})
	s := startServer(t, nil, func(o *Options) {
		o.ExtraHandlers = []Handler{{Versions: Versions{Min: 0, Max: 4}, Fn: Handle(
			func(ctx context.Context, _ *Request, _ *message.HeartbeatRequest) (message.Response, error) {
				close(started)
				<-ctx.Done()
				close(done)
				return nil, ctx.Err()
			})}}
	})
	c := dial(t, s.addr())
	c.send(4, 1, heartbeat(1))
	<-started
	// A reset (not a half-close) ends the connection: the handler's context is cancelled.
	c.Conn.(*net.TCPConn).SetLinger(0)
	c.Close()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("handler context not cancelled after the client reset the connection")
	}
	waitUntil(t, "connection released", func() bool { return s.connCount() == 0 })
}

func TestStartTwice(t *testing.T) {
	s := startServer(t, nil, nil)
	if err := s.Start(); err == nil {
		t.Fatal("second Start succeeded")
	}
}

func TestStartFailsOnBusyPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	s, err := New(Options{Config: testConfig(t, map[string]string{
		"listeners": "PLAINTEXT://127.0.0.1:0,CONTROLLER://" + ln.Addr().String(),
	})})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err == nil {
		t.Fatal("Start succeeded on a busy port")
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestReconfigureConnectionLimits(t *testing.T) {
	s := startServer(t, nil, nil)
	a := dial(t, s.addr())
	a.apiVersions(1)
	s.Reconfigure(testConfig(t, map[string]string{"max.connections": "1"}))
	// The existing connection stays; a new one is refused.
	dial(t, s.addr()).expectClosed()
	a.apiVersions(2)
	s.Reconfigure(testConfig(t, nil))
	dial(t, s.addr()).apiVersions(3)
}

// TestCloseDeliversEarlierResponses: when a bad request closes the connection, the answers to
// the requests before it still reach the client, even though it kept sending (closing a
// socket with unread input sends RST, which would destroy them; lingerClose prevents it).
func TestCloseDeliversEarlierResponses(t *testing.T) {
	s := startServer(t, nil, nil)
	junk := bytes.Repeat([]byte{0xAB}, 200<<10)
	for i := range 20 {
		c := dial(t, s.addr())
		var b []byte
		b = append(b, requestFrame(t, 3, int32(i), message.NewApiVersionsRequest())...)
		b = append(b, 0, 0, 0, 6, 0x7f, 0x7f, 0, 0, 0, 0) // unknown API key 32639
		b = append(b, junk...)
		go c.Write(b) // may block until the server drains it
		if corr, _ := c.recv(message.KeyApiVersions, 3); corr != int32(i) {
			t.Fatalf("correlation %d", corr)
		}
		c.expectClosed()
		c.Close()
	}
}

func TestShuttingDownEndsLongPolls(t *testing.T) {
	started := make(chan struct{}, 1)
	s := startServer(t, nil, func(o *Options) {
		o.ExtraHandlers = []Handler{{Versions: Versions{Min: 0, Max: 4}, Fn: Handle(
			func(ctx context.Context, r *Request, _ *message.HeartbeatRequest) (message.Response, error) {
				started <- struct{}{}
				select { // a long poll that would wait a minute
				case <-r.ShuttingDown():
				case <-time.After(time.Minute):
					t.Error("long poll not woken by the shutdown")
				}
				return message.NewHeartbeatResponse(), nil
			})}}
	})
	c := dial(t, s.addr())
	c.send(4, 1, heartbeat(1))
	<-started
	closed := make(chan error, 1)
	go func() { closed <- s.Close(context.Background()) }()
	if corr, _ := c.recv(message.KeyHeartbeat, 4); corr != 1 {
		t.Fatal(corr)
	}
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
}
