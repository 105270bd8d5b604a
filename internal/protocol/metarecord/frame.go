package metarecord

import (
	"errors"
	"fmt"

	"github.com/sluicehq/sluice/internal/protocol/wire"
)

// Record is a KRaft metadata record.
type Record interface {
	wire.Message
	// APIKey is the record type.
	APIKey() int16
	MinVersion() int16
	MaxVersion() int16
	IsFlexible(version int16) bool
}

// FrameVersion is the only metadata record frame version Kafka writes and reads (0 was the
// pre-release KRaft of Kafka 2.8 and is refused, as Kafka does).
const FrameVersion = 1

// ErrFrame reports a malformed metadata record frame.
var ErrFrame = errors.New("metarecord: bad record frame")

// AppendFrame appends rec framed as Kafka's metadata log does: unsigned varints for the
// frame version (1), the record type and the record version, then the record.
func AppendFrame(dst []byte, version int16, rec Record) ([]byte, error) {
	w := wire.NewWriter(dst)
	w.Uvarint(FrameVersion)
	w.Uvarint(uint32(rec.APIKey()))
	w.Uvarint(uint32(version))
	if err := rec.Encode(w, version); err != nil {
		return dst, err
	}
	return w.Buffer(), nil
}

// DecodeFrame decodes one framed metadata record, which must fill b exactly, and returns it
// with its version. Byte fields alias b.
func DecodeFrame(b []byte) (Record, int16, error) {
	r := wire.NewReader(b)
	frame := r.Uvarint()
	typ := r.Uvarint()
	version := r.Uvarint()
	if err := r.Err(); err != nil {
		return nil, 0, fmt.Errorf("%w: %w", ErrFrame, err)
	}
	if frame != FrameVersion {
		return nil, 0, fmt.Errorf("%w: frame version %d", ErrFrame, frame)
	}
	if typ > 0x7fff || version > 0x7fff {
		return nil, 0, fmt.Errorf("%w: record type %d version %d out of range", ErrFrame, typ, version)
	}
	rec := NewRecord(int16(typ))
	if rec == nil {
		return nil, 0, fmt.Errorf("%w: unknown record type %d", ErrFrame, typ)
	}
	if err := rec.Decode(&r, int16(version)); err != nil {
		return nil, 0, err
	}
	if err := r.Complete(); err != nil {
		return nil, 0, fmt.Errorf("%w: %w", ErrFrame, err)
	}
	return rec, int16(version), nil
}
