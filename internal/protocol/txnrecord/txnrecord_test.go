package txnrecord_test

import (
	"testing"

	"github.com/sluicehq/sluice/internal/protocol/internal/fill"
	"github.com/sluicehq/sluice/internal/protocol/txnrecord"
)

func TestRoundTrip(t *testing.T) {
	fill.RoundTrip(t, "TransactionLogKey", 10, func() fill.Versioned { return txnrecord.NewTransactionLogKey() })
	fill.RoundTrip(t, "TransactionLogValue", 10, func() fill.Versioned { return txnrecord.NewTransactionLogValue() })
}
