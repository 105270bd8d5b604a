package server

import (
	"log/slog"
	"strings"
	"sync"
	"testing"
)

// TestRequestLog: at Debug every request gets one line naming the API, the client and the
// sizes and times; at Info there is none. The observer sees the header's ids.
func TestRequestLog(t *testing.T) {
	var mu sync.Mutex
	var events []RequestEvent
	s := startServer(t, nil, func(o *Options) {
		o.Observer = funcObserver{done: func(ev RequestEvent) { mu.Lock(); events = append(events, ev); mu.Unlock() }}
	})
	c := dial(t, s.addr())
	c.apiVersions(42)
	out := s.logs.waitFor(t, "correlation_id=42")
	var line string
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "correlation_id=42") {
			line = l
		}
	}
	for _, want := range []string{
		`msg="request completed"`, "api=ApiVersions", "api_version=3", "client_id=test-client",
		"listener=PLAINTEXT", "peer=", "request_bytes=", "response_bytes=", "sent=true",
		"queue_time=", "handle_time=", "send_time=", "total_time=",
	} {
		if !strings.Contains(line, want) {
			t.Errorf("request log line lacks %q: %s", want, line)
		}
	}
	waitUntil(t, "the observer's event", func() bool { mu.Lock(); defer mu.Unlock(); return len(events) == 1 })
	mu.Lock()
	if ev := events[0]; ev.CorrelationID != 42 || ev.ClientID != "test-client" {
		t.Errorf("event ids %d %q, want 42 test-client", ev.CorrelationID, ev.ClientID)
	}
	mu.Unlock()

	// At Info the request log is off. finish logs before it reports to the observer, so
	// once the event is seen a line would have been written.
	var quietDone sync.WaitGroup
	quietDone.Add(1)
	quiet := startServer(t, nil, func(o *Options) {
		o.Logger = slog.New(slog.NewTextHandler(s.logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
		o.Observer = funcObserver{done: func(RequestEvent) { quietDone.Done() }}
	})
	dial(t, quiet.addr()).apiVersions(43)
	quietDone.Wait()
	if out := s.logs.String(); strings.Contains(out, "correlation_id=43") {
		t.Fatalf("request logged at Info: %s", out)
	}
}
