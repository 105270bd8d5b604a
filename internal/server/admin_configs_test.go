package server

import (
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluicehq/sluice/internal/config"
)

// describeOne sends one DescribeConfigs resource at version v and returns its result.
func adminDescribe(t *testing.T, c *adminCluster, v int16, typ kmsg.ConfigResourceType, name string, keys ...string) kmsg.DescribeConfigsResponseResource {
	t.Helper()
	req := kmsg.NewPtrDescribeConfigsRequest()
	req.IncludeSynonyms = true
	req.IncludeDocumentation = true
	rr := kmsg.NewDescribeConfigsRequestResource()
	rr.ResourceType, rr.ResourceName, rr.ConfigNames = typ, name, keys
	req.Resources = []kmsg.DescribeConfigsRequestResource{rr}
	resp := c.kmsgRequest(v, req).(*kmsg.DescribeConfigsResponse)
	if len(resp.Resources) != 1 {
		t.Fatalf("%d results", len(resp.Resources))
	}
	return resp.Resources[0]
}

func adminConfigNamed(t *testing.T, res kmsg.DescribeConfigsResponseResource, name string) kmsg.DescribeConfigsResponseResourceConfig {
	t.Helper()
	for _, c := range res.Configs {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("%s not described among %d configs", name, len(res.Configs))
	return kmsg.DescribeConfigsResponseResourceConfig{}
}

func TestAdminDescribeTopicConfigs(t *testing.T) {
	c := startAdminCluster(t, map[string]string{"log.retention.hours": "48"})
	c.createTopic("t", 1, 1, map[string]*string{"segment.ms": adminStr("60000")})

	res := adminDescribe(t, c, 4, kmsg.ConfigResourceTypeTopic, "t")
	if res.ErrorCode != 0 || len(res.Configs) < 20 {
		t.Fatalf("describe: code %d, %d configs", res.ErrorCode, len(res.Configs))
	}
	if !slices.IsSortedFunc(res.Configs, func(a, b kmsg.DescribeConfigsResponseResourceConfig) int { return strings.Compare(a.Name, b.Name) }) {
		t.Errorf("configs not sorted by name")
	}
	// From the static broker config, through its synonym.
	ret := adminConfigNamed(t, res, "retention.ms")
	if adminMsg(ret.Value) != "172800000" || ret.Source != kmsg.ConfigSourceStaticBrokerConfig || ret.ReadOnly || ret.IsSensitive {
		t.Errorf("retention.ms %+v", ret)
	}
	if len(ret.ConfigSynonyms) == 0 || ret.ConfigSynonyms[0].Name != "log.retention.hours" || adminMsg(ret.ConfigSynonyms[0].Value) != "48" {
		t.Errorf("retention.ms synonyms %+v", ret.ConfigSynonyms)
	}
	if ret.ConfigType != kmsg.ConfigTypeLong || ret.Documentation == nil || *ret.Documentation == "" {
		t.Errorf("retention.ms type %v doc %v", ret.ConfigType, ret.Documentation)
	}
	// The topic's own override comes first.
	seg := adminConfigNamed(t, res, "segment.ms")
	if adminMsg(seg.Value) != "60000" || seg.Source != kmsg.ConfigSourceDynamicTopicConfig ||
		len(seg.ConfigSynonyms) == 0 || seg.ConfigSynonyms[0].Name != "segment.ms" {
		t.Errorf("segment.ms %+v", seg)
	}
	// A default.
	if mb := adminConfigNamed(t, res, "max.message.bytes"); adminMsg(mb.Value) != "1048588" || mb.Source != kmsg.ConfigSourceDefaultConfig {
		t.Errorf("max.message.bytes %+v", mb)
	}

	// configuration_keys; unknown names are skipped.
	if res := adminDescribe(t, c, 4, kmsg.ConfigResourceTypeTopic, "t", "segment.ms", "no.such", "segment.ms"); len(res.Configs) != 1 {
		t.Errorf("filtered: %+v", res.Configs)
	}
	// Without synonyms and documentation, and v0's is_default.
	req := kmsg.NewPtrDescribeConfigsRequest()
	rr := kmsg.NewDescribeConfigsRequestResource()
	rr.ResourceType, rr.ResourceName, rr.ConfigNames = kmsg.ConfigResourceTypeTopic, "t", []string{"max.message.bytes", "segment.ms"}
	req.Resources = []kmsg.DescribeConfigsRequestResource{rr}
	for v := int16(0); v <= 4; v++ {
		r := c.kmsgRequest(v, req).(*kmsg.DescribeConfigsResponse).Resources[0]
		if len(r.Configs) != 2 {
			t.Fatalf("v%d: %+v", v, r)
		}
		for _, cf := range r.Configs {
			if len(cf.ConfigSynonyms) != 0 || cf.Documentation != nil {
				t.Errorf("v%d %s: synonyms or documentation not asked for: %+v", v, cf.Name, cf)
			}
			if v == 0 && cf.IsDefault != (cf.Name == "max.message.bytes") {
				t.Errorf("v0 %s is_default %v", cf.Name, cf.IsDefault)
			}
		}
	}

	for _, tc := range []struct {
		name string
		want *kerr.Error
	}{{"missing", kerr.UnknownTopicOrPartition}, {"bad/name", kerr.InvalidTopicException}, {"", kerr.InvalidTopicException}} {
		if r := adminDescribe(t, c, 4, kmsg.ConfigResourceTypeTopic, tc.name); r.ErrorCode != tc.want.Code || r.ErrorMessage == nil || len(r.Configs) != 0 {
			t.Errorf("%q: %+v", tc.name, r)
		}
	}
}

func TestAdminDescribeBrokerConfigs(t *testing.T) {
	c := startAdminCluster(t, map[string]string{"num.partitions": "4"})
	res := adminDescribe(t, c, 4, kmsg.ConfigResourceTypeBroker, "1")
	if res.ErrorCode != 0 {
		t.Fatalf("broker 1: %+v", res)
	}
	np := adminConfigNamed(t, res, "num.partitions")
	if adminMsg(np.Value) != "4" || np.Source != kmsg.ConfigSourceStaticBrokerConfig {
		t.Errorf("num.partitions %+v", np)
	}
	if ld := adminConfigNamed(t, res, "log.dirs"); !ld.ReadOnly {
		t.Errorf("log.dirs not read-only: %+v", ld)
	}
	if lr := adminConfigNamed(t, res, "log.retention.ms"); lr.ReadOnly {
		t.Errorf("log.retention.ms read-only: %+v", lr)
	}
	// The cluster-wide default resource lists only what is set at that layer: nothing yet.
	if res := adminDescribe(t, c, 4, kmsg.ConfigResourceTypeBroker, ""); res.ErrorCode != 0 || len(res.Configs) != 0 {
		t.Errorf("cluster default: %+v", res)
	}
	for _, name := range []string{"2", "x"} {
		if res := adminDescribe(t, c, 4, kmsg.ConfigResourceTypeBroker, name); res.ErrorCode != kerr.InvalidRequest.Code || res.ErrorMessage == nil {
			t.Errorf("broker %q: %+v", name, res)
		}
	}
	if res := adminDescribe(t, c, 4, kmsg.ConfigResourceType(32), "group"); res.ErrorCode != kerr.InvalidRequest.Code {
		t.Errorf("group resource: %+v", res)
	}
}

func TestAdminIncrementalAlterTopicConfigs(t *testing.T) {
	c := startAdminCluster(t, nil)
	ctx := c.ctx()
	c.createTopic("t", 1, 1, nil)

	alter := func(configs ...kadm.AlterConfig) kadm.AlterConfigsResponse {
		t.Helper()
		rs, err := c.adm.AlterTopicConfigs(ctx, configs, "t")
		if err != nil || len(rs) != 1 {
			t.Fatalf("alter: %v %+v", err, rs)
		}
		return rs[0]
	}
	value := func(name string) (string, kmsg.ConfigSource) {
		t.Helper()
		cf := adminConfigNamed(t, adminDescribe(t, c, 4, kmsg.ConfigResourceTypeTopic, "t", name), name)
		return adminMsg(cf.Value), cf.Source
	}

	if r := alter(kadm.AlterConfig{Op: kadm.SetConfig, Name: "retention.ms", Value: adminStr("5000")}); r.Err != nil {
		t.Fatalf("set: %+v", r)
	}
	if v, src := value("retention.ms"); v != "5000" || src != kmsg.ConfigSourceDynamicTopicConfig {
		t.Errorf("after set: %s %v", v, src)
	}
	if r := alter(kadm.AlterConfig{Op: kadm.AppendConfig, Name: "cleanup.policy", Value: adminStr("compact")}); r.Err != nil {
		t.Fatalf("append: %+v", r)
	}
	if v, _ := value("cleanup.policy"); v != "delete,compact" {
		t.Errorf("after append: %s", v)
	}
	if r := alter(kadm.AlterConfig{Op: kadm.SubtractConfig, Name: "cleanup.policy", Value: adminStr("delete")}); r.Err != nil {
		t.Fatalf("subtract: %+v", r)
	}
	if v, _ := value("cleanup.policy"); v != "compact" {
		t.Errorf("after subtract: %s", v)
	}
	if r := alter(kadm.AlterConfig{Op: kadm.DeleteConfig, Name: "retention.ms"}); r.Err != nil {
		t.Fatalf("delete: %+v", r)
	}
	if v, src := value("retention.ms"); v != "604800000" || src != kmsg.ConfigSourceDefaultConfig {
		t.Errorf("after delete: %s %v", v, src)
	}

	// Validate-only changes nothing.
	vr, err := c.adm.ValidateAlterTopicConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "retention.ms", Value: adminStr("1")}}, "t")
	if err != nil || vr[0].Err != nil {
		t.Fatalf("validate: %v %+v", err, vr)
	}
	if v, _ := value("retention.ms"); v != "604800000" {
		t.Errorf("validate-only changed retention.ms to %s", v)
	}

	for _, tc := range []struct {
		name    string
		cfg     kadm.AlterConfig
		want    *kerr.Error
		message string
	}{
		{"bad value", kadm.AlterConfig{Op: kadm.SetConfig, Name: "retention.ms", Value: adminStr("soon")}, kerr.InvalidConfig, "retention.ms"},
		{"unknown key", kadm.AlterConfig{Op: kadm.SetConfig, Name: "no.such", Value: adminStr("1")}, kerr.InvalidConfig, "no.such"},
		{"append to a non-list", kadm.AlterConfig{Op: kadm.AppendConfig, Name: "retention.ms", Value: adminStr("1")}, kerr.InvalidConfig, "retention.ms"},
		{"null set", kadm.AlterConfig{Op: kadm.SetConfig, Name: "retention.ms"}, kerr.InvalidRequest, "Null value"},
	} {
		r := alter(tc.cfg)
		if !adminIsErr(r.Err, tc.want) || !strings.Contains(r.ErrMessage, tc.message) {
			t.Errorf("%s: %v %q, want %s containing %q", tc.name, r.Err, r.ErrMessage, tc.want.Message, tc.message)
		}
	}

	// Resource-level checks, raw.
	req := kmsg.NewPtrIncrementalAlterConfigsRequest()
	res := func(typ kmsg.ConfigResourceType, name string, ops ...kmsg.IncrementalAlterConfigsRequestResourceConfig) {
		r := kmsg.NewIncrementalAlterConfigsRequestResource()
		r.ResourceType, r.ResourceName, r.Configs = typ, name, ops
		req.Resources = append(req.Resources, r)
	}
	set := func(name, value string) kmsg.IncrementalAlterConfigsRequestResourceConfig {
		return kmsg.IncrementalAlterConfigsRequestResourceConfig{Name: name, Value: adminStr(value), Op: kmsg.IncrementalAlterConfigOpSet}
	}
	res(kmsg.ConfigResourceTypeTopic, "missing", set("retention.ms", "1"))
	res(kmsg.ConfigResourceTypeTopic, "", set("retention.ms", "1"))
	res(kmsg.ConfigResourceTypeTopic, "bad/name", set("retention.ms", "1"))
	res(kmsg.ConfigResourceTypeTopic, "t", set("retention.ms", "1"), set("retention.ms", "2"))
	res(kmsg.ConfigResourceTypeTopic, "twice", set("retention.ms", "1"))
	res(kmsg.ConfigResourceTypeTopic, "twice", set("retention.ms", "1"))
	res(kmsg.ConfigResourceType(99), "x", set("a", "1"))
	resp := c.kmsgRequest(1, req).(*kmsg.IncrementalAlterConfigsResponse)
	want := []int16{kerr.UnknownTopicOrPartition.Code, kerr.InvalidRequest.Code, kerr.InvalidTopicException.Code,
		kerr.InvalidRequest.Code, kerr.InvalidRequest.Code, kerr.InvalidRequest.Code, kerr.InvalidRequest.Code}
	var got []int16
	for _, r := range resp.Resources {
		got = append(got, r.ErrorCode)
		if r.ErrorMessage == nil {
			t.Errorf("%s: no message", r.ResourceName)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("codes %v, want %v", got, want)
	}
}

func TestAdminAlterBrokerConfigs(t *testing.T) {
	c := startAdminCluster(t, nil)
	ctx := c.ctx()
	c.createTopic("t", 1, 1, nil)

	// A cluster-wide default reaches topics without overrides at once.
	rs, err := c.adm.AlterBrokerConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "log.retention.ms", Value: adminStr("7200000")}})
	if err != nil || rs[0].Err != nil {
		t.Fatalf("cluster default: %v %+v", err, rs)
	}
	def := adminDescribe(t, c, 4, kmsg.ConfigResourceTypeBroker, "")
	if len(def.Configs) != 1 || def.Configs[0].Name != "log.retention.ms" || adminMsg(def.Configs[0].Value) != "7200000" ||
		def.Configs[0].Source != kmsg.ConfigSourceDynamicDefaultBrokerConfig {
		t.Fatalf("cluster default described as %+v", def.Configs)
	}
	for _, sy := range def.Configs[0].ConfigSynonyms {
		if sy.Source != kmsg.ConfigSourceDynamicDefaultBrokerConfig {
			t.Errorf("cluster default synonym from another layer: %+v", sy)
		}
	}
	ret := adminConfigNamed(t, adminDescribe(t, c, 4, kmsg.ConfigResourceTypeTopic, "t", "retention.ms"), "retention.ms")
	if adminMsg(ret.Value) != "7200000" || ret.Source != kmsg.ConfigSourceDynamicDefaultBrokerConfig {
		t.Errorf("topic retention.ms after the cluster default: %+v", ret)
	}

	// Per broker, over the cluster default.
	rs, err = c.adm.AlterBrokerConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "log.retention.ms", Value: adminStr("3600000")}}, 1)
	if err != nil || rs[0].Err != nil {
		t.Fatalf("per broker: %v %+v", err, rs)
	}
	lr := adminConfigNamed(t, adminDescribe(t, c, 4, kmsg.ConfigResourceTypeBroker, "1", "log.retention.ms"), "log.retention.ms")
	if adminMsg(lr.Value) != "3600000" || lr.Source != kmsg.ConfigSourceDynamicBrokerConfig || len(lr.ConfigSynonyms) < 2 ||
		lr.ConfigSynonyms[1].Source != kmsg.ConfigSourceDynamicDefaultBrokerConfig {
		t.Errorf("broker 1 log.retention.ms: %+v", lr)
	}

	for _, tc := range []struct {
		name    string
		broker  []int32
		cfg     kadm.AlterConfig
		message string
	}{
		{"read-only key", []int32{1}, kadm.AlterConfig{Op: kadm.SetConfig, Name: "log.dirs", Value: adminStr("/x")}, "log.dirs"},
		{"per-broker key as a default", nil, kadm.AlterConfig{Op: kadm.SetConfig, Name: "listeners", Value: adminStr("PLAINTEXT://:1")}, "listeners"},
		{"bad value", []int32{1}, kadm.AlterConfig{Op: kadm.SetConfig, Name: "log.cleaner.threads", Value: adminStr("-1")}, "log.cleaner.threads"},
		{"unknown key", []int32{1}, kadm.AlterConfig{Op: kadm.SetConfig, Name: "no.such.key", Value: adminStr("1")}, "no.such.key"},
	} {
		rs, err := c.adm.AlterBrokerConfigs(ctx, []kadm.AlterConfig{tc.cfg}, tc.broker...)
		if err != nil || len(rs) != 1 || !adminIsErr(rs[0].Err, kerr.InvalidRequest) || !strings.Contains(rs[0].ErrMessage, tc.message) {
			t.Errorf("%s: %v %+v", tc.name, err, rs)
		}
	}
	// Another broker's id: Kafka's broker only alters itself.
	req := kmsg.NewPtrIncrementalAlterConfigsRequest()
	r := kmsg.NewIncrementalAlterConfigsRequestResource()
	r.ResourceType, r.ResourceName = kmsg.ConfigResourceTypeBroker, "2"
	r.Configs = []kmsg.IncrementalAlterConfigsRequestResourceConfig{{Name: "log.retention.ms", Value: adminStr("1")}}
	req.Resources = []kmsg.IncrementalAlterConfigsRequestResource{r}
	if resp := c.kmsgRequest(0, req).(*kmsg.IncrementalAlterConfigsResponse); resp.Resources[0].ErrorCode != kerr.InvalidRequest.Code {
		t.Errorf("broker 2: %+v", resp.Resources[0])
	}
}

func TestAdminLegacyAlterConfigs(t *testing.T) {
	c := startAdminCluster(t, nil)
	ctx := c.ctx()
	c.createTopic("t", 1, 1, map[string]*string{"retention.ms": adminStr("1000")})

	// The legacy API replaces the whole set: retention.ms goes back to its default.
	rs, err := c.adm.AlterTopicConfigsState(ctx, []kadm.AlterConfig{{Name: "segment.ms", Value: adminStr("60000")}}, "t")
	if err != nil || rs[0].Err != nil {
		t.Fatalf("alter: %v %+v", err, rs)
	}
	res := adminDescribe(t, c, 2, kmsg.ConfigResourceTypeTopic, "t", "retention.ms", "segment.ms")
	if ret := adminConfigNamed(t, res, "retention.ms"); ret.Source != kmsg.ConfigSourceDefaultConfig {
		t.Errorf("retention.ms kept: %+v", ret)
	}
	if seg := adminConfigNamed(t, res, "segment.ms"); adminMsg(seg.Value) != "60000" {
		t.Errorf("segment.ms %+v", seg)
	}

	req := kmsg.NewPtrAlterConfigsRequest()
	add := func(typ kmsg.ConfigResourceType, name string, kv ...*string) {
		r := kmsg.NewAlterConfigsRequestResource()
		r.ResourceType, r.ResourceName = typ, name
		for i := 0; i+1 < len(kv); i += 2 {
			r.Configs = append(r.Configs, kmsg.AlterConfigsRequestResourceConfig{Name: *kv[i], Value: kv[i+1]})
		}
		req.Resources = append(req.Resources, r)
	}
	add(kmsg.ConfigResourceTypeTopic, "t", adminStr("retention.ms"), adminStr("bad"))
	add(kmsg.ConfigResourceTypeTopic, "t2", adminStr("retention.ms"), nil)
	add(kmsg.ConfigResourceTypeBrokerLogger, "1", adminStr("root"), adminStr("DEBUG"))
	add(kmsg.ConfigResourceTypeBroker, "1", adminStr("log.retention.ms"), adminStr("60000"))
	resp := c.kmsgRequest(0, req).(*kmsg.AlterConfigsResponse)
	want := []int16{kerr.InvalidConfig.Code, kerr.InvalidRequest.Code, kerr.InvalidRequest.Code, 0}
	for i, r := range resp.Resources {
		if r.ErrorCode != want[i] {
			t.Errorf("resource %d (%s): code %d (%s), want %d", i, r.ResourceName, r.ErrorCode, adminMsg(r.ErrorMessage), want[i])
		}
	}
	if lr := adminConfigNamed(t, adminDescribe(t, c, 1, kmsg.ConfigResourceTypeBroker, "1", "log.retention.ms"), "log.retention.ms"); adminMsg(lr.Value) != "60000" {
		t.Errorf("broker log.retention.ms %+v", lr)
	}
}

func TestAdminBrokerLogger(t *testing.T) {
	c := startAdminCluster(t, nil)
	c.level.Set(slog.LevelInfo)
	describeRoot := func() string {
		t.Helper()
		res := adminDescribe(t, c, 4, kmsg.ConfigResourceTypeBrokerLogger, "1")
		if res.ErrorCode != 0 || len(res.Configs) != 1 || res.Configs[0].Name != "root" {
			t.Fatalf("describe: %+v", res)
		}
		return adminMsg(res.Configs[0].Value)
	}
	if got := describeRoot(); got != "INFO" {
		t.Fatalf("root at %s", got)
	}
	alter := func(validateOnly bool, ops ...kmsg.IncrementalAlterConfigsRequestResourceConfig) (int16, string) {
		req := kmsg.NewPtrIncrementalAlterConfigsRequest()
		req.ValidateOnly = validateOnly
		r := kmsg.NewIncrementalAlterConfigsRequestResource()
		r.ResourceType, r.ResourceName, r.Configs = kmsg.ConfigResourceTypeBrokerLogger, "1", ops
		req.Resources = []kmsg.IncrementalAlterConfigsRequestResource{r}
		out := c.kmsgRequest(1, req).(*kmsg.IncrementalAlterConfigsResponse).Resources[0]
		return out.ErrorCode, adminMsg(out.ErrorMessage)
	}
	op := func(o kmsg.IncrementalAlterConfigOp, name string, value *string) kmsg.IncrementalAlterConfigsRequestResourceConfig {
		return kmsg.IncrementalAlterConfigsRequestResourceConfig{Name: name, Op: o, Value: value}
	}
	if code, m := alter(true, op(kmsg.IncrementalAlterConfigOpSet, "root", adminStr("DEBUG"))); code != 0 || describeRoot() != "INFO" {
		t.Fatalf("validate-only: %d %s, root at %s", code, m, describeRoot())
	}
	if code, m := alter(false, op(kmsg.IncrementalAlterConfigOpSet, "root", adminStr("DEBUG"))); code != 0 {
		t.Fatalf("set: %d %s", code, m)
	}
	if describeRoot() != "DEBUG" || c.level.Level() != slog.LevelDebug {
		t.Errorf("root at %s, level %v", describeRoot(), c.level.Level())
	}
	for _, tc := range []struct {
		name string
		op   kmsg.IncrementalAlterConfigsRequestResourceConfig
		want *kerr.Error
	}{
		{"bad level", op(kmsg.IncrementalAlterConfigOpSet, "root", adminStr("LOUD")), kerr.InvalidConfig},
		{"unknown logger", op(kmsg.IncrementalAlterConfigOpSet, "kafka.server", adminStr("INFO")), kerr.InvalidConfig},
		{"delete root", op(kmsg.IncrementalAlterConfigOpDelete, "root", nil), kerr.InvalidRequest},
		{"append", op(kmsg.IncrementalAlterConfigOpAppend, "root", adminStr("INFO")), kerr.InvalidRequest},
	} {
		if code, m := alter(false, tc.op); code != tc.want.Code || m == "<null>" {
			t.Errorf("%s: %d %s", tc.name, code, m)
		}
	}
	if describeRoot() != "DEBUG" {
		t.Errorf("a failed change moved the level")
	}
	if res := adminDescribe(t, c, 4, kmsg.ConfigResourceTypeBrokerLogger, "3"); res.ErrorCode != kerr.InvalidRequest.Code {
		t.Errorf("another broker's loggers: %+v", res)
	}
}

// TestDescribeConfigEntry covers what the running broker's keys cannot show: a sensitive
// key's value and synonyms are never sent.
func TestDescribeConfigEntry(t *testing.T) {
	secret := "hunter2"
	e := config.Entry{Name: "ssl.key.password", Value: &secret, Source: config.SourceStaticBroker, Sensitive: true,
		Type: config.TypePassword, Synonyms: []config.Synonym{{Name: "ssl.key.password", Value: &secret, Source: config.SourceStaticBroker}}}
	got := configEntry(e, entryOptions{version: 4, synonyms: true})
	if got.Value != nil || !got.IsSensitive || len(got.Synonyms) != 1 || got.Synonyms[0].Value != nil || got.ConfigType != int8(config.TypePassword) {
		t.Errorf("sensitive entry %+v", got)
	}
	if got.Documentation != nil {
		t.Errorf("documentation not asked for")
	}
}

// errors_Is compares a franz-go error value by code (kadm hands back kerr values).
func adminIsErr(err error, want *kerr.Error) bool {
	ke, ok := err.(*kerr.Error)
	return ok && ke.Code == want.Code
}
