package wire

import "errors"

// Sentinel errors. Decoders and encoders wrap them with context (field, offset); test with
// errors.Is.
var (
	// ErrShortBuffer means the input ended before a value it announced.
	ErrShortBuffer = errors.New("protocol: input too short")
	// ErrInvalidLength means a length or count is negative (other than the null marker) or
	// cannot fit in the bytes that remain.
	ErrInvalidLength = errors.New("protocol: invalid length")
	// ErrVarintOverflow means a varint ran past its maximum width.
	ErrVarintOverflow = errors.New("protocol: varint overflow")
	// ErrNullNotAllowed means a null was read or asked to be written where the version does
	// not allow null.
	ErrNullNotAllowed = errors.New("protocol: null in a non-nullable field")
	// ErrFieldNotInVersion means encoding was asked to drop a non-default value of a field
	// that the version does not carry and whose loss would change the message's meaning
	// (the spec does not mark it ignorable).
	ErrFieldNotInVersion = errors.New("protocol: non-default value in a field absent from this version")
	// ErrTaggedField means a known tagged field's payload did not match its declared size.
	ErrTaggedField = errors.New("protocol: malformed tagged field")
	// ErrTrailingBytes means bytes remained after a complete message.
	ErrTrailingBytes = errors.New("protocol: trailing bytes after message")
	// ErrUnsupportedVersion means the message has no such version.
	ErrUnsupportedVersion = errors.New("protocol: unsupported version")
	// ErrUnknownAPIKey means no message is defined for the key.
	ErrUnknownAPIKey = errors.New("protocol: unknown api key")
	// ErrTooLong means a value is too long for its length prefix on encode.
	ErrTooLong = errors.New("protocol: value too long for its length prefix")
	// ErrFrameTooLarge means a size prefix exceeds the caller's limit.
	ErrFrameTooLarge = errors.New("protocol: frame exceeds size limit")
	// ErrShortFile means a file region ended before its declared length (the segment was
	// truncated underneath a fetch).
	ErrShortFile = errors.New("protocol: file region shorter than declared")
)
