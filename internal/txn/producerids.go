package txn

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"time"
)

// Errors returned by ProducerIDs.
var (
	// ErrLoadInProgress: no producer id is available yet (the first block, or the next one, is
	// still being fetched from the controller, or fetching it failed and is backing off). The
	// server answers COORDINATOR_LOAD_IN_PROGRESS (14), which clients retry, as Kafka does.
	ErrLoadInProgress = errors.New("txn: producer id block not available yet")
	// ErrClosed: the allocator was closed. Also COORDINATOR_LOAD_IN_PROGRESS on the wire.
	ErrClosed = errors.New("txn: producer id allocator closed")
)

// BlockSource hands out blocks of producer ids: count consecutive ids starting at first,
// never overlapping any other block in the cluster. The controller's AllocateProducerIds
// implements it.
type BlockSource interface {
	AllocateBlock(ctx context.Context) (first int64, count int32, err error)
}

// ProducerIDsOptions configures ProducerIDs.
type ProducerIDsOptions struct {
	Source BlockSource
	Logger *slog.Logger
	Now    func() time.Time
	// PrefetchRatio is the fraction of the current block after which the next block is
	// requested (Kafka's 0.9).
	PrefetchRatio float64
	// RetryBackoffMs is how long after a failed request no new one is sent (default 100).
	RetryBackoffMs int64
}

// ProducerIDs hands out producer ids for InitProducerId from blocks the controller allocates.
// It keeps at most two blocks (the current one and the next) and at most one request to the
// source in flight, which it starts when PrefetchRatio of the current block is used, so that
// InitProducerId rarely waits. Safe for concurrent use; Close waits for the request in flight.
type ProducerIDs struct {
	opts   ProducerIDsOptions
	ctx    context.Context // canceled by Close: ends the request in flight
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu struct {
		sync.Mutex
		cur          block
		next         *block        // prefetched, nil when none
		fetching     chan struct{} // closed when the request in flight ends; nil when none
		lastErr      error
		backoffUntil time.Time
		closed       bool
	}
}

type block struct {
	first, next, end int64 // ids [next, end) remain of [first, end)
}

func (b *block) remaining() int64 { return b.end - b.next }

// NewProducerIDs returns an allocator and requests its first block at once.
func NewProducerIDs(opts ProducerIDsOptions) (*ProducerIDs, error) {
	if opts.Source == nil {
		return nil, errors.New("txn: ProducerIDsOptions.Source is required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.PrefetchRatio <= 0 || opts.PrefetchRatio > 1 {
		opts.PrefetchRatio = 0.9
	}
	if opts.RetryBackoffMs <= 0 {
		opts.RetryBackoffMs = 100
	}
	p := &ProducerIDs{opts: opts}
	p.ctx, p.cancel = context.WithCancel(context.Background())
	p.mu.Lock()
	p.fetchLocked()
	p.mu.Unlock()
	return p, nil
}

// Next returns a new producer id. When none is at hand it waits for the block being fetched,
// bounded by ctx; if that fails or ctx ends first it returns ErrLoadInProgress (wrapping the
// cause), which the client retries.
func (p *ProducerIDs) Next(ctx context.Context) (int64, error) {
	for {
		p.mu.Lock()
		if p.mu.closed {
			p.mu.Unlock()
			return 0, ErrClosed
		}
		if c := &p.mu.cur; c.remaining() > 0 {
			id := c.next
			c.next++
			used := float64(c.next-c.first) / float64(c.end-c.first)
			if used >= p.opts.PrefetchRatio && p.mu.next == nil && p.mu.fetching == nil && !p.backingOffLocked() {
				p.fetchLocked()
			}
			p.mu.Unlock()
			return id, nil
		}
		if p.mu.next != nil {
			p.mu.cur, p.mu.next = *p.mu.next, nil
			p.mu.Unlock()
			continue
		}
		if p.mu.fetching == nil {
			if p.backingOffLocked() {
				err := p.mu.lastErr
				p.mu.Unlock()
				return 0, fmt.Errorf("%w: last block request failed: %w", ErrLoadInProgress, err)
			}
			p.fetchLocked()
		}
		done := p.mu.fetching
		p.mu.Unlock()
		select {
		case <-done:
		case <-ctx.Done():
			return 0, fmt.Errorf("%w: %w", ErrLoadInProgress, ctx.Err())
		}
	}
}

func (p *ProducerIDs) backingOffLocked() bool {
	return p.mu.lastErr != nil && p.opts.Now().Before(p.mu.backoffUntil)
}

// fetchLocked starts the one request for a block.
func (p *ProducerIDs) fetchLocked() {
	if p.mu.closed || p.mu.fetching != nil {
		return
	}
	done := make(chan struct{})
	p.mu.fetching = done
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		first, count, err := p.opts.Source.AllocateBlock(p.ctx)
		if err == nil {
			err = validBlock(first, count)
		}
		p.mu.Lock()
		p.mu.fetching = nil
		if err != nil {
			p.mu.lastErr = err
			p.mu.backoffUntil = p.opts.Now().Add(time.Duration(p.opts.RetryBackoffMs) * time.Millisecond)
			if !p.mu.closed {
				p.opts.Logger.Warn("producer id block request failed", "err", err)
			}
		} else {
			p.mu.lastErr = nil
			b := block{first: first, next: first, end: first + int64(count)}
			if p.mu.cur.remaining() == 0 {
				p.mu.cur = b
			} else {
				p.mu.next = &b
			}
		}
		p.mu.Unlock()
		close(done)
	}()
}

func validBlock(first int64, count int32) error {
	if first < 0 || count <= 0 || first > math.MaxInt64-int64(count) {
		return fmt.Errorf("txn: invalid producer id block: first %d, count %d", first, count)
	}
	return nil
}

// Close stops the allocator and waits for the request in flight (its context is canceled).
func (p *ProducerIDs) Close() {
	p.mu.Lock()
	p.mu.closed = true
	p.mu.Unlock()
	p.cancel()
	p.wg.Wait()
}
