// Package kerr is Kafka's table of protocol error codes as Go values: every code Apache
// Kafka 4.1 defines (-1 and 1..133), each with Kafka's name, whether a client may retry it,
// and a one-line description.
//
// Each code is one *Error variable (kerr.NotLeaderOrFollower, kerr.UnknownTopicOrPartition,
// …), so errors.Is(err, kerr.X) works through wrapping, and ForCode turns a code from the
// wire back into the same value. Code 0 means "no error" and has no value: ForCode(0) is nil.
//
// Invariants: codes and names never change (they are part of the protocol); the table is
// sorted by code with no gaps after -1; the variables are never modified (callers must not
// assign to their fields).
//
// kerr imports only the standard library, so every layer may use it. Which domain error
// becomes which code is decided in one place, internal/server's error table, not here.
package kerr
