package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/sluicehq/sluice/internal/record"
)

// ProducerBatchesKept is how many recent batches per producer are remembered for duplicate
// detection; Kafka's clients keep at most five requests in flight with idempotence on.
const ProducerBatchesKept = 5

// ProducerBatch describes one batch appended by an idempotent producer.
type ProducerBatch struct {
	FirstSeq, LastSeq       int32
	FirstOffset, LastOffset int64
	TimestampMs             int64
}

// ProducerEntry is the state of one producer id in one partition.
type ProducerEntry struct {
	ProducerID int64
	Epoch      int16
	// Batches holds the last ProducerBatchesKept batches, oldest first. After a restart from
	// a snapshot only the newest is known (Kafka's snapshot format keeps one).
	Batches         []ProducerBatch
	LastTimestampMs int64
	// Reserved for transactions: the epoch of the coordinator that wrote the last marker,
	// and the first offset of the producer's open transaction (-1 when none).
	CoordinatorEpoch      int32
	CurrentTxnFirstOffset int64
}

// LastSeq is the sequence of the newest batch, -1 when none is known.
func (e *ProducerEntry) LastSeq() int32 {
	if n := len(e.Batches); n > 0 {
		return e.Batches[n-1].LastSeq
	}
	return -1
}

// CheckProducerBatch applies Kafka's idempotence checks to a batch about to be appended by
// the leader, against entry (found=false when the producer is unknown here):
//
//   - an epoch older than the known one: ErrInvalidProducerEpoch;
//   - a batch equal (same epoch, first and last sequence) to one of the last five:
//     ErrDuplicateSequence with the original batch, whose offsets answer the client;
//   - a sequence that does not follow the last one (or, on a new epoch, is not 0):
//     ErrOutOfOrderSequence.
//
// Batches without a producer id, and control batches, pass.
func CheckProducerBatch(entry ProducerEntry, found bool, b record.Batch) (ProducerBatch, error) {
	if !found {
		return checkProducer(b, false, 0, 0, nil)
	}
	return checkProducer(b, true, entry.ProducerID, entry.Epoch, entry.Batches)
}

// checkProducer is CheckProducerBatch on the parts of an entry, so that the log's hot path
// can check against a snapshot held on the stack (batches oldest first).
func checkProducer(b record.Batch, found bool, pid int64, epoch int16, batches []ProducerBatch) (ProducerBatch, error) {
	if !b.HasProducerID() || b.IsControl() {
		return ProducerBatch{}, nil
	}
	bEpoch, first, last := b.ProducerEpoch(), b.BaseSequence(), b.LastSequence()
	if !found {
		// Unknown producer (new, or its state expired or was deleted with its segments):
		// Kafka accepts any sequence.
		return ProducerBatch{}, nil
	}
	if bEpoch < epoch {
		return ProducerBatch{}, fmt.Errorf("%w: producer %d epoch %d, current %d",
			ErrInvalidProducerEpoch, pid, bEpoch, epoch)
	}
	if bEpoch == epoch {
		for _, pb := range batches {
			if pb.FirstSeq == first && pb.LastSeq == last {
				return pb, fmt.Errorf("%w: producer %d sequences %d..%d at offset %d",
					ErrDuplicateSequence, pid, first, last, pb.FirstOffset)
			}
		}
		lastSeq := int32(-1)
		if n := len(batches); n > 0 {
			lastSeq = batches[n-1].LastSeq
		}
		if !inSequence(lastSeq, first) {
			return ProducerBatch{}, fmt.Errorf("%w: producer %d sequence %d after %d",
				ErrOutOfOrderSequence, pid, first, lastSeq)
		}
		return ProducerBatch{}, nil
	}
	if first != 0 {
		return ProducerBatch{}, fmt.Errorf("%w: producer %d new epoch %d starts at sequence %d",
			ErrOutOfOrderSequence, pid, bEpoch, first)
	}
	return ProducerBatch{}, nil
}

func inSequence(last, next int32) bool {
	return int64(next) == int64(last)+1 || (next == 0 && last == math.MaxInt32)
}

// producerState tracks every producer id seen in the log. The log's writer (and the
// housekeeping: expiry) change it; the replica's idempotence check reads it on every
// produce, without a lock and without copying to the heap:
//
//   - the id -> slot map is a sync.Map: a slot is created once per producer id and then
//     only read through the map, the case sync.Map's lock-free Load is made for;
//   - each slot is a sequence lock over typed atomics: a writer (serialized by mu) makes
//     seq odd, stores the fields, makes seq even again; a reader loads seq, the fields and
//     seq again, and retries unless both loads returned the same even value.
//
// Why the reader's copy is consistent: Go's atomics are sequentially consistent, so all of
// them fall in one total order that respects each goroutine's program order. If both seq
// loads return the same even value v, no writer increment lies between them in that order;
// every field load, which lies between them, therefore returns the value of a store made
// before the first seq load (a write section that completed, ending at v) and none made by
// a section that starts later (its stores follow its increment, which follows the second
// seq load). Every field being an atomic also keeps the race detector right. A slot pointer
// obtained from the map may be deleted from it meanwhile (expiry, truncation): the reader
// then sees the state as of just before the deletion, as if it had read first.
type producerState struct {
	mu    sync.Mutex // serializes writers; readers never take it
	slots sync.Map   // int64 producer id -> *producerSlot
	n     atomic.Int64
}

type producerSlot struct {
	pid        int64         // immutable
	seq        atomic.Uint64 // odd while a writer changes the slot
	epoch      atomic.Int32  // int16 producer epoch
	lastTs     atomic.Int64
	coordEpoch atomic.Int32
	txnFirst   atomic.Int64
	count      atomic.Int32 // batches held, 0..ProducerBatchesKept
	head       atomic.Int32 // ring index of the oldest batch
	ring       [ProducerBatchesKept]slotBatch
}

type slotBatch struct {
	firstSeq, lastSeq atomic.Int32
	firstOff, lastOff atomic.Int64
	timestampMs       atomic.Int64
}

// producerSnap is a consistent copy of a slot, held by value (no heap).
type producerSnap struct {
	pid        int64
	epoch      int16
	lastTs     int64
	coordEpoch int32
	txnFirst   int64
	n          int
	batches    [ProducerBatchesKept]ProducerBatch // oldest first
}

func (s *producerSnap) entry() ProducerEntry {
	return ProducerEntry{ProducerID: s.pid, Epoch: s.epoch, LastTimestampMs: s.lastTs,
		CoordinatorEpoch: s.coordEpoch, CurrentTxnFirstOffset: s.txnFirst,
		Batches: append([]ProducerBatch(nil), s.batches[:s.n]...)}
}

// read copies the slot into snap, retrying while a writer is inside.
func (s *producerSlot) read(snap *producerSnap) {
	for spins := 0; ; spins++ {
		v := s.seq.Load()
		if v&1 == 0 {
			snap.pid = s.pid
			snap.epoch = int16(s.epoch.Load())
			snap.lastTs = s.lastTs.Load()
			snap.coordEpoch = s.coordEpoch.Load()
			snap.txnFirst = s.txnFirst.Load()
			n, head := int(s.count.Load()), int(s.head.Load())
			if n >= 0 && n <= ProducerBatchesKept && head >= 0 && head < ProducerBatchesKept {
				snap.n = n
				for i := 0; i < n; i++ {
					rb := &s.ring[(head+i)%ProducerBatchesKept]
					snap.batches[i] = ProducerBatch{FirstSeq: rb.firstSeq.Load(), LastSeq: rb.lastSeq.Load(),
						FirstOffset: rb.firstOff.Load(), LastOffset: rb.lastOff.Load(), TimestampMs: rb.timestampMs.Load()}
				}
				if s.seq.Load() == v {
					return
				}
			}
		}
		if spins >= 16 {
			runtime.Gosched() // the writer was preempted inside its section
		}
	}
}

// The write section helpers; callers hold producerState.mu.
func (s *producerSlot) begin() { s.seq.Add(1) }
func (s *producerSlot) end()   { s.seq.Add(1) }

func (s *producerSlot) pushLocked(pb ProducerBatch) {
	n, head := int(s.count.Load()), int(s.head.Load())
	var i int
	if n == ProducerBatchesKept {
		i = head
		s.head.Store(int32((head + 1) % ProducerBatchesKept))
	} else {
		i = (head + n) % ProducerBatchesKept
		s.count.Store(int32(n + 1))
	}
	rb := &s.ring[i]
	rb.firstSeq.Store(pb.FirstSeq)
	rb.lastSeq.Store(pb.LastSeq)
	rb.firstOff.Store(pb.FirstOffset)
	rb.lastOff.Store(pb.LastOffset)
	rb.timestampMs.Store(pb.TimestampMs)
}

// newestLocked returns the newest batch, ok=false when none.
func (s *producerSlot) newestLocked() (ProducerBatch, bool) {
	n := int(s.count.Load())
	if n == 0 {
		return ProducerBatch{}, false
	}
	rb := &s.ring[(int(s.head.Load())+n-1)%ProducerBatchesKept]
	return ProducerBatch{FirstSeq: rb.firstSeq.Load(), LastSeq: rb.lastSeq.Load(), FirstOffset: rb.firstOff.Load(),
		LastOffset: rb.lastOff.Load(), TimestampMs: rb.timestampMs.Load()}, true
}

func newProducerState() *producerState { return &producerState{} }

func (p *producerState) slot(pid int64) *producerSlot {
	if v, ok := p.slots.Load(pid); ok {
		return v.(*producerSlot)
	}
	return nil
}

// snapshot copies producer pid's state into snap; false when the producer is unknown.
func (p *producerState) snapshot(pid int64, snap *producerSnap) bool {
	s := p.slot(pid)
	if s == nil {
		return false
	}
	s.read(snap)
	return true
}

func (p *producerState) get(pid int64) (ProducerEntry, bool) {
	var snap producerSnap
	if !p.snapshot(pid, &snap) {
		return ProducerEntry{}, false
	}
	return snap.entry(), true
}

// all returns a copy of every entry, sorted by producer id.
func (p *producerState) all() []ProducerEntry {
	var out []ProducerEntry
	var snap producerSnap
	p.slots.Range(func(_, v any) bool {
		v.(*producerSlot).read(&snap)
		out = append(out, snap.entry())
		return true
	})
	sort.Slice(out, func(i, j int) bool { return out[i].ProducerID < out[j].ProducerID })
	return out
}

// lastOffsets maps every producer id to the last offset of its newest batch (compaction
// keeps those batches).
func (p *producerState) lastOffsets() map[int64]int64 {
	m := map[int64]int64{}
	var snap producerSnap
	p.slots.Range(func(_, v any) bool {
		v.(*producerSlot).read(&snap)
		if snap.n > 0 {
			m[snap.pid] = snap.batches[snap.n-1].LastOffset
		}
		return true
	})
	return m
}

func (p *producerState) count() int { return int(p.n.Load()) }

// setLocked installs a slot holding e (replacing any).
func (p *producerState) setLocked(e *ProducerEntry) {
	s := &producerSlot{pid: e.ProducerID}
	s.epoch.Store(int32(e.Epoch))
	s.lastTs.Store(e.LastTimestampMs)
	s.coordEpoch.Store(e.CoordinatorEpoch)
	s.txnFirst.Store(e.CurrentTxnFirstOffset)
	batches := e.Batches
	if len(batches) > ProducerBatchesKept {
		batches = batches[len(batches)-ProducerBatchesKept:]
	}
	for _, pb := range batches {
		s.pushLocked(pb)
	}
	if _, loaded := p.slots.Swap(e.ProducerID, s); !loaded {
		p.n.Add(1)
	}
}

func (p *producerState) deleteLocked(pid int64) {
	if _, loaded := p.slots.LoadAndDelete(pid); loaded {
		p.n.Add(-1)
	}
}

// update applies an appended batch. Control batches end the producer's transaction.
func (p *producerState) update(b record.Batch) {
	if !b.HasProducerID() {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	pid := b.ProducerID()
	s := p.slot(pid)
	if s == nil {
		p.setLocked(&ProducerEntry{ProducerID: pid, Epoch: b.ProducerEpoch(), CoordinatorEpoch: -1, CurrentTxnFirstOffset: -1})
		s = p.slot(pid)
	}
	s.begin()
	defer s.end()
	if b.ProducerEpoch() != int16(s.epoch.Load()) {
		s.epoch.Store(int32(b.ProducerEpoch()))
		s.count.Store(0)
		s.head.Store(0)
	}
	s.lastTs.Store(b.MaxTimestamp())
	if b.IsControl() {
		if _, coordEpoch, ok := controlRecord(b); ok {
			s.coordEpoch.Store(coordEpoch)
		}
		s.txnFirst.Store(-1)
		return
	}
	if b.BaseSequence() >= 0 {
		s.pushLocked(ProducerBatch{
			FirstSeq: b.BaseSequence(), LastSeq: b.LastSequence(),
			FirstOffset: b.BaseOffset(), LastOffset: b.LastOffset(), TimestampMs: b.MaxTimestamp(),
		})
	}
	if b.IsTransactional() && s.txnFirst.Load() < 0 {
		s.txnFirst.Store(b.BaseOffset())
	}
}

// truncate drops producers whose state lies wholly at or above endOffset, and batches above
// it (log truncation). Entries that only lose part of their history keep the rest, as a
// snapshot reload would.
func (p *producerState) truncate(endOffset int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.slots.Range(func(k, v any) bool {
		s := v.(*producerSlot)
		s.begin()
		for {
			nb, ok := s.newestLocked()
			if !ok || nb.LastOffset < endOffset {
				break
			}
			s.count.Add(-1)
		}
		if s.txnFirst.Load() >= endOffset {
			s.txnFirst.Store(-1)
		}
		empty := s.count.Load() == 0 && s.txnFirst.Load() < 0
		s.end()
		if empty {
			p.deleteLocked(s.pid)
		}
		return true
	})
}

// removeBefore drops producers whose last batch lies below the log start offset (Kafka does
// this when the log start moves).
func (p *producerState) removeBefore(logStart int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var snap producerSnap
	p.slots.Range(func(_, v any) bool {
		v.(*producerSlot).read(&snap)
		if snap.n > 0 && snap.batches[snap.n-1].LastOffset < logStart && snap.txnFirst < 0 {
			p.deleteLocked(snap.pid)
		}
		return true
	})
}

// expire drops producers idle for expirationMs without an open transaction
// (producer.id.expiration.ms).
func (p *producerState) expire(nowMs, expirationMs int64) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	var snap producerSnap
	p.slots.Range(func(_, v any) bool {
		v.(*producerSlot).read(&snap)
		if snap.txnFirst < 0 && nowMs-snap.lastTs >= expirationMs {
			p.deleteLocked(snap.pid)
			n++
		}
		return true
	})
	return n
}

func (p *producerState) clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clearLocked()
}

func (p *producerState) clearLocked() {
	p.slots.Range(func(k, _ any) bool {
		p.deleteLocked(k.(int64))
		return true
	})
}

// replace installs the entries of a loaded snapshot.
func (p *producerState) replace(m map[int64]*ProducerEntry) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clearLocked()
	for _, e := range m {
		p.setLocked(e)
	}
}

// Producer snapshot file (Kafka's version 1), all integers big-endian:
//
//	version int16 (1) | crc uint32 (CRC32C of everything after it) | count int32 | entries
//	entry: producerId int64, epoch int16, lastSequence int32, lastOffset int64,
//	       offsetDelta int32, timestamp int64, coordinatorEpoch int32, currentTxnFirstOffset int64
const (
	snapshotVersion   = 1
	snapshotHeader    = 2 + 4 + 4
	snapshotEntrySize = 8 + 2 + 4 + 8 + 4 + 8 + 4 + 8
)

func (p *producerState) encodeSnapshot() []byte {
	// Writers hold mu: the snapshot is one consistent state of every producer.
	p.mu.Lock()
	defer p.mu.Unlock()
	var snaps []producerSnap
	p.slots.Range(func(_, v any) bool {
		var s producerSnap
		v.(*producerSlot).read(&s)
		snaps = append(snaps, s)
		return true
	})
	sort.Slice(snaps, func(i, j int) bool { return snaps[i].pid < snaps[j].pid })
	buf := make([]byte, snapshotHeader, snapshotHeader+len(snaps)*snapshotEntrySize)
	binary.BigEndian.PutUint16(buf, snapshotVersion)
	binary.BigEndian.PutUint32(buf[6:], uint32(len(snaps)))
	for i := range snaps {
		e := &snaps[i]
		lastSeq, lastOff, delta := int32(-1), int64(-1), int32(0)
		if e.n > 0 {
			lb := e.batches[e.n-1]
			lastSeq, lastOff = lb.LastSeq, lb.LastOffset
			delta = int32(lb.LastOffset - lb.FirstOffset)
		}
		buf = binary.BigEndian.AppendUint64(buf, uint64(e.pid))
		buf = binary.BigEndian.AppendUint16(buf, uint16(e.epoch))
		buf = binary.BigEndian.AppendUint32(buf, uint32(lastSeq))
		buf = binary.BigEndian.AppendUint64(buf, uint64(lastOff))
		buf = binary.BigEndian.AppendUint32(buf, uint32(delta))
		buf = binary.BigEndian.AppendUint64(buf, uint64(e.lastTs))
		buf = binary.BigEndian.AppendUint32(buf, uint32(e.coordEpoch))
		buf = binary.BigEndian.AppendUint64(buf, uint64(e.txnFirst))
	}
	binary.BigEndian.PutUint32(buf[2:], crc32.Checksum(buf[6:], castagnoli))
	return buf
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func decodeSnapshot(path string, data []byte) (map[int64]*ProducerEntry, error) {
	if len(data) < snapshotHeader {
		return nil, corruptf(path, "snapshot of %d bytes", len(data))
	}
	if v := int16(binary.BigEndian.Uint16(data)); v != snapshotVersion {
		return nil, corruptf(path, "snapshot version %d", v)
	}
	if got, want := crc32.Checksum(data[6:], castagnoli), binary.BigEndian.Uint32(data[2:]); got != want {
		return nil, corruptf(path, "snapshot crc %08x, header says %08x", got, want)
	}
	n := int64(int32(binary.BigEndian.Uint32(data[6:])))
	if n < 0 || n*snapshotEntrySize != int64(len(data)-snapshotHeader) {
		return nil, corruptf(path, "snapshot count %d for %d bytes", n, len(data))
	}
	m := make(map[int64]*ProducerEntry, n)
	for e := data[snapshotHeader:]; len(e) >= snapshotEntrySize; e = e[snapshotEntrySize:] {
		pe := &ProducerEntry{
			ProducerID:            int64(binary.BigEndian.Uint64(e)),
			Epoch:                 int16(binary.BigEndian.Uint16(e[8:])),
			LastTimestampMs:       int64(binary.BigEndian.Uint64(e[26:])),
			CoordinatorEpoch:      int32(binary.BigEndian.Uint32(e[34:])),
			CurrentTxnFirstOffset: int64(binary.BigEndian.Uint64(e[38:])),
		}
		lastSeq := int32(binary.BigEndian.Uint32(e[10:]))
		lastOff := int64(binary.BigEndian.Uint64(e[14:]))
		delta := int32(binary.BigEndian.Uint32(e[22:]))
		if lastOff >= 0 && lastSeq >= 0 && delta >= 0 {
			pe.Batches = []ProducerBatch{{
				FirstSeq: max(0, lastSeq-delta), LastSeq: lastSeq,
				FirstOffset: lastOff - int64(delta), LastOffset: lastOff, TimestampMs: pe.LastTimestampMs,
			}}
		}
		m[pe.ProducerID] = pe
	}
	return m, nil
}

func snapshotPath(dir string, offset int64) string {
	return filepath.Join(dir, segmentFileName(offset, snapshotSuffix))
}

// writeSnapshot writes <offset>.snapshot through a temporary file. With durable it is synced
// (clean shutdown); otherwise a crash may leave it torn, which its CRC detects.
func (p *producerState) writeSnapshot(fsys FS, dir string, offset int64, durable bool) error {
	data := p.encodeSnapshot()
	if durable {
		return writeFileAtomic(fsys, snapshotPath(dir, offset), data)
	}
	tmp := snapshotPath(dir, offset) + ".tmp"
	f, err := fsys.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	_, err = f.WriteAt(data, 0)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return fsys.Rename(tmp, snapshotPath(dir, offset))
}

// controlRecord parses the single record of an uncompressed control batch: the key's type
// (0 abort, 1 commit) and the value's coordinator epoch.
func controlRecord(b record.Batch) (typ int16, coordEpoch int32, ok bool) {
	if b.Compression() != record.CompressionNone || len(b) < record.HeaderSize {
		return 0, 0, false
	}
	var key, val []byte
	err := forEachRecord(b.Records(), 1, func(r rawRecord) bool {
		key, val = r.key, r.value
		return false
	})
	if err != nil && !errors.Is(err, errStop) || len(key) < 4 || len(val) < 6 {
		return 0, 0, false
	}
	return int16(binary.BigEndian.Uint16(key[2:])), int32(binary.BigEndian.Uint32(val[2:])), true
}
