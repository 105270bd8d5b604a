package wire

import "fmt"

// Helpers for the generated code: they keep the generated files short and their imports
// down to this package.

// Ptr returns a pointer to a copy of v (generated defaults of nullable strings use it).
func Ptr[T any](v T) *T { return &v }

// NullError reports a null in field (Message.Field) where the version forbids it.
func NullError(field string) error { return fmt.Errorf("%w: %s", ErrNullNotAllowed, field) }

// AbsentError reports a non-default value in a field the version does not carry.
func AbsentError(field string) error { return fmt.Errorf("%w: %s", ErrFieldNotInVersion, field) }

// VersionError reports a version outside a message's valid range.
func VersionError(message string, version int16) error {
	return fmt.Errorf("%w: %s v%d", ErrUnsupportedVersion, message, version)
}

// DecodeError adds the message and version to a decoding failure.
func DecodeError(message string, version int16, err error) error {
	return fmt.Errorf("decode %s v%d: %w", message, version, err)
}

// EncodeError adds the message and version to an encoding failure.
func EncodeError(message string, version int16, err error) error {
	return fmt.Errorf("encode %s v%d: %w", message, version, err)
}
