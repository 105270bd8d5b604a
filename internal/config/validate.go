package config

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Validator checks a parsed value. String describes what is allowed, in the notation of
// Kafka's documentation ("[1,...]", "[0,...,1]", "[delete, compact]"), for docs and errors.
type Validator interface {
	Validate(v Value) error
	String() string
}

// intRange accepts integers in [min, max]; hasMax false means no upper bound.
type intRange struct {
	min, max int64
	hasMax   bool
}

func atLeast(n int64) Validator      { return intRange{min: n} }
func between(lo, hi int64) Validator { return intRange{min: lo, max: hi, hasMax: true} }
func (r intRange) String() string {
	if r.hasMax {
		return fmt.Sprintf("[%d,...,%d]", r.min, r.max)
	}
	return fmt.Sprintf("[%d,...]", r.min)
}

func (r intRange) Validate(v Value) error {
	if v.i < r.min {
		return fmt.Errorf("must be at least %d", r.min)
	}
	if r.hasMax && v.i > r.max {
		return fmt.Errorf("must be at most %d", r.max)
	}
	return nil
}

// floatRange accepts doubles in [min, max].
type floatRange struct{ min, max float64 }

func (r floatRange) String() string {
	return fmt.Sprintf("[%s,...,%s]", strconv.FormatFloat(r.min, 'g', -1, 64), strconv.FormatFloat(r.max, 'g', -1, 64))
}

func (r floatRange) Validate(v Value) error {
	if math.IsNaN(v.f) || v.f < r.min || v.f > r.max {
		return fmt.Errorf("must be between %g and %g", r.min, r.max)
	}
	return nil
}

// enum accepts one of a fixed set of strings, case-sensitively unless fold is set (Kafka's
// ValidString and CaseInsensitiveValidString).
type enum struct {
	values []string
	fold   bool
}

func oneOf(values ...string) Validator     { return enum{values: values} }
func oneOfFold(values ...string) Validator { return enum{values: values, fold: true} }
func (e enum) String() string              { return "[" + strings.Join(e.values, ", ") + "]" }

func (e enum) match(s string) bool {
	for _, x := range e.values {
		if s == x || (e.fold && strings.EqualFold(s, x)) {
			return true
		}
	}
	return false
}

func (e enum) Validate(v Value) error {
	if !e.match(v.s) {
		return errors.New("not one of the valid values")
	}
	return nil
}

// listOf accepts lists whose every element is one of a fixed set (Kafka's ValidList.in).
type listOf struct{ enum }

func listIn(values ...string) Validator { return listOf{enum{values: values}} }
func (l listOf) String() string         { return "list of " + l.enum.String() }

func (l listOf) Validate(v Value) error {
	for _, x := range v.list {
		if !l.match(x) {
			return fmt.Errorf("%q is not one of the valid values", x)
		}
	}
	return nil
}

// check is a validator made from a function, for syntax checks (listeners, voters) and
// rules that do not fit the shapes above.
type check struct {
	desc string
	fn   func(v Value) error
}

func (c check) String() string         { return c.desc }
func (c check) Validate(v Value) error { return c.fn(v) }

// gzipLevel is Kafka's rule for compression.gzip.level: 1 to 9, or -1 for zlib's default.
var gzipLevel = check{desc: "[1,...,9] or -1", fn: func(v Value) error {
	if v.i == -1 || (v.i >= 1 && v.i <= 9) {
		return nil
	}
	return errors.New("must be between 1 and 9, or -1")
}}

var listenersSyntax = check{desc: "NAME://host:port, comma-separated", fn: func(v Value) error {
	_, err := parseListeners(v.s, nil)
	return err
}}

var votersSyntax = check{desc: "id@host:port, comma-separated", fn: func(v Value) error {
	_, err := parseVoters(v.list)
	return err
}}

var hostPortsSyntax = check{desc: "host:port, comma-separated", fn: func(v Value) error {
	for _, e := range v.list {
		if _, err := parseHostPort(e); err != nil {
			return err
		}
	}
	return nil
}}

var protocolMapSyntax = check{desc: "NAME:PROTOCOL, comma-separated; PROTOCOL one of " +
	"PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL", fn: func(v Value) error {
	_, err := parseProtocolMap(v.s)
	return err
}}

// optionalHostPort accepts "" (disabled) or host:port.
var optionalHostPort = check{desc: `host:port, or "" to disable`, fn: func(v Value) error {
	if v.s == "" {
		return nil
	}
	_, err := parseHostPort(v.s)
	return err
}}

var connectionOverridesSyntax = check{desc: "host:count, comma-separated", fn: func(v Value) error {
	_, err := parseConnectionOverrides(v.s)
	return err
}}

var noDuplicates = check{desc: "comma-separated, no duplicates", fn: func(v Value) error {
	seen := make(map[string]bool, len(v.list))
	for _, x := range v.list {
		if x == "" {
			continue // empty entries are dropped, as Kafka's CSV parsing drops them
		}
		if seen[x] {
			return fmt.Errorf("%q appears twice", x)
		}
		seen[x] = true
	}
	return nil
}}

// noJavaClass accepts only the empty string: Sluice cannot load Java classes, and silently
// ignoring a policy or plug-in the operator asked for would be worse than refusing to start.
var noJavaClass = check{desc: `"" (Sluice cannot load Java classes)`, fn: func(v Value) error {
	if v.s != "" {
		return errors.New("cannot be loaded: Sluice cannot load Java classes")
	}
	return nil
}}
