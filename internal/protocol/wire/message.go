package wire

import "fmt"

// Message is implemented by every generated message, record, key and value.
type Message interface {
	// Default resets every field to the spec's default.
	Default()
	// Decode resets the message and reads it at version; byte and records fields alias
	// the reader's input.
	Decode(r *Reader, version int16) error
	// Encode appends the message at version.
	Encode(w *Writer, version int16) error
}

// AppendVersioned appends m prefixed by its int16 version, the framing Kafka uses for the
// keys and values of __consumer_offsets, __transaction_state and __share_group_state.
func AppendVersioned(dst []byte, version int16, m Message) ([]byte, error) {
	w := Writer{buf: dst}
	w.Int16(version)
	if err := m.Encode(&w, version); err != nil {
		return dst, err
	}
	return w.buf, nil
}

// DecodeVersioned decodes an int16 version prefix, picks the message for it with pick (nil
// means the version is unknown), and decodes the rest, which must be consumed exactly.
func DecodeVersioned(b []byte, pick func(version int16) Message) (int16, Message, error) {
	r := NewReader(b)
	version := r.Int16()
	if err := r.Err(); err != nil {
		return 0, nil, fmt.Errorf("reading version prefix: %w", err)
	}
	m := pick(version)
	if m == nil {
		return version, nil, fmt.Errorf("%w: version prefix %d", ErrUnsupportedVersion, version)
	}
	if err := m.Decode(&r, version); err != nil {
		return version, nil, err
	}
	if err := r.Complete(); err != nil {
		return version, nil, err
	}
	return version, m, nil
}
