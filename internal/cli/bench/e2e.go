package bench

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// drainTimeout bounds how long e2e waits, after the last acknowledgement, for the consumers
// to receive every acknowledged record.
const drainTimeout = 30 * time.Second

// E2EConfig is a produce configuration plus the consuming side's.
type E2EConfig struct {
	Produce   ProduceConfig
	Consumers int
	// FetchMaxBytes and FetchMaxPartitionBytes as in ConsumeConfig.
	FetchMaxBytes          int32
	FetchMaxPartitionBytes int32
}

// Validate checks the configuration.
func (c *E2EConfig) Validate() error {
	if err := c.Produce.Validate(); err != nil {
		return err
	}
	var errs []string
	if c.Consumers < 1 {
		errs = append(errs, "--consumers must be at least 1")
	}
	if c.Produce.RecordSizeBytes < stampBytes {
		errs = append(errs, fmt.Sprintf("e2e needs --record-size of at least %d (the send time is in the value)", stampBytes))
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %s", ErrUsage, strings.Join(errs, "; "))
	}
	return nil
}

// E2E produces and consumes the same topic at once and measures end-to-end latency, from
// the Produce call to the consumer's poll returning the record. It fails with
// ErrCountMismatch unless records received equal records acknowledged.
func E2E(ctx context.Context, base []kgo.Opt, cfg E2EConfig, out Output) (Summary, error) {
	if err := cfg.Validate(); err != nil {
		return Summary{}, err
	}
	if _, err := ensureTopic(ctx, base, cfg.Produce.Topic, cfg.Produce.Partitions); err != nil {
		return Summary{}, err
	}
	parts, _, end, err := offsets(ctx, base, cfg.Produce.Topic)
	if err != nil {
		return Summary{}, err
	}
	from := map[int32]kgo.Offset{}
	for _, p := range parts {
		from[p] = kgo.NewOffset().At(end[p]) // only this run's records
	}
	c := &consumer{topic: cfg.Produce.Topic, e2e: new(Histogram)}
	p := newProducer(cfg.Produce, true)

	var rl rateLine
	prog := startProgress(out.Progress, func(el, iv time.Duration) string {
		return rl.format("sent", el, iv, p.acked.Load(), p.ackBytes.Load(),
			fmt.Sprintf("  received %d  e2e p99 %.2f ms", c.received.Load(), ms(c.e2e.Quantile(0.99))))
	})
	defer prog.stop()

	cctx, cancelConsumers := context.WithCancel(ctx)
	defer cancelConsumers()
	var wg sync.WaitGroup
	var consumeErr error
	ccfg := ConsumeConfig{FetchMaxBytes: cfg.FetchMaxBytes, FetchMaxPartitionBytes: cfg.FetchMaxPartitionBytes}
	wg.Add(1)
	go func() {
		defer wg.Done()
		consumeErr = c.run(cctx, base, cfg.Consumers, ccfg, parts, from)
	}()

	if err := p.run(ctx, base); err != nil {
		cancelConsumers()
		wg.Wait()
		return Summary{}, err
	}
	acked := p.acked.Load()
	c.target.Store(acked)
	// A consumer that already has everything is parked in a long poll: wake it.
	if acked == 0 || c.received.Load() >= acked {
		cancelConsumers()
	}
	drained := make(chan struct{})
	go func() { wg.Wait(); close(drained) }()
	select {
	case <-drained:
	case <-time.After(drainTimeout):
		cancelConsumers()
		<-drained
	case <-ctx.Done():
		<-drained
	}
	prog.stop()
	if consumeErr != nil {
		return Summary{}, consumeErr
	}

	s := p.summary("e2e", len(parts))
	received := c.received.Load()
	s.RecordsReceived = &received
	s.E2ELatency = latencyOf(c.e2e)
	s.Errors += c.errs.Load()
	if s.FirstError == "" {
		if e := c.firstErr.Load(); e != nil {
			s.FirstError = (*e).Error()
		}
	}
	switch {
	case received != acked && ctx.Err() == nil:
		return s, fmt.Errorf("%w: %d acknowledged, %d received", ErrCountMismatch, acked, received)
	case p.errs.Load() > 0:
		return s, fmt.Errorf("%w: %d (first: %s)", ErrProduceFailed, p.errs.Load(), s.FirstError)
	}
	return s, nil
}
