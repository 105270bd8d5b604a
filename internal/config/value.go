package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Value is one key's typed value, with where it came from. The zero Value is null.
type Value struct {
	def    *Def
	null   bool
	b      bool
	i      int64
	f      float64
	s      string   // string, password and class values
	list   []string // list values
	Source Source
	Origin Origin
}

// Name returns the key's name.
func (v Value) Name() string {
	if v.def == nil {
		return ""
	}
	return v.def.Name
}

// Def returns the key's definition.
func (v Value) Def() Def {
	if v.def == nil {
		return Def{}
	}
	return *v.def
}

// IsNull reports whether the key has no value (it has no default and was not set).
func (v Value) IsNull() bool { return v.def == nil || v.null }

// Bool returns a boolean key's value.
func (v Value) Bool() bool { return v.b }

// Int returns an int, short or long key's value.
func (v Value) Int() int64 { return v.i }

// Float returns a double key's value.
func (v Value) Float() float64 { return v.f }

// Str returns a string, password or class key's value, trimmed as Kafka trims it.
func (v Value) Str() string { return v.s }

// List returns a list key's elements (a copy).
func (v Value) List() []string { return append([]string(nil), v.list...) }

// Duration returns a time key's value as a duration, converting from the key's unit.
// Values too large for a time.Duration (Kafka uses Long.MAX_VALUE ms for "never") saturate
// to math.MaxInt64, which every user of this package treats as "never".
func (v Value) Duration() time.Duration {
	if v.def == nil {
		return 0
	}
	return durationOf(v.i, v.def.Unit)
}

func durationOf(n int64, u Unit) time.Duration {
	ms := u.millis()
	if ms == 0 {
		return 0
	}
	perUnit := ms * int64(time.Millisecond)
	if n > math.MaxInt64/perUnit {
		return math.MaxInt64
	}
	if n < math.MinInt64/perUnit {
		return math.MinInt64
	}
	return time.Duration(n * perUnit)
}

// String returns the value as Kafka prints it in DescribeConfigs (booleans lower case,
// numbers canonical, lists joined with ","). Passwords are never printed: String returns
// "[hidden]" for a set password. A null value prints as "".
func (v Value) String() string {
	if v.IsNull() {
		return ""
	}
	if v.def.Type == TypePassword {
		return "[hidden]"
	}
	return v.canonical()
}

// canonical is String without hiding passwords.
func (v Value) canonical() string {
	if v.IsNull() {
		return ""
	}
	switch v.def.Type {
	case TypeBoolean:
		return strconv.FormatBool(v.b)
	case TypeInt, TypeShort, TypeLong:
		return strconv.FormatInt(v.i, 10)
	case TypeDouble:
		return javaDouble(v.f)
	case TypeList:
		return strings.Join(v.list, ",")
	}
	return v.s
}

// javaTrim trims like Java's String.trim: every character up to and including ' ', which
// covers ASCII control characters as well as blanks.
func javaTrim(s string) string {
	return strings.TrimFunc(s, func(r rune) bool { return r <= ' ' })
}

// parseValue parses raw as d's type the way Kafka's ConfigDef does (trimmed; booleans
// case-insensitive; integers decimal with an optional sign and range-checked; lists split on
// commas with surrounding whitespace dropped), then runs d's validator.
func parseValue(d *Def, raw string) (Value, *Error) {
	v := Value{def: d}
	t := javaTrim(raw)
	switch d.Type {
	case TypeBoolean:
		switch strings.ToLower(t) {
		case "true":
			v.b = true
		case "false":
		default:
			return v, invalid(d, raw, "expected true or false")
		}
	case TypeInt, TypeShort, TypeLong:
		bits := 64
		switch d.Type {
		case TypeInt:
			bits = 32
		case TypeShort:
			bits = 16
		}
		n, err := strconv.ParseInt(t, 10, bits)
		if err != nil || !isDecimal(t) {
			return v, invalid(d, raw, fmt.Sprintf("not a %d-bit integer", bits))
		}
		v.i = n
	case TypeDouble:
		f, err := strconv.ParseFloat(t, 64)
		if err != nil || math.IsNaN(f) || strings.ContainsRune(t, '_') {
			return v, invalid(d, raw, "not a number")
		}
		v.f = f
	case TypeList:
		v.list = splitList(t)
	default: // string, password, class
		v.s = t
	}
	if d.Validator != nil {
		if err := d.Validator.Validate(v); err != nil {
			return v, invalid(d, raw, err.Error())
		}
	}
	return v, nil
}

// isDecimal rejects the forms strconv accepts that Java's Integer.parseInt does not.
// (strconv.ParseInt with base 10 already refuses prefixes and underscores; this is belt and
// braces for the day someone changes the base.)
func isDecimal(s string) bool {
	s = strings.TrimLeft(s, "+-")
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// splitList splits a list value as Kafka does: empty means no elements, otherwise split on
// commas and drop the whitespace around each, keeping empty elements (validators decide
// whether "a,,b" is acceptable).
func splitList(s string) []string {
	if s == "" {
		return []string{}
	}
	parts := strings.Split(s, ",")
	for i, p := range parts {
		parts[i] = strings.TrimSpace(p)
	}
	return parts
}

func invalid(d *Def, raw, reason string) *Error {
	val := raw
	if d.Type == TypePassword {
		val = "[hidden]"
	}
	return &Error{Kind: ErrInvalidValue, Key: d.Name, Value: val, Reason: reason, Allowed: d.allowed()}
}

// javaDouble formats f as Java's Double.toString does, because that is what Kafka puts in
// DescribeConfigs and what tooling compares against: "0.5", "1.0", "1.0E7", "1.0E-4".
func javaDouble(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	if a := math.Abs(f); a >= 1e-3 && a < 1e7 {
		s := strconv.FormatFloat(f, 'f', -1, 64)
		if !strings.ContainsRune(s, '.') {
			s += ".0"
		}
		return s
	}
	s := strconv.FormatFloat(f, 'e', -1, 64) // d.ddde±XX, shortest digits
	mant, exp, _ := strings.Cut(s, "e")
	if !strings.ContainsRune(mant, '.') {
		mant += ".0"
	}
	e, _ := strconv.Atoi(exp)
	return mant + "E" + strconv.Itoa(e)
}
