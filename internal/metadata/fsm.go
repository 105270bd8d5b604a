package metadata

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
)

// ErrClosed: the FSM is closed.
var ErrClosed = errors.New("metadata: closed")

// FSMOptions configure NewFSM.
type FSMOptions struct {
	// ClusterID goes into every image (it comes from meta.properties, not the log).
	ClusterID string
	Logger    *slog.Logger
}

// FSM is the metadata log's state machine: the quorum applies committed entries to it, it
// keeps the current Image, and it publishes image changes to subscribers.
//
// Publishing: one goroutine, owned by the FSM, calls each subscriber with (prev, next,
// Diff(prev, next)) in commit order. It is bounded by coalescing, not by a queue: Apply only
// swaps the current image and wakes the publisher, so a slow subscriber never holds up the
// quorum; instead it is next called with the newest image and the merged delta since the
// image it saw last (intermediate images are skipped). A subscriber must not block for long:
// it delays the others. A new subscriber's first call has the empty image as prev, so it
// sees everything as created.
type FSM struct {
	logger *slog.Logger
	empty  *Image

	wake chan struct{} // capacity 1: "the current image changed"
	done chan struct{}
	wg   sync.WaitGroup

	mu struct {
		sync.Mutex
		current *Image
		// advanced is closed and replaced whenever current changes (WaitForOffset).
		advanced chan struct{}
		subs     map[int]*subscriber
		nextID   int
		closed   bool
	}
}

type subscriber struct {
	fn   func(prev, next *Image, d *Delta)
	last *Image // owned by the publisher goroutine
}

// NewFSM returns an FSM holding the empty image and starts its publisher.
func NewFSM(o FSMOptions) *FSM {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	f := &FSM{
		logger: o.Logger,
		empty:  Empty(o.ClusterID),
		wake:   make(chan struct{}, 1),
		done:   make(chan struct{}),
	}
	f.mu.current = f.empty
	f.mu.advanced = make(chan struct{})
	f.mu.subs = map[int]*subscriber{}
	f.wg.Add(1)
	go f.publish()
	return f
}

// Current returns the latest applied image.
func (f *FSM) Current() *Image {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.mu.current
}

// WaitForOffset returns the current image once it reflects raft index offset (an index
// returned by quorum Propose, i.e. of an entry proposed by Sluice; raft's own no-op and
// configuration entries do not advance the image).
func (f *FSM) WaitForOffset(ctx context.Context, offset uint64) (*Image, error) {
	for {
		f.mu.Lock()
		cur, ch, closed := f.mu.current, f.mu.advanced, f.mu.closed
		f.mu.Unlock()
		if cur.Offset >= offset {
			return cur, nil
		}
		if closed {
			return nil, ErrClosed
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Apply applies one committed raft entry. An entry that does not decode or apply is skipped
// whole (the image keeps its content but its offset advances, so waiters are released); the
// error goes back to the proposer and is logged. Every node skips it alike, since the check
// depends only on the image and the entry.
func (f *FSM) Apply(index, term uint64, data []byte) error {
	cur := f.Current()
	recs, err := DecodeEntry(data)
	next := cur
	if err == nil {
		next, err = cur.Apply(index, term, recs)
	}
	if err != nil {
		f.logger.Error("skipped a metadata log entry", "offset", index, "err", err)
		c := *cur
		c.Offset, c.Epoch = index, term
		next = &c
	}
	f.set(next)
	return err
}

// Snapshot captures the current image; the returned WriterTo writes it (concurrently with
// later Applies, which never modify it).
func (f *FSM) Snapshot() (io.WriterTo, error) {
	return imageWriter{f.Current()}, nil
}

type imageWriter struct{ im *Image }

func (w imageWriter) WriteTo(out io.Writer) (int64, error) { return WriteSnapshot(out, w.im) }

// Restore replaces the image with a snapshot's.
func (f *FSM) Restore(r io.Reader) error {
	im, err := ReadSnapshot(r, f.empty.ClusterID)
	if err != nil {
		return err
	}
	f.set(im)
	return nil
}

func (f *FSM) set(im *Image) {
	f.mu.Lock()
	f.mu.current = im
	close(f.mu.advanced)
	f.mu.advanced = make(chan struct{})
	f.mu.Unlock()
	f.signal()
}

func (f *FSM) signal() {
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// Subscribe registers fn to be called from the publisher goroutine (see FSM). cancel stops
// further calls, except one already under way.
func (f *FSM) Subscribe(fn func(prev, next *Image, d *Delta)) (cancel func()) {
	f.mu.Lock()
	id := f.mu.nextID
	f.mu.nextID++
	f.mu.subs[id] = &subscriber{fn: fn, last: f.empty}
	f.mu.Unlock()
	f.signal()
	return func() {
		f.mu.Lock()
		delete(f.mu.subs, id)
		f.mu.Unlock()
	}
}

func (f *FSM) publish() {
	defer f.wg.Done()
	for {
		select {
		case <-f.done:
			return
		case <-f.wake:
		}
		f.mu.Lock()
		cur := f.mu.current
		subs := make([]*subscriber, 0, len(f.mu.subs))
		for _, s := range f.mu.subs {
			subs = append(subs, s)
		}
		f.mu.Unlock()
		deltas := map[*Image]*Delta{} // subscribers usually share their last image
		for _, s := range subs {
			if s.last == cur {
				continue
			}
			d, ok := deltas[s.last]
			if !ok {
				d = Diff(s.last, cur)
				deltas[s.last] = d
			}
			s.fn(s.last, cur, d)
			s.last = cur
		}
	}
}

// Close stops the publisher (waiting for a call under way) and releases WaitForOffset
// callers with ErrClosed.
func (f *FSM) Close() {
	f.mu.Lock()
	if f.mu.closed {
		f.mu.Unlock()
		return
	}
	f.mu.closed = true
	close(f.mu.advanced)
	f.mu.advanced = make(chan struct{})
	f.mu.Unlock()
	close(f.done)
	f.wg.Wait()
}
