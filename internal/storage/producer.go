package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"os"
	"path/filepath"
	"sort"
	"sync"

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

func (e *ProducerEntry) clone() ProducerEntry {
	c := *e
	c.Batches = append([]ProducerBatch(nil), e.Batches...)
	return c
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
	if !b.HasProducerID() || b.IsControl() {
		return ProducerBatch{}, nil
	}
	epoch, first, last := b.ProducerEpoch(), b.BaseSequence(), b.LastSequence()
	if !found {
		// Unknown producer (new, or its state expired or was deleted with its segments):
		// Kafka accepts any sequence.
		return ProducerBatch{}, nil
	}
	if epoch < entry.Epoch {
		return ProducerBatch{}, fmt.Errorf("%w: producer %d epoch %d, current %d",
			ErrInvalidProducerEpoch, entry.ProducerID, epoch, entry.Epoch)
	}
	if epoch == entry.Epoch {
		for _, pb := range entry.Batches {
			if pb.FirstSeq == first && pb.LastSeq == last {
				return pb, fmt.Errorf("%w: producer %d sequences %d..%d at offset %d",
					ErrDuplicateSequence, entry.ProducerID, first, last, pb.FirstOffset)
			}
		}
		if !inSequence(entry.LastSeq(), first) {
			return ProducerBatch{}, fmt.Errorf("%w: producer %d sequence %d after %d",
				ErrOutOfOrderSequence, entry.ProducerID, first, entry.LastSeq())
		}
		return ProducerBatch{}, nil
	}
	if first != 0 {
		return ProducerBatch{}, fmt.Errorf("%w: producer %d new epoch %d starts at sequence %d",
			ErrOutOfOrderSequence, entry.ProducerID, epoch, first)
	}
	return ProducerBatch{}, nil
}

func inSequence(last, next int32) bool {
	return int64(next) == int64(last)+1 || (next == 0 && last == math.MaxInt32)
}

// producerState tracks every producer id seen in the log. It is changed by the log's writer
// and read by the replica's checks.
type producerState struct {
	mu struct {
		sync.RWMutex
		producers map[int64]*ProducerEntry
	}
}

func newProducerState() *producerState {
	p := &producerState{}
	p.mu.producers = map[int64]*ProducerEntry{}
	return p
}

func (p *producerState) get(pid int64) (ProducerEntry, bool) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	e, ok := p.mu.producers[pid]
	if !ok {
		return ProducerEntry{}, false
	}
	return e.clone(), true
}

// all returns a copy of every entry, sorted by producer id.
func (p *producerState) all() []ProducerEntry {
	p.mu.RLock()
	out := make([]ProducerEntry, 0, len(p.mu.producers))
	for _, e := range p.mu.producers {
		out = append(out, e.clone())
	}
	p.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].ProducerID < out[j].ProducerID })
	return out
}

// lastOffsets maps every producer id to the last offset of its newest batch (compaction
// keeps those batches).
func (p *producerState) lastOffsets() map[int64]int64 {
	p.mu.RLock()
	defer p.mu.RUnlock()
	m := make(map[int64]int64, len(p.mu.producers))
	for pid, e := range p.mu.producers {
		if n := len(e.Batches); n > 0 {
			m[pid] = e.Batches[n-1].LastOffset
		}
	}
	return m
}

func (p *producerState) count() int {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return len(p.mu.producers)
}

// update applies an appended batch. Control batches end the producer's transaction.
func (p *producerState) update(b record.Batch) {
	if !b.HasProducerID() {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	pid := b.ProducerID()
	e, ok := p.mu.producers[pid]
	if !ok {
		e = &ProducerEntry{ProducerID: pid, Epoch: b.ProducerEpoch(), CoordinatorEpoch: -1, CurrentTxnFirstOffset: -1}
		p.mu.producers[pid] = e
	}
	if b.ProducerEpoch() != e.Epoch {
		e.Epoch = b.ProducerEpoch()
		e.Batches = e.Batches[:0]
	}
	e.LastTimestampMs = b.MaxTimestamp()
	if b.IsControl() {
		if _, coordEpoch, ok := controlRecord(b); ok {
			e.CoordinatorEpoch = coordEpoch
		}
		e.CurrentTxnFirstOffset = -1
		return
	}
	if b.BaseSequence() >= 0 {
		if len(e.Batches) == ProducerBatchesKept {
			copy(e.Batches, e.Batches[1:])
			e.Batches = e.Batches[:ProducerBatchesKept-1]
		}
		e.Batches = append(e.Batches, ProducerBatch{
			FirstSeq: b.BaseSequence(), LastSeq: b.LastSequence(),
			FirstOffset: b.BaseOffset(), LastOffset: b.LastOffset(), TimestampMs: b.MaxTimestamp(),
		})
	}
	if b.IsTransactional() && e.CurrentTxnFirstOffset < 0 {
		e.CurrentTxnFirstOffset = b.BaseOffset()
	}
}

// truncate drops producers whose state lies wholly at or above endOffset, and batches above
// it (log truncation). Entries that only lose part of their history keep the rest, as a
// snapshot reload would.
func (p *producerState) truncate(endOffset int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for pid, e := range p.mu.producers {
		i := sort.Search(len(e.Batches), func(i int) bool { return e.Batches[i].LastOffset >= endOffset })
		e.Batches = e.Batches[:i]
		if e.CurrentTxnFirstOffset >= endOffset {
			e.CurrentTxnFirstOffset = -1
		}
		if len(e.Batches) == 0 && e.CurrentTxnFirstOffset < 0 {
			delete(p.mu.producers, pid)
		}
	}
}

// removeBefore drops producers whose last batch lies below the log start offset (Kafka does
// this when the log start moves).
func (p *producerState) removeBefore(logStart int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for pid, e := range p.mu.producers {
		if n := len(e.Batches); n > 0 && e.Batches[n-1].LastOffset < logStart && e.CurrentTxnFirstOffset < 0 {
			delete(p.mu.producers, pid)
		}
	}
}

// expire drops producers idle for expirationMs without an open transaction
// (producer.id.expiration.ms).
func (p *producerState) expire(nowMs, expirationMs int64) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for pid, e := range p.mu.producers {
		if e.CurrentTxnFirstOffset < 0 && nowMs-e.LastTimestampMs >= expirationMs {
			delete(p.mu.producers, pid)
			n++
		}
	}
	return n
}

func (p *producerState) clear() {
	p.mu.Lock()
	p.mu.producers = map[int64]*ProducerEntry{}
	p.mu.Unlock()
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
	p.mu.RLock()
	defer p.mu.RUnlock()
	pids := make([]int64, 0, len(p.mu.producers))
	for pid := range p.mu.producers {
		pids = append(pids, pid)
	}
	sort.Slice(pids, func(i, j int) bool { return pids[i] < pids[j] })
	buf := make([]byte, snapshotHeader, snapshotHeader+len(pids)*snapshotEntrySize)
	binary.BigEndian.PutUint16(buf, snapshotVersion)
	binary.BigEndian.PutUint32(buf[6:], uint32(len(pids)))
	for _, pid := range pids {
		e := p.mu.producers[pid]
		lastSeq, lastOff, delta := int32(-1), int64(-1), int32(0)
		if n := len(e.Batches); n > 0 {
			lb := e.Batches[n-1]
			lastSeq, lastOff = lb.LastSeq, lb.LastOffset
			delta = int32(lb.LastOffset - lb.FirstOffset)
		}
		buf = binary.BigEndian.AppendUint64(buf, uint64(pid))
		buf = binary.BigEndian.AppendUint16(buf, uint16(e.Epoch))
		buf = binary.BigEndian.AppendUint32(buf, uint32(lastSeq))
		buf = binary.BigEndian.AppendUint64(buf, uint64(lastOff))
		buf = binary.BigEndian.AppendUint32(buf, uint32(delta))
		buf = binary.BigEndian.AppendUint64(buf, uint64(e.LastTimestampMs))
		buf = binary.BigEndian.AppendUint32(buf, uint32(e.CoordinatorEpoch))
		buf = binary.BigEndian.AppendUint64(buf, uint64(e.CurrentTxnFirstOffset))
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
