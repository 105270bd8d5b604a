package sharerecord_test

import (
	"testing"

	"github.com/sluicehq/sluice/internal/protocol/internal/fill"
	"github.com/sluicehq/sluice/internal/protocol/sharerecord"
)

func TestRoundTrip(t *testing.T) {
	for kv := int16(0); kv <= 1; kv++ {
		fill.RoundTrip(t, "key", 10, func() fill.Versioned { return sharerecord.NewKey(kv).(fill.Versioned) })
		fill.RoundTrip(t, "value", 10, func() fill.Versioned { return sharerecord.NewValue(kv).(fill.Versioned) })
	}
}
