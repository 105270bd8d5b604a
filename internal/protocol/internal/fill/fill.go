// Package fill puts seeded random values into generated Sluice messages and into kmsg
// messages through reflection, for the codec's differential and round-trip tests. It
// is imported by tests only.
package fill

import (
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"

	"github.com/sluicehq/sluice/internal/protocol/wire"
)

// maxElems bounds random array lengths so nested messages stay small.
const maxElems = 3

// vrange mirrors the generator's version ranges as written in the kafka struct tags.
type vrange struct {
	lo, hi int
	none   bool
}

func parseRange(s string) vrange {
	switch {
	case s == "" || s == "none":
		return vrange{none: true}
	case strings.HasSuffix(s, "+"):
		lo, _ := strconv.Atoi(strings.TrimSuffix(s, "+"))
		return vrange{lo: lo, hi: 1 << 15}
	case strings.Contains(s, "-"):
		a, b, _ := strings.Cut(s, "-")
		lo, _ := strconv.Atoi(a)
		hi, _ := strconv.Atoi(b)
		return vrange{lo: lo, hi: hi}
	}
	v, _ := strconv.Atoi(s)
	return vrange{lo: v, hi: v}
}

func (r vrange) has(v int16) bool { return !r.none && int(v) >= r.lo && int(v) <= r.hi }

type fieldInfo struct {
	present, nullable bool
}

func parseTag(tag string, version int16) (fieldInfo, bool) {
	if tag == "" || tag == "-" {
		return fieldInfo{}, false
	}
	var fi fieldInfo
	for _, part := range strings.Split(tag, ",") {
		k, v, _ := strings.Cut(part, "=")
		switch k {
		case "versions":
			fi.present = parseRange(v).has(version)
		case "nullable":
			fi.nullable = parseRange(v).has(version)
		}
	}
	return fi, true
}

var (
	recordSetType = reflect.TypeOf(wire.RecordSet{})
	tagsType      = reflect.TypeOf(wire.Tags(nil))
	uuidType      = reflect.TypeOf(wire.UUID{})
)

// Sluice fills m (a pointer to a generated message, already defaulted) with random values
// valid at version: fields absent from version keep their defaults and nulls appear only
// where version allows them. With flexible set, some structs get unknown tagged fields
// (tags from 1000 up, above every known tag).
func Sluice(m any, version int16, flexible bool, rng *rand.Rand) {
	fillSluiceStruct(reflect.ValueOf(m).Elem(), version, flexible, rng)
}

func fillSluiceStruct(v reflect.Value, version int16, flexible bool, rng *rand.Rand) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		f := v.Field(i)
		if sf.Type == tagsType {
			if flexible && rng.IntN(4) == 0 {
				n := 1 + rng.IntN(2)
				tags := make(wire.Tags, n)
				for j := range tags {
					tags[j] = wire.TaggedField{Tag: uint32(1000 + j*7 + rng.IntN(5)), Data: randBytes(rng)}
				}
				f.Set(reflect.ValueOf(tags))
			}
			continue
		}
		fi, ok := parseTag(sf.Tag.Get("kafka"), version)
		if !ok || !fi.present {
			continue
		}
		fillSluiceValue(f, fi.nullable, version, flexible, rng)
	}
}

func fillSluiceValue(f reflect.Value, nullable bool, version int16, flexible bool, rng *rand.Rand) {
	null := nullable && rng.IntN(4) == 0
	switch {
	case f.Type() == recordSetType:
		if !null {
			f.Set(reflect.ValueOf(wire.RecordBytes(randBytes(rng))))
		} else {
			f.Set(reflect.ValueOf(wire.RecordSet{}))
		}
		return
	case f.Type() == uuidType:
		var u wire.UUID
		for i := range u {
			u[i] = byte(rng.IntN(256))
		}
		f.Set(reflect.ValueOf(u))
		return
	}
	switch f.Kind() {
	case reflect.Pointer:
		if null {
			f.SetZero()
			return
		}
		p := reflect.New(f.Type().Elem())
		if d, ok := p.Interface().(interface{ Default() }); ok {
			d.Default()
		}
		if p.Elem().Kind() == reflect.Struct {
			fillSluiceStruct(p.Elem(), version, flexible, rng)
		} else {
			fillScalar(p.Elem(), rng)
		}
		f.Set(p)
	case reflect.Slice:
		if null {
			f.SetZero()
			return
		}
		if f.Type().Elem().Kind() == reflect.Uint8 {
			f.SetBytes(randBytes(rng))
			return
		}
		n := rng.IntN(maxElems + 1)
		s := reflect.MakeSlice(f.Type(), n, n)
		for i := 0; i < n; i++ {
			e := s.Index(i)
			if e.Kind() == reflect.Struct {
				if d, ok := e.Addr().Interface().(interface{ Default() }); ok {
					d.Default()
				}
				fillSluiceStruct(e, version, flexible, rng)
			} else {
				fillSluiceValue(e, false, version, flexible, rng)
			}
		}
		f.Set(s)
	case reflect.Struct:
		fillSluiceStruct(f, version, flexible, rng)
	default:
		fillScalar(f, rng)
	}
}

func randBytes(rng *rand.Rand) []byte {
	b := make([]byte, rng.IntN(9))
	for i := range b {
		b[i] = byte(rng.IntN(256))
	}
	return b
}

const letters = "abcdefghijklmnopqrstuvwxyz-._0123456789"

func randString(rng *rand.Rand) string {
	b := make([]byte, rng.IntN(10))
	for i := range b {
		b[i] = letters[rng.IntN(len(letters))]
	}
	return string(b)
}

func fillScalar(f reflect.Value, rng *rand.Rand) {
	switch f.Kind() {
	case reflect.Bool:
		f.SetBool(rng.IntN(2) == 1)
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		// Mix small values (which hit defaults such as -1 and 0) with full-width ones.
		if rng.IntN(3) == 0 {
			f.SetInt(int64(rng.IntN(5) - 2))
		} else {
			f.SetInt(int64(rng.Uint64()))
		}
	case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		f.SetUint(rng.Uint64())
	case reflect.Float64:
		f.SetFloat(rng.NormFloat64() * 1e6)
	case reflect.String:
		f.SetString(randString(rng))
	case reflect.Array:
		for i := 0; i < f.Len(); i++ {
			f.Index(i).SetUint(uint64(rng.IntN(256)))
		}
	}
}

// Kmsg fills a kmsg message (a pointer) with random values. It never makes nil pointers or
// slices, because kmsg writes nil as null even in versions where the field is not
// nullable; nulls are covered from the Sluice side. The top-level Version field and
// unknown tags are left alone.
func Kmsg(m any, rng *rand.Rand) {
	v := reflect.ValueOf(m).Elem()
	fillKmsgStruct(v, true, rng)
}

func fillKmsgStruct(v reflect.Value, top bool, rng *rand.Rand) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		if !sf.IsExported() || sf.Name == "UnknownTags" || (top && sf.Name == "Version") {
			continue
		}
		fillKmsgValue(v.Field(i), rng)
	}
}

func fillKmsgValue(f reflect.Value, rng *rand.Rand) {
	switch f.Kind() {
	case reflect.Pointer:
		p := reflect.New(f.Type().Elem())
		if d, ok := p.Interface().(interface{ Default() }); ok {
			d.Default()
		}
		fillKmsgValue(p.Elem(), rng)
		f.Set(p)
	case reflect.Slice:
		if f.Type().Elem().Kind() == reflect.Uint8 {
			f.SetBytes(randBytes(rng))
			return
		}
		n := rng.IntN(maxElems + 1)
		s := reflect.MakeSlice(f.Type(), n, n)
		for i := 0; i < n; i++ {
			e := s.Index(i)
			if e.Kind() == reflect.Struct {
				if d, ok := e.Addr().Interface().(interface{ Default() }); ok {
					d.Default()
				}
			}
			fillKmsgValue(e, rng)
		}
		f.Set(s)
	case reflect.Struct:
		fillKmsgStruct(f, false, rng)
	default:
		fillScalar(f, rng)
	}
}
