package main

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// A message is one spec file turned into Go types.
type message struct {
	spec     *specFile
	name     string // Go type name of the top-level struct
	valid    vrange
	flexible vrange
	top      *structType
	structs  []*structType // top first, then nested in definition order
	apiKey   int           // -1 when the spec has none
}

type structType struct {
	name     string // Go type name
	specName string
	msg      *message
	fields   []*field
	// taggable: whether the struct ever carries a tagged-field section.
	taggable bool
	// needIsDefault: the struct is the type of a non-array struct field, so encoders must
	// be able to compare it with its default.
	needIsDefault bool
	minSize       int
}

type fieldKind int

const (
	kindPrim fieldKind = iota
	kindArray
	kindStruct
)

type field struct {
	spec      *specField
	name      string // Go field name
	kind      fieldKind
	prim      string      // primitive type name for kindPrim, and element type of arrays of primitives
	elem      *structType // struct type for kindStruct, or element type for arrays of structs
	versions  vrange      // versions in which the field is present (inline or tagged)
	nullable  vrange
	tagged    vrange
	tag       int // -1 when not tagged
	flexOver  *vrange
	ignorable bool
	parent    *structType
}

var primitives = map[string]bool{
	"bool": true, "int8": true, "int16": true, "uint16": true, "int32": true, "uint32": true,
	"int64": true, "float64": true, "string": true, "bytes": true, "uuid": true, "records": true,
}

// methodNames are taken by generated methods, so no field may use them.
var methodNames = map[string]bool{
	"Default": true, "Decode": true, "Encode": true, "APIKey": true, "MinVersion": true,
	"MaxVersion": true, "IsFlexible": true, "UnknownTags": true,
}

func exported(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func buildMessage(f *specFile) *message {
	m := &message{
		spec:     f,
		name:     exported(f.Name),
		valid:    mustRange(f.ValidVersions, f.path),
		flexible: mustRange(f.FlexibleVersions, f.path),
		apiKey:   -1,
	}
	if f.APIKey != nil {
		m.apiKey = *f.APIKey
	}
	common := map[string]*specField{}
	for _, cs := range f.CommonStructs {
		common[cs.Name] = cs
	}
	built := map[string]*structType{}
	var build func(specName string, goName string, fields []*specField) *structType
	build = func(specName, goName string, fields []*specField) *structType {
		if s, ok := built[specName]; ok {
			return s
		}
		s := &structType{name: goName, specName: specName, msg: m}
		built[specName] = s
		m.structs = append(m.structs, s)
		seen := map[string]bool{}
		for _, sf := range fields {
			fd := &field{spec: sf, name: exported(sf.Name), tag: -1, parent: s, ignorable: sf.Ignorable}
			where := f.path + ": " + specName + "." + sf.Name
			if (methodNames[fd.name] && (specName == f.Name || fd.name == "Default" || fd.name == "UnknownTags")) || seen[fd.name] {
				fatalf("%s: field name %s collides with a generated name", where, fd.name)
			}
			seen[fd.name] = true
			fd.tagged = mustRange(sf.TaggedVersions, where)
			vs := sf.Versions
			if vs == "" {
				vs = sf.TaggedVersions // tagged-only fields may omit versions
			}
			fd.versions = mustRange(vs, where).intersect(m.valid)
			fd.nullable = mustRange(sf.NullableVersions, where)
			if sf.Tag != nil {
				t, err := strconv.Atoi(fmt.Sprint(sf.Tag))
				if err != nil || t < 0 {
					fatalf("%s: bad tag %v", where, sf.Tag)
				}
				fd.tag = t
				if fd.tagged.none {
					fatalf("%s: tag without taggedVersions", where)
				}
				if !fd.tagged.covers(fd.versions) {
					fatalf("%s: field is present outside its tagged versions", where)
				}
			}
			if sf.FlexibleVersions != "" {
				r := mustRange(sf.FlexibleVersions, where)
				fd.flexOver = &r
			}
			t := sf.Type
			switch {
			case strings.HasPrefix(t, "[]"):
				fd.kind = kindArray
				et := t[2:]
				if primitives[et] {
					fd.prim = et
				} else {
					fd.elem = build(et, structName(m.name, et), structFields(sf, common, where))
				}
			case primitives[t]:
				fd.kind = kindPrim
				fd.prim = t
			default:
				fd.kind = kindStruct
				fd.elem = build(t, structName(m.name, t), structFields(sf, common, where))
				fd.elem.needIsDefault = true
			}
			s.fields = append(s.fields, fd)
		}
		return s
	}
	m.top = build(f.Name, m.name, f.Fields)
	// A struct whose defaults must be compared needs the same for its struct fields.
	for changed := true; changed; {
		changed = false
		for _, s := range m.structs {
			if !s.needIsDefault {
				continue
			}
			for _, fd := range s.fields {
				if fd.kind == kindStruct && !fd.elem.needIsDefault {
					fd.elem.needIsDefault = true
					changed = true
				}
			}
		}
	}
	for _, s := range m.structs {
		s.taggable = !m.flexible.intersect(m.valid).none
		s.minSize = s.computeMinSize()
	}
	return m
}

func structFields(sf *specField, common map[string]*specField, where string) []*specField {
	if len(sf.Fields) > 0 {
		return sf.Fields
	}
	name := strings.TrimPrefix(sf.Type, "[]")
	cs, ok := common[name]
	if !ok {
		fatalf("%s: struct type %s has no fields and no common struct", where, name)
	}
	return cs.Fields
}

// structName prefixes nested struct names with the message name so that the flat Go
// package namespace stays collision free, unless the spec already did.
func structName(msg, s string) string {
	s = exported(s)
	if strings.HasPrefix(s, msg) {
		return s
	}
	return msg + s
}

// compactAt reports whether the field uses compact encodings at version v.
func (fd *field) compactAt(v int) bool {
	if fd.flexOver != nil {
		return fd.flexOver.contains(v)
	}
	return fd.parent.msg.flexible.contains(v)
}

// taggedAt reports whether the field travels in the tagged section at version v.
func (fd *field) taggedAt(v int) bool { return fd.tag >= 0 && fd.tagged.contains(v) }

// inlineAt reports whether the field is written in line (not tagged) at version v.
func (fd *field) inlineAt(v int) bool { return fd.versions.contains(v) && !fd.taggedAt(v) }

// nullableType reports whether the Go type must represent null.
func (fd *field) nullableType() bool {
	return !fd.nullable.intersect(fd.versions).none
}

// minSizeAt is the fewest bytes the field takes in line at version v.
func (fd *field) minSizeAt(v int) int {
	compact := fd.compactAt(v)
	switch fd.kind {
	case kindArray:
		if compact {
			return 1
		}
		return 4
	case kindStruct:
		if fd.nullable.contains(v) {
			return 1
		}
		return fd.elem.sizeAt(v)
	}
	return primMinSize(fd.prim, compact)
}

func primMinSize(prim string, compact bool) int {
	switch prim {
	case "bool", "int8":
		return 1
	case "int16", "uint16":
		return 2
	case "int32", "uint32":
		return 4
	case "int64", "float64":
		return 8
	case "uuid":
		return 16
	case "string":
		if compact {
			return 1
		}
		return 2
	case "bytes", "records":
		if compact {
			return 1
		}
		return 4
	}
	fatalf("unknown primitive %s", prim)
	return 0
}

// elemMinSize is the fewest bytes one array element takes at any version.
func (fd *field) elemMinSize() int {
	if fd.elem != nil {
		return fd.elem.minSize
	}
	best := -1
	for v := fd.versions.lo; !fd.versions.none && v <= fd.versions.hi && v <= fd.parent.msg.valid.hi; v++ {
		n := primMinSize(fd.prim, fd.compactAt(v))
		if best < 0 || n < best {
			best = n
		}
	}
	if best < 1 {
		best = 1
	}
	return best
}

func (s *structType) sizeAt(v int) int {
	n := 0
	for _, fd := range s.fields {
		if fd.inlineAt(v) {
			n += fd.minSizeAt(v)
		}
	}
	if s.msg.flexible.contains(v) {
		n++ // the tagged-field count
	}
	return n
}

func (s *structType) computeMinSize() int {
	best := -1
	for v := s.msg.valid.lo; v <= s.msg.valid.hi; v++ {
		if n := s.sizeAt(v); best < 0 || n < best {
			best = n
		}
	}
	if best < 1 {
		best = 1
	}
	return best
}

// goType is the Go type of the field.
func (fd *field) goType() string {
	switch fd.kind {
	case kindArray:
		if fd.elem != nil {
			return "[]" + fd.elem.name
		}
		return "[]" + primGoType(fd.prim, false)
	case kindStruct:
		if fd.nullableType() {
			return "*" + fd.elem.name
		}
		return fd.elem.name
	}
	return primGoType(fd.prim, fd.nullableType())
}

func primGoType(prim string, nullable bool) string {
	switch prim {
	case "string":
		if nullable {
			return "*string"
		}
		return "string"
	case "bytes":
		return "[]byte"
	case "uuid":
		return "wire.UUID"
	case "records":
		return "wire.RecordSet"
	}
	return prim
}

// defaultIsNull reports whether the spec default of a nullable field is null.
func (fd *field) defaultIsNull() bool {
	if fd.spec.Default == nil {
		// Records and nullable structs default to null; strings, bytes and arrays to empty.
		return fd.prim == "records" || fd.kind == kindStruct
	}
	s, ok := fd.spec.Default.(string)
	return ok && s == "null"
}

// defaultLit is the Go literal of a primitive field's default, or "" for the zero value.
func (fd *field) defaultLit() string {
	d := fd.spec.Default
	where := fd.parent.msg.spec.path + ": " + fd.name
	switch fd.prim {
	case "bool":
		if d == nil {
			return ""
		}
		switch v := d.(type) {
		case bool:
			if v {
				return "true"
			}
			return ""
		case string:
			if strings.EqualFold(v, "true") {
				return "true"
			}
			if strings.EqualFold(v, "false") {
				return ""
			}
		}
		fatalf("%s: bad bool default %v", where, d)
	case "int8", "int16", "uint16", "int32", "uint32", "int64":
		if d == nil {
			return ""
		}
		var s string
		switch v := d.(type) {
		case json.Number:
			s = v.String()
		case string:
			s = v
		default:
			fatalf("%s: bad integer default %v", where, d)
		}
		n, err := strconv.ParseInt(s, 0, 64)
		if err != nil {
			fatalf("%s: bad integer default %q: %v", where, s, err)
		}
		if n == 0 {
			return ""
		}
		return strconv.FormatInt(n, 10)
	case "float64":
		if d == nil {
			return ""
		}
		s := fmt.Sprint(d)
		if _, err := strconv.ParseFloat(s, 64); err != nil {
			fatalf("%s: bad float default %v", where, d)
		}
		if s == "0" || s == "0.0" {
			return ""
		}
		return s
	case "string":
		if d == nil {
			return ""
		}
		s, ok := d.(string)
		if !ok {
			fatalf("%s: bad string default %v", where, d)
		}
		if s == "null" || s == "" {
			return ""
		}
		return strconv.Quote(s)
	}
	return ""
}
