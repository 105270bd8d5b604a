package replica

import (
	"context"
	"sync"
	"sync/atomic"
)

// Waiter lets a fetch over many partitions sleep until one of them has something new (the
// fetch long poll), woken by the partitions themselves rather than by polling:
//
//	w := m.NewWaiter()
//	defer w.Close()
//	for _, p := range parts { w.Watch(p) }      // before the first read: no wake is lost
//	for {
//		… read every partition; enough bytes (min_bytes) or an error: break …
//		if w.Wait(ctx) != nil { break }          // ctx: the fetch's max_wait_ms
//	}
//
// A watched partition wakes its waiters when its high watermark advances and when its
// leadership changes or it is removed; WatchLogEnd also wakes on every append (a follower
// reads up to the log end). A wake is a non-blocking send on a one-slot channel: wakes that
// arrive while the fetch is reading coalesce into one, none is lost, and no goroutine exists
// per waiter or per partition. A partition with no waiters pays one atomic load per append.
//
// A Waiter belongs to one goroutine; Close it to drop its registrations. The manager bounds
// the registrations of all Waiters together (ManagerOptions.MaxWaiterRegistrations).
type Waiter struct {
	m     *Manager
	ch    chan struct{}
	parts []*Partition
	// unbounded registrations (acks=all waits) do not count against the manager's bound:
	// the server already bounds produce requests in flight.
	unbounded bool
}

// NewWaiter returns a Waiter with no partitions.
func (m *Manager) NewWaiter() *Waiter {
	return &Waiter{m: m, ch: make(chan struct{}, 1)}
}

// Watch registers the waiter on p: high-watermark advances and leadership changes wake it.
// Watching a partition twice is harmless. ErrTooManyWaiters when the manager's bound is
// reached.
func (w *Waiter) Watch(p *Partition) error { return w.watch(p, false) }

// WatchLogEnd is Watch that also wakes on every advance of p's log end offset (followers).
func (w *Waiter) WatchLogEnd(p *Partition) error { return w.watch(p, true) }

func (w *Waiter) watch(p *Partition, logEnd bool) error {
	if !w.unbounded && w.m.waiterRegs.Add(1) > w.m.opts.MaxWaiterRegistrations {
		w.m.waiterRegs.Add(-1)
		return ErrTooManyWaiters
	}
	if !p.waiters.add(w, logEnd) {
		if !w.unbounded {
			w.m.waiterRegs.Add(-1)
		}
		return nil
	}
	w.parts = append(w.parts, p)
	return nil
}

// Wait blocks until a watched partition wakes the waiter (nil), ctx ends (ctx.Err()) or the
// manager closes (ErrClosed). A wake that arrived since the previous Wait returns at once.
func (w *Waiter) Wait(ctx context.Context) error {
	// A pending wake wins over an expired ctx: select would pick at random.
	select {
	case <-w.ch:
		return nil
	default:
	}
	// A fetch's wait is counted; an acks wait (unbounded) is counted by acknowledge.
	if !w.unbounded {
		w.m.waitingFetch.Add(1)
		defer w.m.waitingFetch.Add(-1)
	}
	select {
	case <-w.ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-w.m.closing:
		return ErrClosed
	}
}

// Close drops every registration. The Waiter can watch again afterwards.
func (w *Waiter) Close() {
	for _, p := range w.parts {
		p.waiters.remove(w)
	}
	if !w.unbounded {
		w.m.waiterRegs.Add(-int64(len(w.parts)))
	}
	clear(w.parts)
	w.parts = w.parts[:0]
}

func (w *Waiter) notify() {
	select {
	case w.ch <- struct{}{}:
	default:
	}
}

// waiterSet holds the waiters of one partition.
type waiterSet struct {
	n       atomic.Int32 // registered waiters: zero keeps wake at one atomic load
	nLogEnd atomic.Int32 // of which want log-end advances too
	mu      struct {
		sync.Mutex
		set map[*Waiter]bool // value: wake on log-end advances too
	}
}

// add registers w and reports whether it was new.
func (s *waiterSet) add(w *Waiter, logEnd bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.set == nil {
		s.mu.set = map[*Waiter]bool{}
	}
	old, ok := s.mu.set[w]
	if ok {
		if logEnd && !old {
			s.mu.set[w] = true
			s.nLogEnd.Add(1)
		}
		return false
	}
	s.mu.set[w] = logEnd
	s.n.Add(1)
	if logEnd {
		s.nLogEnd.Add(1)
	}
	return true
}

func (s *waiterSet) remove(w *Waiter) {
	s.mu.Lock()
	defer s.mu.Unlock()
	logEnd, ok := s.mu.set[w]
	if !ok {
		return
	}
	delete(s.mu.set, w)
	s.n.Add(-1)
	if logEnd {
		s.nLogEnd.Add(-1)
	}
}

// wake notifies the waiters of a high-watermark advance (logEnd false) or of a log-end
// advance (logEnd true, only the waiters that asked for it).
func (s *waiterSet) wake(logEnd bool) {
	if logEnd {
		if s.nLogEnd.Load() == 0 {
			return
		}
	} else if s.n.Load() == 0 {
		return
	}
	s.mu.Lock()
	for w, wantsLogEnd := range s.mu.set {
		if !logEnd || wantsLogEnd {
			w.notify()
		}
	}
	s.mu.Unlock()
}

// wakeAll notifies every waiter (a leadership change).
func (s *waiterSet) wakeAll() { s.wake(false) }
