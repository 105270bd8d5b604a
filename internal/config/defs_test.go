package config

import (
	"errors"
	"strings"
	"testing"
)

// TestDefsConsistent checks the tables against themselves, so a new key cannot be added
// half-way: defaults that parse and pass their validator, documentation, topic links that
// point both ways, units on time keys.
func TestDefsConsistent(t *testing.T) {
	for _, tab := range []*defTable{brokerTable, topicTable} {
		for i := range tab.list {
			d := &tab.list[i]
			if d.Doc == "" || !strings.HasSuffix(strings.TrimSpace(d.Doc), ".") {
				t.Errorf("%s: documentation missing or not a sentence: %q", d.Name, d.Doc)
			}
			if d.Type == TypeUnknown {
				t.Errorf("%s: no type", d.Name)
			}
			if d.Group == "" {
				t.Errorf("%s: no group", d.Name)
			}
			if strings.HasSuffix(d.Name, ".ms") && d.Unit != UnitMillis {
				t.Errorf("%s: a .ms key without UnitMillis", d.Name)
			}
			if d.Unit != UnitNone && !d.Type.isInteger() {
				t.Errorf("%s: unit on a non-integer type", d.Name)
			}
			if d.Differs != "" && !strings.HasSuffix(d.Differs, ".") {
				t.Errorf("%s: Differs is not a sentence", d.Name)
			}
			if d.Support == Informational && !strings.Contains(d.Doc, "no effect: ") {
				t.Errorf("%s: an informational key's doc must say why it has no effect after \"no effect: \"", d.Name)
			}
			if d.NoDefault && d.Default != "" {
				t.Errorf("%s: NoDefault with a default", d.Name)
			}
			if !d.NoDefault && len(d.Synonyms) == 0 {
				if _, err := parseValue(d, d.Default); err != nil {
					t.Errorf("%s: default %q is invalid: %v", d.Name, d.Default, err)
				}
			}
		}
	}
	for i := range brokerTable.list {
		d := &brokerTable.list[i]
		if d.Group == GroupTopic || len(d.Synonyms) > 0 {
			t.Errorf("%s: broker key with topic-only fields", d.Name)
		}
		if strings.HasPrefix(d.Name, "sluice.") != (d.Group == GroupSluice) {
			t.Errorf("%s: sluice.* keys, and only they, belong in GroupSluice", d.Name)
		}
		if d.Topic == "" {
			continue
		}
		td := topicTable.get(d.Topic)
		if td == nil {
			t.Errorf("%s: topic config %s does not exist", d.Name, d.Topic)
			continue
		}
		if !contains(td.Synonyms, d.Name) {
			t.Errorf("%s: topic config %s does not list it as a synonym", d.Name, d.Topic)
		}
	}
	for i := range topicTable.list {
		d := &topicTable.list[i]
		if d.Group != GroupTopic || d.Mode != ReadOnly || d.Topic != "" {
			t.Errorf("%s: topic key with broker-only fields", d.Name)
		}
		if len(d.Synonyms) > 0 && (d.Default != "" || d.NoDefault) {
			t.Errorf("%s: a topic key with synonyms takes its default from them", d.Name)
		}
		hasDefault := false
		for _, s := range d.Synonyms {
			bd := brokerTable.get(s)
			if bd == nil {
				t.Errorf("%s: synonym %s is not a broker key", d.Name, s)
				continue
			}
			if bd.Topic != d.Name {
				t.Errorf("%s: synonym %s names topic config %q", d.Name, s, bd.Topic)
			}
			if bd.Type != d.Type && !(bd.Type.isInteger() && d.Type.isInteger()) {
				t.Errorf("%s: synonym %s has type %s, want %s", d.Name, s, bd.Type, d.Type)
			}
			if (bd.Unit.millis() == 0) != (d.Unit.millis() == 0) {
				t.Errorf("%s: synonym %s has unit %s, the topic key %s", d.Name, s, bd.Unit, d.Unit)
			}
			hasDefault = hasDefault || !bd.NoDefault
		}
		if len(d.Synonyms) > 0 && !hasDefault {
			t.Errorf("%s: no synonym has a default", d.Name)
		}
		// The broker default converted to the topic key must satisfy the topic validator.
		if v, _ := topicDefault(d); !v.IsNull() && d.Validator != nil {
			if err := d.Validator.Validate(v); err != nil {
				t.Errorf("%s: default %s fails the topic validator: %v", d.Name, v, err)
			}
		}
	}
}

// Kafka's defaults for the keys whose values matter most to compatibility, checked against
// the table so an accidental edit shows up here.
func TestKafkaDefaults(t *testing.T) {
	want := map[string]string{
		"num.partitions":                        "1",
		"default.replication.factor":            "1",
		"min.insync.replicas":                   "1",
		"log.retention.hours":                   "168",
		"log.retention.bytes":                   "-1",
		"log.segment.bytes":                     "1073741824",
		"log.index.interval.bytes":              "4096",
		"log.index.size.max.bytes":              "10485760",
		"log.cleaner.min.cleanable.ratio":       "0.5",
		"log.cleaner.delete.retention.ms":       "86400000",
		"log.message.timestamp.after.max.ms":    "3600000",
		"message.max.bytes":                     "1048588",
		"socket.request.max.bytes":              "104857600",
		"replica.lag.time.max.ms":               "30000",
		"offsets.topic.num.partitions":          "50",
		"offsets.topic.replication.factor":      "3",
		"offsets.retention.minutes":             "10080",
		"transaction.state.log.min.isr":         "2",
		"transaction.max.timeout.ms":            "900000",
		"group.consumer.session.timeout.ms":     "45000",
		"group.coordinator.rebalance.protocols": "classic,consumer",
		"broker.session.timeout.ms":             "9000",
		"fetch.max.bytes":                       "57671680",
		"listeners":                             "PLAINTEXT://:9092",
		"sluice.log.flush.policy":               "group-commit",
	}
	for k, v := range want {
		d, ok := LookupBroker(k)
		if !ok {
			t.Errorf("%s: not defined", k)
			continue
		}
		if d.Default != v {
			t.Errorf("%s: default %q, want %q", k, d.Default, v)
		}
	}
}

func TestLookupCopies(t *testing.T) {
	d, ok := LookupTopic("retention.ms")
	if !ok {
		t.Fatal("retention.ms not found")
	}
	d.Synonyms[0] = "mutated"
	d2, _ := LookupTopic("retention.ms")
	if d2.Synonyms[0] != "log.retention.ms" {
		t.Error("LookupTopic hands out the table's own slice")
	}
	if _, ok := LookupBroker("retention.ms"); ok {
		t.Error("a topic key is found among broker keys")
	}
	if len(BrokerDefs()) != len(brokerTable.list) || len(TopicDefs()) != len(topicTable.list) {
		t.Error("BrokerDefs/TopicDefs do not list every key")
	}
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// TestValidators runs every validator through accepted and refused values. The coverage
// check at the end fails when a key gets a validator that no row here exercises.
func TestValidators(t *testing.T) {
	tests := []struct {
		key   string
		topic bool
		ok    []string
		bad   []string
	}{
		// Ranges.
		{key: "num.partitions", ok: []string{"1", " 7 ", "+3", "2147483647"}, bad: []string{"0", "-1", "2147483648", "1.5", "0x10", "1_000", "", "one"}},
		{key: "log.segment.bytes", ok: []string{"1048576", "1073741824"}, bad: []string{"1048575", "14"}},
		{key: "log.cleaner.threads", ok: []string{"0", "8"}, bad: []string{"-1"}},
		{key: "log.cleaner.max.compaction.lag.ms", ok: []string{"1", "9223372036854775807"}, bad: []string{"0", "9223372036854775808"}},
		{key: "fetch.max.bytes", ok: []string{"1024"}, bad: []string{"1023"}},
		{key: "log.index.size.max.bytes", ok: []string{"4"}, bad: []string{"3"}},
		{key: "compression.lz4.level", ok: []string{"1", "17"}, bad: []string{"0", "18"}},
		{key: "compression.zstd.level", ok: []string{"-131072", "0", "22"}, bad: []string{"-131073", "23"}},
		{key: "compression.gzip.level", ok: []string{"-1", "1", "9"}, bad: []string{"0", "10", "-2"}},
		{key: "offsets.topic.replication.factor", ok: []string{"1", "32767"}, bad: []string{"0", "32768"}},
		{key: "default.replication.factor", ok: []string{"1", "32767"}, bad: []string{"0", "32768", "-1"}},
		{key: "retention.ms", topic: true, ok: []string{"-1", "0", "1000"}, bad: []string{"-2"}},
		{key: "log.cleaner.min.cleanable.ratio", ok: []string{"0", "0.5", "1", "1.0", "5e-1"}, bad: []string{"-0.1", "1.01", "NaN", "abc", ""}},
		// Booleans, case-insensitive as in Kafka.
		{key: "auto.create.topics.enable", ok: []string{"true", "FALSE", " True "}, bad: []string{"yes", "1", ""}},
		// Enumerations: case-sensitive unless Kafka folds case.
		{key: "compression.type", ok: []string{"producer", "zstd", "uncompressed", "gzip", "snappy", "lz4"}, bad: []string{"none", "ZSTD", ""}},
		{key: "log.message.timestamp.type", ok: []string{"CreateTime", "LogAppendTime"}, bad: []string{"createtime"}},
		{key: "security.inter.broker.protocol", ok: []string{"PLAINTEXT", "SASL_SSL"}, bad: []string{"plaintext", "TLS"}},
		{key: "sluice.logger.level", ok: []string{"debug", "INFO", "Warn", "error"}, bad: []string{"trace", "verbose"}},
		{key: "sluice.logger.format", ok: []string{"text", "json"}, bad: []string{"JSON", "logfmt"}},
		{key: "sluice.log.flush.policy", ok: []string{"none", "group-commit"}, bad: []string{"always", "GROUP-COMMIT"}},
		{key: "authorizer.class.name", ok: []string{"", standardAuthorizerClass}, bad: []string{"kafka.security.authorizer.AclAuthorizer"}},
		// Lists.
		{key: "log.cleanup.policy", ok: []string{"delete", "compact", "compact, delete", ""}, bad: []string{"delete,", "remove", "Delete"}},
		{key: "process.roles", ok: []string{"broker", "controller", "broker, controller", ""}, bad: []string{"broker,broker", "worker"}},
		{key: "group.coordinator.rebalance.protocols", ok: []string{"classic", "classic,consumer"}, bad: []string{"consumer", "classic,share", ""}},
		{key: "group.consumer.assignors", ok: []string{"uniform", "range,uniform", uniformAssignorClass}, bad: []string{"", "sticky", "com.example.MyAssignor"}},
		{key: "log.dirs", ok: []string{"/a", "/a,/b"}, bad: []string{"/a,/a"}},
		// Syntax of addresses.
		{key: "listeners", ok: []string{"PLAINTEXT://:9092", "plaintext://host:1,CONTROLLER://[::1]:2", "A://0.0.0.0:9092,B://[::]:9092", "A://:0,B://:0", ""},
			bad: []string{"PLAINTEXT://:99999", "PLAINTEXT:9092", "://:9092", "A://h:1,A://h:2", "A://h:1,B://g:1", "A://ho st:1", "A://h:port"}},
		{key: "advertised.listeners", ok: []string{"A://h:1,B://g:1"}, bad: []string{"A://h", "A://h:1,a://g:2"}},
		{key: "controller.quorum.voters", ok: []string{"1@h:9093", "1@h:9093, 2@[::1]:9093", ""},
			bad: []string{"h:9093", "x@h:9093", "-1@h:1", "1@h", "1@:9093", "1@0.0.0.0:9093", "1@h:1,1@g:1", "1@h@g:1"}},
		{key: "controller.quorum.bootstrap.servers", ok: []string{"h:1,g:2"}, bad: []string{"h", ":1"}},
		{key: "listener.security.protocol.map", ok: []string{"CONTROLLER:PLAINTEXT,EXTERNAL:sasl_ssl", ""}, bad: []string{"A", "A:TLS", ":PLAINTEXT"}},
		{key: "sluice.metrics.listener", ok: []string{"", "localhost:9644", "[::1]:1"}, bad: []string{"localhost", ":9644"}},
		{key: "max.connections.per.ip.overrides", ok: []string{"", "10.0.0.1:5,host:0"}, bad: []string{"host", "host:-1", "h st:1"}},
		// Keys Sluice refuses to pretend it honours.
		{key: "create.topic.policy.class.name", ok: []string{""}, bad: []string{"com.example.Policy"}},
		{key: "alter.config.policy.class.name", ok: []string{""}, bad: []string{"com.example.Policy"}},
		{key: "remote.storage.enable", topic: true, ok: []string{"false"}, bad: []string{"true"}},
		{key: "leader.replication.throttled.replicas", topic: true, ok: []string{"", "*", "0:1,1:2"}, bad: []string{"0-1", "a:b", "*,0:1"}},
	}
	covered := map[string]bool{}
	for _, tt := range tests {
		tab := brokerTable
		if tt.topic {
			tab = topicTable
		}
		d := tab.get(tt.key)
		if d == nil {
			t.Errorf("%s: no such key", tt.key)
			continue
		}
		covered[d.allowed()] = true
		for _, v := range tt.ok {
			if _, err := parseValue(d, v); err != nil {
				t.Errorf("%s=%q refused: %v", tt.key, v, err)
			}
		}
		for _, v := range tt.bad {
			_, err := parseValue(d, v)
			if err == nil {
				t.Errorf("%s=%q accepted", tt.key, v)
				continue
			}
			if !errors.Is(err, ErrInvalidValue) || err.Key != tt.key || err.Value != v || err.Allowed == "" {
				t.Errorf("%s=%q: error %v does not name the key, the value and what is allowed", tt.key, v, err)
			}
		}
	}
	for _, tab := range []*defTable{brokerTable, topicTable} {
		for i := range tab.list {
			d := &tab.list[i]
			if d.Validator != nil && !covered[d.allowed()] {
				t.Errorf("%s: its validator (%s) is not exercised by any row of this test", d.Name, d.allowed())
			}
		}
	}
}

func TestPasswordsHidden(t *testing.T) {
	d := &Def{Name: "ssl.key.password", Type: TypePassword, Validator: check{desc: "short", fn: func(v Value) error {
		if len(v.s) > 3 {
			return errors.New("too long")
		}
		return nil
	}}}
	v, err := parseValue(d, "abc")
	if err != nil {
		t.Fatal(err)
	}
	if v.String() != "[hidden]" || strPtr(v) != nil || v.Str() != "abc" {
		t.Errorf("password shown: String %q, entry %v", v.String(), strPtr(v))
	}
	_, err = parseValue(d, "secret")
	if err == nil || strings.Contains(err.Error(), "secret") {
		t.Errorf("error %v leaks the password", err)
	}
}
