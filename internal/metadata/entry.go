package metadata

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"

	"github.com/sluicehq/sluice/internal/protocol/metarecord"
)

// ErrCorrupt: an entry or snapshot does not decode. Committed entries are written by
// Sluice's controller, so this means a bug or a damaged file, never bad user input.
var ErrCorrupt = errors.New("metadata: corrupt metadata entry")

// ErrInvalidRecord: a record does not apply to the image (a partition of an unknown topic,
// a stale broker epoch, …). The whole entry is then skipped, on every node alike.
var ErrInvalidRecord = errors.New("metadata: record does not apply")

// entryVersion is the first byte of every raft entry Sluice writes.
const entryVersion = 1

// maxEntryRecords bounds the records one entry may claim, so that a damaged length cannot
// make the decoder allocate without bound.
const maxEntryRecords = 1 << 20

// Entry layout (one raft log entry, applied atomically):
//
//	byte    entry version (1)
//	repeat: uvarint length | framed record (metarecord.AppendFrame: frame version,
//	        record type, record version, record)

// EncodeEntry frames records into one raft entry, each at the version Sluice writes it.
func EncodeEntry(records ...metarecord.Record) ([]byte, error) {
	out := []byte{entryVersion}
	var frame []byte
	for _, r := range records {
		var err error
		frame, err = metarecord.AppendFrame(frame[:0], WriteVersion(r.APIKey()), r)
		if err != nil {
			return nil, fmt.Errorf("metadata: encode %T: %w", r, err)
		}
		out = binary.AppendUvarint(out, uint64(len(frame)))
		out = append(out, frame...)
	}
	return out, nil
}

// DecodeEntry decodes a raft entry. Records alias b.
func DecodeEntry(b []byte) ([]metarecord.Record, error) {
	if len(b) == 0 || b[0] != entryVersion {
		return nil, fmt.Errorf("%w: bad entry version", ErrCorrupt)
	}
	b = b[1:]
	var out []metarecord.Record
	for len(b) > 0 {
		if len(out) >= maxEntryRecords {
			return nil, fmt.Errorf("%w: more than %d records", ErrCorrupt, maxEntryRecords)
		}
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k) {
			return nil, fmt.Errorf("%w: bad record length", ErrCorrupt)
		}
		rec, _, err := metarecord.DecodeFrame(b[k : k+int(n)])
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
		}
		out = append(out, rec)
		b = b[k+int(n):]
	}
	return out, nil
}

// WriteVersion is the version Sluice writes a record type at: the lowest that holds every
// field Sluice sets, so the log stays readable by the oldest code that understands it.
func WriteVersion(typ int16) int16 {
	switch typ {
	case metarecord.TypeRegisterBrokerRecord, metarecord.TypeBrokerRegistrationChangeRecord:
		return 1 // InControlledShutdown
	}
	return 0
}

func itoa(id int32) string { return strconv.Itoa(int(id)) }
