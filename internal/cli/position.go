package cli

import (
	"strconv"
	"strings"
	"time"
)

// PositionKind says what a Position names.
type PositionKind int8

// The kinds of Position.
const (
	Start  PositionKind = iota // the log start offset
	End                        // the high watermark
	At                         // an exact offset
	AtTime                     // the first record at or after a time
)

// Position is where to start reading or what to reset a group to: `-o` of `sluice consume`
// and `--to` of `sluice group seek`.
type Position struct {
	Kind   PositionKind
	Offset int64 // for At
	TimeMs int64 // for AtTime, Unix milliseconds
}

// ParsePosition reads start, end, an offset N, or @time where time is Unix milliseconds, an
// RFC 3339 time, or -DURATION (that long before now). flag names the flag in errors.
func ParsePosition(flag, s string, now time.Time) (Position, error) {
	switch {
	case s == "start" || s == "beginning" || s == "earliest":
		return Position{Kind: Start}, nil
	case s == "end" || s == "latest":
		return Position{Kind: End}, nil
	case strings.HasPrefix(s, "@"):
		v := s[1:]
		if ms, err := strconv.ParseInt(v, 10, 64); err == nil && ms >= 0 {
			return Position{Kind: AtTime, TimeMs: ms}, nil
		}
		if strings.HasPrefix(v, "-") {
			if d, err := time.ParseDuration(v[1:]); err == nil && d >= 0 {
				return Position{Kind: AtTime, TimeMs: now.Add(-d).UnixMilli()}, nil
			}
		}
		if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
			return Position{Kind: AtTime, TimeMs: t.UnixMilli()}, nil
		}
		return Position{}, Usagef("%s %s: a time is Unix milliseconds, RFC 3339 (2024-05-01T12:00:00Z) or -DURATION (-1h)", flag, s)
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return Position{}, Usagef("%s must be start, end, an offset (0 or more) or @time, not %q", flag, s)
	}
	return Position{Kind: At, Offset: n}, nil
}

// PositionHelp describes the syntax for flag help.
const PositionHelp = "start, end, an offset N, or @time (Unix ms, RFC 3339, or @-1h for an hour ago)"
