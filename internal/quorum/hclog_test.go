package quorum

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
)

func TestHCLogAdapterLevelsAndFormatting(t *testing.T) {
	var buf bytes.Buffer
	l := newHCLog(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo})))

	l.Info("entering leader state", "leader", "node 1")
	l.Warn("heartbeat timeout reached, starting election", "last-leader-addr", "", "last-leader-id", "")
	if buf.Len() != 0 {
		t.Fatalf("routine raft startup messages logged at info or above:\n%s", buf.String())
	}

	l.Warn("heartbeat timeout reached, starting election", "last-leader-addr", "127.0.0.1:9093", "last-leader-id", "2")
	if !strings.Contains(buf.String(), "level=WARN") {
		t.Fatalf("losing a known leader must stay a warning:\n%s", buf.String())
	}

	buf.Reset()
	l.Error("failed to apply", "servers", hclog.Fmt("%+v", []int{1, 2}))
	if got := buf.String(); !strings.Contains(got, "servers=\"[1 2]\"") || strings.Contains(got, "%+v") {
		t.Fatalf("hclog.Fmt not rendered: %s", got)
	}
}
