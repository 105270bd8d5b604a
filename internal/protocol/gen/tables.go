package main

import (
	"fmt"
	"sort"
	"strings"
)

type api struct {
	key       int
	name      string
	req, resp *message
}

// emitAPITable writes the one table of API keys and the constructors keyed by it.
func emitAPITable(b *buf, msgs []*message) {
	byKey := map[int]*api{}
	for _, m := range msgs {
		if m.apiKey < 0 {
			continue
		}
		a := byKey[m.apiKey]
		if a == nil {
			a = &api{key: m.apiKey}
			byKey[m.apiKey] = a
		}
		switch m.spec.Type {
		case "request":
			a.req = m
			a.name = strings.TrimSuffix(m.name, "Request")
		case "response":
			a.resp = m
		}
	}
	var apis []*api
	for _, a := range byKey {
		if a.req == nil || a.resp == nil {
			fatalf("API key %d lacks a request or a response", a.key)
		}
		if a.req.valid != a.resp.valid || a.req.flexible != a.resp.flexible {
			fatalf("API key %d: request and response versions differ", a.key)
		}
		apis = append(apis, a)
	}
	sort.Slice(apis, func(i, j int) bool { return apis[i].key < apis[j].key })

	b.l("// API keys, named after the request without its Request suffix.")
	b.l("const (")
	for _, a := range apis {
		b.f("Key%s int16 = %d\n", a.name, a.key)
	}
	b.l(")")
	b.l("")
	b.l("// apis is the table of every API key the specs define, in key order.")
	b.l("var apis = []APIInfo{")
	for _, a := range apis {
		flex := -1
		if !a.req.flexible.none {
			flex = a.req.flexible.lo
		}
		stable := a.req.valid.hi
		if a.req.spec.LatestVersionUnstable {
			stable--
		}
		var listeners []string
		for _, l := range a.req.spec.Listeners {
			listeners = append(listeners, fmt.Sprintf("%q", l))
		}
		sort.Strings(listeners)
		b.f("{Key: %d, Name: %q, MinVersion: %d, MaxVersion: %d, MaxStableVersion: %d, FlexibleVersion: %d, Listeners: []string{%s}},\n",
			a.key, a.name, a.req.valid.lo, a.req.valid.hi, stable, flex, strings.Join(listeners, ", "))
	}
	b.l("}")
	b.l("")
	b.l("// apiIndex maps a key to its position in apis, or -1.")
	b.l("func apiIndex(key int16) int {")
	b.l("switch key {")
	for i, a := range apis {
		b.f("case %d:\nreturn %d\n", a.key, i)
	}
	b.l("}")
	b.l("return -1")
	b.l("}")
	b.l("")
	b.l("// NewRequest returns a new request with the spec's defaults for key, or nil if the")
	b.l("// key is unknown.")
	b.l("func NewRequest(key int16) Request {")
	b.l("switch key {")
	for _, a := range apis {
		b.f("case %d:\nreturn New%s()\n", a.key, a.req.name)
	}
	b.l("}")
	b.l("return nil")
	b.l("}")
	b.l("")
	b.l("// NewResponse returns a new response with the spec's defaults for key, or nil if the")
	b.l("// key is unknown.")
	b.l("func NewResponse(key int16) Response {")
	b.l("switch key {")
	for _, a := range apis {
		b.f("case %d:\nreturn New%s()\n", a.key, a.resp.name)
	}
	b.l("}")
	b.l("return nil")
	b.l("}")
	b.l("")
}

// emitMetaTable writes the metadata record type constants and constructor.
func emitMetaTable(b *buf, msgs []*message) {
	sorted := append([]*message(nil), msgs...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].apiKey < sorted[j].apiKey })
	seen := map[int]string{}
	b.l("// Metadata record types (the apiKey of each metadata record spec).")
	b.l("const (")
	for _, m := range sorted {
		if m.apiKey < 0 {
			fatalf("%s: metadata record without apiKey", m.spec.path)
		}
		if prev, ok := seen[m.apiKey]; ok {
			fatalf("record type %d used by %s and %s", m.apiKey, prev, m.name)
		}
		seen[m.apiKey] = m.name
		b.f("Type%s int16 = %d\n", m.name, m.apiKey)
	}
	b.l(")")
	b.l("")
	b.l("// NewRecord returns a new record of type typ with the spec's defaults, or nil if the")
	b.l("// type is unknown.")
	b.l("func NewRecord(typ int16) Record {")
	b.l("switch typ {")
	for _, m := range sorted {
		b.f("case %d:\nreturn New%s()\n", m.apiKey, m.name)
	}
	b.l("}")
	b.l("return nil")
	b.l("}")
	b.l("")
}

// emitKeyTable writes the key-version dispatch of a version-prefixed key/value topic: a
// key's version selects the key type and, with it, the type of the value.
func emitKeyTable(b *buf, msgs []*message) {
	names := map[string]*message{}
	for _, m := range msgs {
		names[m.name] = m
	}
	type pair struct {
		version    int
		key, value *message
	}
	var pairs []pair
	for _, m := range msgs {
		if !strings.HasSuffix(m.name, "Key") {
			continue
		}
		v := names[strings.TrimSuffix(m.name, "Key")+"Value"]
		if v == nil {
			fatalf("%s has no matching value schema", m.name)
		}
		for ver := m.valid.lo; ver <= m.valid.hi; ver++ {
			pairs = append(pairs, pair{ver, m, v})
		}
	}
	sort.Slice(pairs, func(i, j int) bool { return pairs[i].version < pairs[j].version })
	for i := 1; i < len(pairs); i++ {
		if pairs[i].version == pairs[i-1].version {
			fatalf("key version %d used by %s and %s", pairs[i].version, pairs[i].key.name, pairs[i-1].key.name)
		}
	}
	b.l("// Key versions: the int16 that prefixes a key selects its schema.")
	b.l("const (")
	for _, p := range pairs {
		b.f("KeyVersion%sV%d int16 = %d\n", strings.TrimSuffix(p.key.name, "Key"), p.version, p.version)
	}
	b.l(")")
	b.l("")
	b.l("// NewKey returns a new key of the type written with key version version, or nil.")
	b.l("func NewKey(version int16) wire.Message {")
	b.l("switch version {")
	for _, p := range pairs {
		b.f("case %d:\nreturn New%s()\n", p.version, p.key.name)
	}
	b.l("}")
	b.l("return nil")
	b.l("}")
	b.l("")
	b.l("// NewValue returns a new value of the type that pairs with keys of version keyVersion,")
	b.l("// or nil.")
	b.l("func NewValue(keyVersion int16) wire.Message {")
	b.l("switch keyVersion {")
	for _, p := range pairs {
		b.f("case %d:\nreturn New%s()\n", p.version, p.value.name)
	}
	b.l("}")
	b.l("return nil")
	b.l("}")
	b.l("")
	b.l("// DecodeKey decodes a version-prefixed key and returns its version and value.")
	b.l("func DecodeKey(b []byte) (int16, wire.Message, error) {")
	b.l("return wire.DecodeVersioned(b, NewKey)")
	b.l("}")
	b.l("")
	b.l("// DecodeValue decodes a version-prefixed value stored under a key of version")
	b.l("// keyVersion. A nil b (a tombstone) returns a nil message and no error.")
	b.l("func DecodeValue(keyVersion int16, b []byte) (int16, wire.Message, error) {")
	b.l("if b == nil {\nreturn 0, nil, nil\n}")
	b.l("if NewValue(keyVersion) == nil {\nreturn 0, nil, wire.VersionError(\"key\", keyVersion)\n}")
	b.l("return wire.DecodeVersioned(b, func(int16) wire.Message { return NewValue(keyVersion) })")
	b.l("}")
	b.l("")
	b.l("// AppendKey appends key m with its int16 version prefix.")
	b.l("func AppendKey(dst []byte, version int16, m wire.Message) ([]byte, error) {")
	b.l("return wire.AppendVersioned(dst, version, m)")
	b.l("}")
	b.l("")
	b.l("// AppendValue appends value m with its int16 version prefix.")
	b.l("func AppendValue(dst []byte, version int16, m wire.Message) ([]byte, error) {")
	b.l("return wire.AppendVersioned(dst, version, m)")
	b.l("}")
	b.l("")
}
