package server_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/internal/node/nodetest"
)

// A transactional producer fails at its first call with a message that says why, instead of
// retrying a coordinator lookup forever: Sluice has no transaction coordinator yet.
func TestTransactionalProducerFailsFast(t *testing.T) {
	c := nodetest.Start(t)
	cl := c.Client(t, kgo.TransactionalID("tx-1"), kgo.RetryTimeout(time.Minute))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := cl.BeginTransaction()
	if err == nil {
		err = cl.ProduceSync(ctx, &kgo.Record{Topic: "t", Value: []byte("v")}).FirstErr()
	}
	if err == nil {
		t.Fatal("a transactional producer started without a transaction coordinator")
	}
	if ctx.Err() != nil {
		t.Fatalf("the producer retried until the deadline: %v", err)
	}
	if !strings.Contains(err.Error(), "INVALID_REQUEST") && !strings.Contains(err.Error(), "transaction coordinator") {
		t.Fatalf("error does not say why: %v", err)
	}
}
