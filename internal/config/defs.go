package config

import (
	"fmt"
	"sort"
)

// Def is the one definition of a config key. Parsing, validation, the typed config,
// DescribeConfigs answers, --help and docs/CONFIG.md are all derived from the tables of Defs
// in defs_broker.go and defs_topic.go.
type Def struct {
	// Name is Kafka's property name (or a sluice.* name for keys Kafka does not have).
	Name string
	Type Type
	// Default is the default in properties syntax. It is meaningless when NoDefault is set.
	// Topic keys with broker synonyms take their default from the synonyms instead.
	Default string
	// NoDefault marks keys that are unset unless configured (Kafka's null default).
	NoDefault bool
	// Unit is what an integer counts (ms, hours, bytes); UnitNone otherwise.
	Unit Unit
	// Validator restricts values beyond their type; nil accepts any value of the type.
	Validator  Validator
	Importance Importance
	// Mode is the dynamic update mode (broker keys only; topic keys are always dynamic).
	Mode  UpdateMode
	Group Group
	// Doc is the documentation shown in --help, docs/CONFIG.md and DescribeConfigs.
	Doc string
	// Support says whether Sluice acts on the key.
	Support Support
	// Differs, when set, says how and why Sluice departs from Kafka for this key.
	Differs string
	// Topic is, for a broker key, the topic config it supplies the default of.
	Topic string
	// Synonyms are, for a topic key, the broker keys that supply its default, highest
	// precedence first (retention.ms: log.retention.ms, log.retention.minutes,
	// log.retention.hours). Their units are converted to the topic key's unit.
	Synonyms []string
}

// Sensitive reports whether values of the key must never be shown.
func (d *Def) Sensitive() bool { return d.Type == TypePassword }

// allowed describes the values the key accepts, for errors and docs.
func (d *Def) allowed() string {
	if d.Validator != nil {
		return d.Validator.String()
	}
	switch d.Type {
	case TypeBoolean:
		return "true or false"
	case TypeInt:
		return "32-bit integer"
	case TypeShort:
		return "16-bit integer"
	case TypeLong:
		return "64-bit integer"
	case TypeDouble:
		return "number"
	case TypeList:
		return "comma-separated list"
	}
	return ""
}

// defaultValue returns the key's parsed default, or a null Value.
func (d *Def) defaultValue() Value {
	if d.NoDefault {
		return Value{def: d, null: true, Source: SourceDefault}
	}
	v, err := parseValue(d, d.Default)
	if err != nil {
		// The tables are checked by TestDefsConsistent; reaching this is a programming error.
		panic(fmt.Sprintf("config: default of %s does not parse: %v", d.Name, err))
	}
	v.Source = SourceDefault
	return v
}

// defTable is an immutable index of definitions.
type defTable struct {
	list     []Def
	byName   map[string]*Def
	defaults map[string]Value // parsed defaults of keys that have their own
}

func newDefTable(list []Def) *defTable {
	t := &defTable{list: list, byName: make(map[string]*Def, len(list)), defaults: map[string]Value{}}
	for i := range t.list {
		d := &t.list[i]
		if _, dup := t.byName[d.Name]; dup {
			panic("config: key defined twice: " + d.Name)
		}
		t.byName[d.Name] = d
		if !d.NoDefault && len(d.Synonyms) == 0 {
			t.defaults[d.Name] = d.defaultValue()
		}
	}
	return t
}

// brokerDefault returns the parsed default of a broker key that has one.
func brokerDefault(d *Def) Value { return brokerTable.defaults[d.Name] }

func (t *defTable) get(name string) *Def { return t.byName[name] }

// sorted returns the definitions in doc order: by group, then most important first (as
// Kafka's docs order them), then by name.
func (t *defTable) sorted() []*Def {
	rank := map[Group]int{}
	for i, g := range groupOrder {
		rank[g] = i
	}
	out := make([]*Def, len(t.list))
	for i := range t.list {
		out[i] = &t.list[i]
	}
	sort.SliceStable(out, func(i, j int) bool {
		if rank[out[i].Group] != rank[out[j].Group] {
			return rank[out[i].Group] < rank[out[j].Group]
		}
		if out[i].Importance != out[j].Importance {
			return out[i].Importance < out[j].Importance
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// The definition tables. They are the package's only globals and are never modified after
// initialisation; accessors hand out copies.
var (
	brokerTable = newDefTable(brokerDefs())
	topicTable  = newDefTable(topicDefs())
)

// BrokerDefs returns every broker key's definition, in doc order.
func BrokerDefs() []Def { return copyDefs(brokerTable.sorted()) }

// TopicDefs returns every topic key's definition, in doc order.
func TopicDefs() []Def { return copyDefs(topicTable.sorted()) }

// LookupBroker returns the definition of a broker key.
func LookupBroker(name string) (Def, bool) {
	d := brokerTable.get(name)
	if d == nil {
		return Def{}, false
	}
	return copyDef(d), true
}

// LookupTopic returns the definition of a topic key.
func LookupTopic(name string) (Def, bool) {
	d := topicTable.get(name)
	if d == nil {
		return Def{}, false
	}
	return copyDef(d), true
}

func copyDef(d *Def) Def {
	c := *d
	c.Synonyms = append([]string(nil), d.Synonyms...)
	return c
}

func copyDefs(ds []*Def) []Def {
	out := make([]Def, len(ds))
	for i, d := range ds {
		out[i] = copyDef(d)
	}
	return out
}
