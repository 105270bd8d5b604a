package txnrecord_test

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluicehq/sluice/internal/protocol/internal/fill"
	"github.com/sluicehq/sluice/internal/protocol/txnrecord"
	"github.com/sluicehq/sluice/internal/protocol/wire"
)

// TestDifferentialKmsg compares the __transaction_state schemas with kmsg's TxnMetadata
// key and value at every version the spec defines.
func TestDifferentialKmsg(t *testing.T) {
	fill.VersionedDifferential(t, "TransactionLogKey", 0, false, 20,
		func() wire.Message { return txnrecord.NewTransactionLogKey() },
		func() fill.KmsgVersioned { v := kmsg.NewTxnMetadataKey(); return &v })
	for v := int16(0); v <= 1; v++ {
		fill.VersionedDifferential(t, "TransactionLogValue", v, v >= 1, 20,
			func() wire.Message { return txnrecord.NewTransactionLogValue() },
			func() fill.KmsgVersioned { v := kmsg.NewTxnMetadataValue(); return &v })
	}
}
