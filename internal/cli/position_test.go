package cli

import (
	"errors"
	"testing"
	"time"
)

func TestParsePosition(t *testing.T) {
	now := time.UnixMilli(1_700_000_000_000)
	for _, tc := range []struct {
		in   string
		want Position
	}{
		{"start", Position{Kind: Start}},
		{"end", Position{Kind: End}},
		{"42", Position{Kind: At, Offset: 42}},
		{"@1234", Position{Kind: AtTime, TimeMs: 1234}},
		{"@-1h", Position{Kind: AtTime, TimeMs: 1_700_000_000_000 - 3_600_000}},
		{"@2024-05-01T12:00:00Z", Position{Kind: AtTime, TimeMs: 1_714_564_800_000}},
	} {
		got, err := ParsePosition("-o", tc.in, now)
		if err != nil || got != tc.want {
			t.Errorf("%q: %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}

func TestParsePositionErrors(t *testing.T) {
	for _, s := range []string{"middle", "-5", "@yesterday", "@-forever", ""} {
		if _, err := ParsePosition("-o", s, time.Now()); !errors.Is(err, ErrUsage) {
			t.Errorf("%q: error %v, want a usage error", s, err)
		}
	}
}
