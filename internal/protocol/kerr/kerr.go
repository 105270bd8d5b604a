package kerr

import (
	"errors"
	"strconv"
)

// Error is one Kafka error code.
type Error struct {
	// Code is the int16 sent on the wire.
	Code int16
	// Name is Kafka's name for the code, e.g. "NOT_LEADER_OR_FOLLOWER".
	Name string
	// Retriable reports whether Kafka's clients retry a request that failed with this code
	// (Kafka marks these with RetriableException).
	Retriable bool
	// Description says what the code means, in one line.
	Description string
}

// Error returns "NAME: description".
func (e *Error) Error() string { return e.Name + ": " + e.Description }

// ForCode returns the error for a wire code: nil for 0 (no error), the table's value for a
// code Kafka defines, and for any other code a fresh *Error named UNKNOWN_ERROR_CODE_<n>
// that is not retriable (a newer peer may send codes this table does not know yet).
func ForCode(code int16) *Error {
	switch {
	case code == 0:
		return nil
	case code == -1:
		return UnknownServerError
	case code > 0 && int(code) < len(all):
		return all[code]
	}
	n := strconv.Itoa(int(code))
	return &Error{Code: code, Name: "UNKNOWN_ERROR_CODE_" + n, Description: "Error code " + n + " is not one Sluice knows."}
}

// Code returns err's code when err is or wraps an *Error, 0 for nil, and -1
// (UNKNOWN_SERVER_ERROR) for any other error.
func Code(err error) int16 {
	if err == nil {
		return 0
	}
	if e, ok := asError(err); ok {
		return e.Code
	}
	return UnknownServerError.Code
}

// All returns every error in code order (UNKNOWN_SERVER_ERROR first).
func All() []*Error { return append([]*Error(nil), all[:]...) }

func asError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}
