package storage

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/sluicehq/sluice/internal/record"
)

// errStop ends forEachRecord early without an error for the caller.
var errStop = errors.New("stop")

// rawRecord is one record of an uncompressed records section, as slices into it.
type rawRecord struct {
	raw         []byte // the whole record, length prefix included
	tsDelta     int64
	offsetDelta int32
	key, value  []byte
	keyNull     bool
	valueNull   bool
}

// forEachRecord walks at most maxCount records of an uncompressed records section. Every
// length is checked against the bytes that remain, so hostile input cannot make it read out
// of bounds or loop without progress. fn returning false stops the walk (errStop).
//
// internal/record is gaining a full iterator (compression included); storage only needs
// this much for control records and timestamp lookups, so it keeps its own small one.
func forEachRecord(buf []byte, maxCount int, fn func(rawRecord) bool) error {
	for i := 0; i < maxCount && len(buf) > 0; i++ {
		length, n := binary.Varint(buf)
		if n <= 0 || length < 0 || int64(len(buf)-n) < length {
			return fmt.Errorf("%w: bad record length", record.ErrCorrupt)
		}
		rec := buf[n : n+int(length)]
		r := rawRecord{raw: buf[:n+int(length)]}
		buf = buf[n+int(length):]
		if len(rec) < 1 {
			return fmt.Errorf("%w: empty record", record.ErrCorrupt)
		}
		p := rec[1:] // attributes
		var v int64
		if v, n = binary.Varint(p); n <= 0 {
			return fmt.Errorf("%w: bad timestamp delta", record.ErrCorrupt)
		}
		r.tsDelta, p = v, p[n:]
		if v, n = binary.Varint(p); n <= 0 {
			return fmt.Errorf("%w: bad offset delta", record.ErrCorrupt)
		}
		r.offsetDelta, p = int32(v), p[n:]
		var err error
		if r.key, r.keyNull, p, err = varBytes(p); err != nil {
			return err
		}
		if r.value, r.valueNull, _, err = varBytes(p); err != nil {
			return err
		}
		if !fn(r) {
			return errStop
		}
	}
	return nil
}

func varBytes(p []byte) (b []byte, null bool, rest []byte, err error) {
	l, n := binary.Varint(p)
	if n <= 0 || l < -1 || l > int64(len(p)-n) {
		return nil, false, nil, fmt.Errorf("%w: bad bytes length", record.ErrCorrupt)
	}
	if l == -1 {
		return nil, true, p[n:], nil
	}
	return p[n : n+int(l)], false, p[n+int(l):], nil
}
