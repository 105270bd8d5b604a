package txn

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// blockSource is the controller's side in miniature: consecutive blocks of size ids, or the
// error (and blocking behaviour) a test asks for.
type blockSource struct {
	size  int32
	calls chan struct{} // one send per AllocateBlock call, if non-nil (buffered by the test)
	mu    struct {
		sync.Mutex
		next  int64
		err   error
		gate  chan struct{} // when non-nil, calls wait for it (or ctx)
		count int
	}
}

func (s *blockSource) AllocateBlock(ctx context.Context) (int64, int32, error) {
	s.mu.Lock()
	s.mu.count++
	gate, err := s.mu.gate, s.mu.err
	s.mu.Unlock()
	if s.calls != nil {
		s.calls <- struct{}{}
	}
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return 0, 0, ctx.Err()
		}
	}
	if err != nil {
		return 0, 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	first := s.mu.next
	s.mu.next += int64(s.size)
	return first, s.size, nil
}

func (s *blockSource) setErr(err error) {
	s.mu.Lock()
	s.mu.err = err
	s.mu.Unlock()
}

func (s *blockSource) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mu.count
}

func TestProducerIDsSequentialAcrossBlocks(t *testing.T) {
	src := &blockSource{size: 10}
	p, err := NewProducerIDs(ProducerIDsOptions{Source: src})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx := context.Background()
	for want := int64(0); want < 95; want++ {
		id, err := p.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if id != want {
			t.Fatalf("id %d, want %d", id, want)
		}
	}
}

func TestProducerIDsPrefetchAtNinetyPercent(t *testing.T) {
	src := &blockSource{size: 10, calls: make(chan struct{}, 4)}
	p, err := NewProducerIDs(ProducerIDsOptions{Source: src})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	<-src.calls // the first block, requested by the constructor
	ctx := context.Background()
	for i := 0; i < 8; i++ {
		if _, err := p.Next(ctx); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-src.calls:
		t.Fatal("next block requested before 90% of the current one was used")
	default:
	}
	if _, err := p.Next(ctx); err != nil { // the 9th of 10: 90%
		t.Fatal(err)
	}
	<-src.calls // the prefetch: the test hangs (and times out) if it never comes
	// The 10th id comes from the current block, the 11th from the prefetched one.
	for want := int64(9); want <= 10; want++ {
		if id, err := p.Next(ctx); err != nil || id != want {
			t.Fatalf("id %d, %v; want %d", id, err, want)
		}
	}
}

func TestProducerIDsConcurrentUnique(t *testing.T) {
	src := &blockSource{size: 7}
	p, err := NewProducerIDs(ProducerIDsOptions{Source: src})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	const workers, each = 8, 200
	ids := make(chan int64, workers*each)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				id, err := p.Next(context.Background())
				if err != nil {
					t.Error(err)
					return
				}
				ids <- id
			}
		}()
	}
	wg.Wait()
	close(ids)
	seen := map[int64]bool{}
	for id := range ids {
		if seen[id] {
			t.Fatalf("id %d handed out twice", id)
		}
		seen[id] = true
	}
	if len(seen) != workers*each {
		t.Fatalf("%d ids, want %d", len(seen), workers*each)
	}
	// At most one block is prefetched ahead: requests stay close to what was used.
	if n, used := src.count(), workers*each/7+1; n > used+2 {
		t.Fatalf("%d block requests for %d blocks used", n, used)
	}
}

func TestProducerIDsFailureBacksOff(t *testing.T) {
	var nowMs atomic.Int64
	now := func() time.Time { return time.UnixMilli(nowMs.Load()) }
	boom := errors.New("controller unavailable")
	src := &blockSource{size: 5}
	src.setErr(boom)
	p, err := NewProducerIDs(ProducerIDsOptions{Source: src, Now: now, RetryBackoffMs: 1000})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx := context.Background()
	// The first Next waits for the constructor's request, which fails.
	if _, err := p.Next(ctx); !errors.Is(err, ErrLoadInProgress) {
		t.Fatalf("err %v, want ErrLoadInProgress", err)
	}
	calls := src.count()
	if _, err := p.Next(ctx); !errors.Is(err, ErrLoadInProgress) || !errors.Is(err, boom) {
		t.Fatalf("err %v, want ErrLoadInProgress wrapping the cause", err)
	}
	if src.count() != calls {
		t.Fatal("a new request was sent during the backoff")
	}
	src.setErr(nil)
	nowMs.Add(1001)
	id, err := p.Next(ctx)
	if err != nil || id != 0 {
		t.Fatalf("after the backoff: id %d, err %v", id, err)
	}
}

func TestProducerIDsWaitBoundedByContext(t *testing.T) {
	src := &blockSource{size: 5}
	gate := make(chan struct{})
	src.mu.gate = gate
	p, err := NewProducerIDs(ProducerIDsOptions{Source: src})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.Next(ctx); !errors.Is(err, ErrLoadInProgress) || !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want ErrLoadInProgress wrapping context.Canceled", err)
	}
	// A waiting Next gets the block when it arrives.
	got := make(chan int64)
	go func() {
		id, err := p.Next(context.Background())
		if err != nil {
			t.Error(err)
		}
		got <- id
	}()
	close(gate)
	if id := <-got; id != 0 {
		t.Fatalf("id %d, want 0", id)
	}
	p.Close()
	if _, err := p.Next(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
}

func TestProducerIDsCloseCancelsRequest(t *testing.T) {
	src := &blockSource{size: 5}
	src.mu.gate = make(chan struct{}) // never opened: only Close's cancel ends the request
	p, err := NewProducerIDs(ProducerIDsOptions{Source: src})
	if err != nil {
		t.Fatal(err)
	}
	p.Close() // must return: goleak checks the request goroutine is gone
}

func TestProducerIDsRejectsInvalidBlock(t *testing.T) {
	p, err := NewProducerIDs(ProducerIDsOptions{Source: badSource{}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if _, err := p.Next(context.Background()); !errors.Is(err, ErrLoadInProgress) {
		t.Fatalf("err %v, want ErrLoadInProgress", err)
	}
}

type badSource struct{}

func (badSource) AllocateBlock(context.Context) (int64, int32, error) { return 10, 0, nil }
