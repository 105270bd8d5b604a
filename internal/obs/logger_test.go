package obs

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
)

func TestNewLogger(t *testing.T) {
	for _, tc := range []struct {
		format string
		check  func(t *testing.T, out string)
	}{
		{FormatText, func(t *testing.T, out string) {
			if !strings.Contains(out, "msg=hello") || !strings.Contains(out, "k=v") {
				t.Fatalf("text output %q", out)
			}
		}},
		{FormatJSON, func(t *testing.T, out string) {
			var m map[string]any
			if err := json.Unmarshal([]byte(out), &m); err != nil || m["msg"] != "hello" || m["k"] != "v" {
				t.Fatalf("json output %q: %v", out, err)
			}
		}},
	} {
		t.Run(tc.format, func(t *testing.T) {
			var buf bytes.Buffer
			lv := new(slog.LevelVar)
			lv.Set(slog.LevelInfo)
			l, err := NewLogger(&buf, lv, tc.format)
			if err != nil {
				t.Fatal(err)
			}
			l.Debug("hidden")
			l.Info("hello", "k", "v")
			tc.check(t, buf.String())
			if strings.Contains(buf.String(), "hidden") {
				t.Fatal("debug line logged at info level")
			}
			buf.Reset()
			lv.Set(slog.LevelDebug) // a runtime level change applies at once
			l.Debug("shown")
			if !strings.Contains(buf.String(), "shown") {
				t.Fatal("debug line not logged after lowering the level")
			}
		})
	}
	if _, err := NewLogger(&bytes.Buffer{}, new(slog.LevelVar), "xml"); !errors.Is(err, ErrLogFormat) {
		t.Fatalf("xml format: %v", err)
	}
}
