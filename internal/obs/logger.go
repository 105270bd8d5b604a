package obs

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
)

// ErrLogFormat: a logger format other than text or json.
var ErrLogFormat = errors.New("obs: unknown log format")

// Log formats, the values of sluice.logger.format.
const (
	FormatText = "text"
	FormatJSON = "json"
)

// NewLogger returns a logger writing to w at level in format ("text": key=value lines,
// "json": one object a line). The level is a slog.LevelVar, so that a runtime change of
// sluice.logger.level can take effect without rebuilding the logger.
func NewLogger(w io.Writer, level *slog.LevelVar, format string) (*slog.Logger, error) {
	opts := &slog.HandlerOptions{Level: level}
	switch format {
	case FormatText, "":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case FormatJSON:
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("%w: %q (text or json)", ErrLogFormat, format)
}
