package server

import (
	"math/bits"
	"sync"
	"time"

	"github.com/sluicehq/sluice/internal/protocol/wire"
)

// budget is a FIFO counting semaphore over bytes (or request slots). It bounds what every
// connection together holds: the bytes of requests read from sockets and not yet handled
// (Kafka's queued.max.request.bytes idea), and the number of requests read but not yet taken
// by their connection's processor (queued.max.requests).
//
// Waiters are served in arrival order, so a large request waiting for room is not starved by
// a stream of small ones that would otherwise always fit first.
type budget struct {
	capacity int64
	mu       struct {
		sync.Mutex
		avail   int64
		waiters []*budgetWaiter // FIFO
	}
}

type budgetWaiter struct {
	n     int64
	ready chan struct{} // closed once the bytes are granted
}

func newBudget(capacity int64) *budget {
	b := &budget{capacity: capacity}
	b.mu.avail = capacity
	return b
}

// acquire takes n units, waiting in line until they are free or until either cancel channel
// is closed (then it reports false and holds nothing). n above the capacity is clamped to the
// capacity so that a request the caller already allowed can still be admitted, alone.
func (b *budget) acquire(n int64, cancel1, cancel2 <-chan struct{}) bool {
	n = min(n, b.capacity)
	b.mu.Lock()
	if len(b.mu.waiters) == 0 && b.mu.avail >= n {
		b.mu.avail -= n
		b.mu.Unlock()
		return true
	}
	w := &budgetWaiter{n: n, ready: make(chan struct{})}
	b.mu.waiters = append(b.mu.waiters, w)
	b.mu.Unlock()

	select {
	case <-w.ready:
		return true
	case <-cancel1:
	case <-cancel2:
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	select {
	case <-w.ready:
		// Granted while we were giving up: hand the units back.
		b.mu.avail += n
		b.grantLocked()
	default:
		for i, x := range b.mu.waiters {
			if x == w {
				b.mu.waiters = append(b.mu.waiters[:i], b.mu.waiters[i+1:]...)
				break
			}
		}
		// Removing the head may let the next waiter in.
		b.grantLocked()
	}
	return false
}

// release returns n units (the same n given to acquire).
func (b *budget) release(n int64) {
	n = min(n, b.capacity)
	b.mu.Lock()
	b.mu.avail += n
	b.grantLocked()
	b.mu.Unlock()
}

func (b *budget) grantLocked() {
	for len(b.mu.waiters) > 0 {
		w := b.mu.waiters[0]
		if b.mu.avail < w.n {
			return
		}
		b.mu.avail -= w.n
		b.mu.waiters[0] = nil
		b.mu.waiters = b.mu.waiters[1:]
		close(w.ready)
	}
}

// available reports the free units (tests and metrics).
func (b *budget) available() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.mu.avail
}

// Buffer pools. Request frames and response writers are reused through size-classed
// sync.Pools; the garbage collector empties pools it finds idle, so they never pin memory
// after a burst. Buffers above the largest class are allocated for one use and dropped, so
// one 100 MiB request does not keep 100 MiB alive in a pool.
const (
	minPooledShift = 10 // 1 KiB
	maxPooledShift = 20 // 1 MiB
	// maxPooledWriterBytes bounds the buffer capacity a response writer may keep when
	// returned to the pool.
	maxPooledWriterBytes = 1 << maxPooledShift
)

// framePools hold *frame values with their buffers, one pool per size class, so reading a
// request allocates nothing in the steady state.
var framePools [maxPooledShift - minPooledShift + 1]sync.Pool

// getFrame returns a frame whose buf has length n, pooled when n fits a class.
func getFrame(n int) *frame {
	c := sizeClass(n)
	if c < 0 {
		return &frame{buf: make([]byte, n)}
	}
	if f, ok := framePools[c].Get().(*frame); ok {
		f.buf = f.buf[:n]
		return f
	}
	return &frame{buf: make([]byte, n, 1<<(c+minPooledShift))}
}

// putFrame returns a frame from getFrame to its pool (frames above the largest class are
// dropped).
func putFrame(f *frame) {
	c := sizeClass(cap(f.buf))
	if c < 0 || cap(f.buf) != 1<<(c+minPooledShift) {
		return
	}
	f.readAt = time.Time{}
	framePools[c].Put(f)
}

// sizeClass is the index of the smallest class holding n bytes, or -1 above the largest.
func sizeClass(n int) int {
	if n <= 1<<minPooledShift {
		return 0
	}
	shift := bits.Len(uint(n - 1))
	if shift > maxPooledShift {
		return -1
	}
	return shift - minPooledShift
}

var writerPool = sync.Pool{New: func() any { return wire.NewWriter(make([]byte, 0, 4096)) }}

func getWriter() *wire.Writer { return writerPool.Get().(*wire.Writer) }

func putWriter(w *wire.Writer) {
	if cap(w.Buffer()) > maxPooledWriterBytes {
		return
	}
	w.Reset()
	writerPool.Put(w)
}
