package record

import (
	"encoding/binary"
	"fmt"
	"math"
)

// ControlRecordType is the type in a control record's key. Transaction markers are Abort
// and Commit; the others are written by KRaft in the metadata log.
type ControlRecordType int16

const (
	ControlAbort          ControlRecordType = 0
	ControlCommit         ControlRecordType = 1
	ControlLeaderChange   ControlRecordType = 2
	ControlSnapshotHeader ControlRecordType = 3
	ControlSnapshotFooter ControlRecordType = 4
	ControlKRaftVersion   ControlRecordType = 5
	ControlKRaftVoters    ControlRecordType = 6
)

func (t ControlRecordType) String() string {
	switch t {
	case ControlAbort:
		return "abort"
	case ControlCommit:
		return "commit"
	case ControlLeaderChange:
		return "leader_change"
	case ControlSnapshotHeader:
		return "snapshot_header"
	case ControlSnapshotFooter:
		return "snapshot_footer"
	case ControlKRaftVersion:
		return "kraft_version"
	case ControlKRaftVoters:
		return "kraft_voters"
	}
	return fmt.Sprintf("unknown(%d)", int16(t))
}

const (
	// controlKeySize is version int16 + type int16.
	controlKeySize = 4
	// txnMarkerValueSize is version int16 + coordinatorEpoch int32.
	txnMarkerValueSize = 6
)

// ParseControlKey reads the type from a control record's key (version int16, type int16).
// Like Kafka, a key version above 0 is read as version 0 (later versions may only append
// fields), and a type Sluice does not know is returned as is for the caller to ignore.
func ParseControlKey(key []byte) (ControlRecordType, error) {
	if len(key) < controlKeySize {
		return 0, fmt.Errorf("%w: control record key of %d bytes", ErrCorrupt, len(key))
	}
	if v := int16(binary.BigEndian.Uint16(key)); v < 0 {
		return 0, fmt.Errorf("%w: control record key version %d", ErrCorrupt, v)
	}
	return ControlRecordType(binary.BigEndian.Uint16(key[2:])), nil
}

// AppendControlKey appends the version-0 key of a control record of type t.
func AppendControlKey(dst []byte, t ControlRecordType) []byte {
	dst = binary.BigEndian.AppendUint16(dst, 0)
	return binary.BigEndian.AppendUint16(dst, uint16(t))
}

// ParseTxnMarkerValue reads the coordinator epoch from the value of an abort or commit
// record (version int16, coordinatorEpoch int32). Later versions are read as version 0.
func ParseTxnMarkerValue(value []byte) (coordinatorEpoch int32, err error) {
	if len(value) < txnMarkerValueSize {
		return 0, fmt.Errorf("%w: transaction marker value of %d bytes", ErrCorrupt, len(value))
	}
	if v := int16(binary.BigEndian.Uint16(value)); v < 0 {
		return 0, fmt.Errorf("%w: transaction marker value version %d", ErrCorrupt, v)
	}
	return int32(binary.BigEndian.Uint32(value[2:])), nil
}

// AppendTxnMarkerValue appends the version-0 value of an abort or commit record.
func AppendTxnMarkerValue(dst []byte, coordinatorEpoch int32) []byte {
	dst = binary.BigEndian.AppendUint16(dst, 0)
	return binary.BigEndian.AppendUint32(dst, uint32(coordinatorEpoch))
}

// EndTxnMarker is an end-transaction marker: the control batch the broker appends to a data
// partition when the transaction coordinator commits or aborts (WriteTxnMarkers).
type EndTxnMarker struct {
	BaseOffset           int64
	PartitionLeaderEpoch int32
	ProducerID           int64
	ProducerEpoch        int16
	Commit               bool
	CoordinatorEpoch     int32
	TimestampMs          int64
}

// EndTxnMarkerSize is the size of the batch AppendEndTxnMarker writes.
const EndTxnMarkerSize = HeaderSize + 1 + endTxnRecordBody

// endTxnRecordBody: attributes, timestamp delta 0, offset delta 0, key length, key,
// value length, value, header count 0.
const endTxnRecordBody = 1 + 1 + 1 + 1 + controlKeySize + 1 + txnMarkerValueSize + 1

// AppendEndTxnMarker appends the marker batch to dst and returns the extended slice; the
// batch is its last EndTxnMarkerSize bytes. The batch is what Kafka writes: transactional and
// control, uncompressed, CreateTime, no base sequence, one record at offset delta 0 whose key
// is the control type and whose value holds the coordinator epoch.
func AppendEndTxnMarker(dst []byte, m EndTxnMarker) []byte {
	start := len(dst)
	dst = binary.BigEndian.AppendUint64(dst, uint64(m.BaseOffset))
	dst = binary.BigEndian.AppendUint32(dst, EndTxnMarkerSize-LogOverhead)
	dst = binary.BigEndian.AppendUint32(dst, uint32(m.PartitionLeaderEpoch))
	dst = append(dst, Magic, 0, 0, 0, 0) // CRC below
	dst = binary.BigEndian.AppendUint16(dst, attrTransactional|attrControl)
	dst = binary.BigEndian.AppendUint32(dst, 0) // lastOffsetDelta
	dst = binary.BigEndian.AppendUint64(dst, uint64(m.TimestampMs))
	dst = binary.BigEndian.AppendUint64(dst, uint64(m.TimestampMs))
	dst = binary.BigEndian.AppendUint64(dst, uint64(m.ProducerID))
	dst = binary.BigEndian.AppendUint16(dst, uint16(m.ProducerEpoch))
	dst = binary.BigEndian.AppendUint32(dst, math.MaxUint32) // base sequence -1
	dst = binary.BigEndian.AppendUint32(dst, 1)              // record count
	dst = appendVarint(dst, endTxnRecordBody)
	dst = append(dst, 0, 0, 0) // attributes, timestamp delta, offset delta
	dst = appendVarint(dst, controlKeySize)
	typ := ControlAbort
	if m.Commit {
		typ = ControlCommit
	}
	dst = AppendControlKey(dst, typ)
	dst = appendVarint(dst, txnMarkerValueSize)
	dst = AppendTxnMarkerValue(dst, m.CoordinatorEpoch)
	dst = append(dst, 0) // header count
	Batch(dst[start:]).UpdateCRC()
	return dst
}

// ReadEndTxnMarker decodes an end-transaction marker batch. It fails with ErrInvalidRecord
// when b is not a control batch or its first record is not an abort or commit marker, and
// ErrCorrupt when the record does not decode. Only the first record is read, as Kafka does.
func ReadEndTxnMarker(b Batch) (EndTxnMarker, error) {
	m := EndTxnMarker{
		BaseOffset:           b.BaseOffset(),
		PartitionLeaderEpoch: b.PartitionLeaderEpoch(),
		ProducerID:           b.ProducerID(),
		ProducerEpoch:        b.ProducerEpoch(),
		TimestampMs:          b.MaxTimestamp(),
	}
	if !b.IsControl() {
		return m, fmt.Errorf("%w: not a control batch", ErrInvalidRecord)
	}
	// Kafka never compresses markers, but a control batch may legally be compressed; a
	// marker record is tiny, so a small limit is plenty.
	recs, err := Decompress(nil, b, 1<<16)
	if err != nil {
		return m, err
	}
	count := b.RecordCount()
	if count < 1 {
		return m, fmt.Errorf("%w: control batch without records", ErrInvalidRecord)
	}
	var r Record
	if _, ok := parseRecord(recs, 0, &r); !ok {
		return m, fmt.Errorf("%w: malformed control record", ErrCorrupt)
	}
	typ, err := ParseControlKey(r.Key)
	if err != nil {
		return m, err
	}
	if typ != ControlAbort && typ != ControlCommit {
		return m, fmt.Errorf("%w: control record type %s is not a transaction marker", ErrInvalidRecord, typ)
	}
	m.Commit = typ == ControlCommit
	if m.CoordinatorEpoch, err = ParseTxnMarkerValue(r.Value); err != nil {
		return m, err
	}
	if !b.LogAppendTime() {
		m.TimestampMs = b.BaseTimestamp() + r.TimestampDelta
	}
	return m, nil
}
