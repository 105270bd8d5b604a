package config

import (
	"errors"
	"fmt"
	"strconv"
)

// Sentinel errors. Every error this package returns wraps one of them; test with errors.Is.
// The server maps all of them to Kafka's INVALID_CONFIG (or INVALID_REQUEST for a read-only
// update, as Kafka does) in its one error table.
var (
	// ErrSyntax: the properties text or an --override flag is malformed.
	ErrSyntax = errors.New("config: malformed properties")
	// ErrInvalidValue: a value does not parse as the key's type or fails its validator.
	ErrInvalidValue = errors.New("config: invalid value")
	// ErrUnknownTopicConfig: a topic config name Sluice (and Kafka) does not know. Broker-level
	// unknown keys are warnings, as in Kafka; topic-level ones are errors, as in Kafka.
	ErrUnknownTopicConfig = errors.New("config: unknown topic config")
	// ErrUnknownKey: a dynamic update names a broker key that does not exist.
	ErrUnknownKey = errors.New("config: unknown broker config")
	// ErrConflict: keys that are valid alone contradict each other.
	ErrConflict = errors.New("config: conflicting settings")
	// ErrMissing: a key that has no default and is required was not set.
	ErrMissing = errors.New("config: missing required setting")
	// ErrReadOnly: a dynamic update names a key that can only be set at start.
	ErrReadOnly = errors.New("config: key cannot be changed at runtime")
	// ErrPerBrokerOnly: a cluster-wide dynamic update names a key that can only be set
	// for one broker.
	ErrPerBrokerOnly = errors.New("config: key can only be changed per broker")
)

// Origin says where a property came from, for error messages and warnings.
type Origin struct {
	// Name is a file path, "--override", or a description such as "single-node default".
	Name string
	// Line is the 1-based line where the property starts in Name, or 0 when not from a file.
	Line int
}

func (o Origin) String() string {
	switch {
	case o.Name == "" && o.Line == 0:
		return "default"
	case o.Line > 0:
		return o.Name + ":" + strconv.Itoa(o.Line)
	}
	return o.Name
}

// Origins used for values that did not come from a file.
var (
	originOverride       = Origin{Name: "--override"}
	originSingleNode     = Origin{Name: "single-node default"}
	originDynamicBroker  = Origin{Name: "dynamic broker config"}
	originDynamicDefault = Origin{Name: "dynamic cluster-default config"}
	originTopic          = Origin{Name: "topic config"}
)

// Error describes one bad setting: which key, the value as given, where it came from and
// what would have been accepted. Kind is one of the sentinel errors above.
type Error struct {
	Kind    error
	Key     string
	Value   string // as given; "[hidden]" for passwords
	Origin  Origin
	Reason  string // what is wrong, in a few words
	Allowed string // what is allowed, or ""
}

func (e *Error) Error() string {
	msg := "config: "
	if e.Origin != (Origin{}) {
		msg += e.Origin.String() + ": "
	}
	if e.Key != "" {
		msg += e.Key + "=" + strconv.Quote(e.Value) + ": "
	}
	msg += e.Reason
	if e.Allowed != "" {
		msg += " (allowed: " + e.Allowed + ")"
	}
	return msg
}

// Unwrap returns the sentinel kind, so errors.Is(err, ErrInvalidValue) works.
func (e *Error) Unwrap() error { return e.Kind }

// conflict builds an ErrConflict error about key whose value v (from origin o) clashes with
// another setting.
func conflict(key, v string, o Origin, format string, args ...any) *Error {
	return &Error{Kind: ErrConflict, Key: key, Value: v, Origin: o, Reason: fmt.Sprintf(format, args...)}
}

// Warning is something worth telling the operator that does not stop the broker: an unknown
// key, a key Sluice accepts but ignores, a setting shadowed by a synonym. The package
// returns warnings; the caller logs them.
type Warning struct {
	Key     string
	Origin  Origin
	Message string
}

func (w Warning) String() string {
	s := w.Origin.String() + ": "
	if w.Key != "" {
		s += w.Key + ": "
	}
	return s + w.Message
}
