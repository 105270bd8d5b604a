package controller

import (
	"context"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/metadata"
	"github.com/sluicehq/sluice/internal/protocol/metarecord"
)

// ConfigOp is an IncrementalAlterConfigs operation, with Kafka's ids.
type ConfigOp int8

// The operations.
const (
	OpSet      ConfigOp = 0
	OpDelete   ConfigOp = 1
	OpAppend   ConfigOp = 2 // list keys only
	OpSubtract ConfigOp = 3 // list keys only
)

// ConfigChange is one key's change.
type ConfigChange struct {
	Name  string
	Op    ConfigOp
	Value *string // nil only with OpDelete
}

// AlterConfigsSpec replaces every dynamic config of a resource (Kafka's legacy
// AlterConfigs): keys not listed are removed.
type AlterConfigsSpec struct {
	Resource metadata.ConfigResource
	Configs  map[string]string
}

// IncrementalAlterConfigsSpec changes some keys of a resource.
type IncrementalAlterConfigsSpec struct {
	Resource metadata.ConfigResource
	Changes  []ConfigChange
}

// ConfigResult is the outcome for one resource, in request order.
type ConfigResult struct {
	Resource metadata.ConfigResource
	Err      error
}

// AlterConfigs replaces the dynamic configs of topics and brokers (a broker id in decimal,
// or "" for the cluster-wide default), all that validate in one entry.
func (c *Controller) AlterConfigs(ctx context.Context, specs []AlterConfigsSpec, validateOnly bool) ([]ConfigResult, uint64, error) {
	res := make([]metadata.ConfigResource, len(specs))
	for i, s := range specs {
		res[i] = s.Resource
	}
	return c.alterConfigs(ctx, res, validateOnly, func(im *metadata.Image, i int, old map[string]string) (map[string]string, error) {
		next := maps.Clone(specs[i].Configs)
		if next == nil {
			next = map[string]string{}
		}
		return next, nil
	})
}

// IncrementalAlterConfigs applies SET, DELETE, APPEND and SUBTRACT changes, all resources
// that validate in one entry.
func (c *Controller) IncrementalAlterConfigs(ctx context.Context, specs []IncrementalAlterConfigsSpec, validateOnly bool) ([]ConfigResult, uint64, error) {
	res := make([]metadata.ConfigResource, len(specs))
	for i, s := range specs {
		res[i] = s.Resource
	}
	return c.alterConfigs(ctx, res, validateOnly, func(im *metadata.Image, i int, old map[string]string) (map[string]string, error) {
		return c.incremental(im, specs[i], old)
	})
}

func (c *Controller) alterConfigs(ctx context.Context, resources []metadata.ConfigResource, validateOnly bool,
	change func(im *metadata.Image, i int, old map[string]string) (map[string]string, error)) ([]ConfigResult, uint64, error) {
	results := make([]ConfigResult, len(resources))
	var offset uint64
	err := c.do(ctx, func() error {
		im := c.image()
		cfg := c.config(im)
		count := map[metadata.ConfigResource]int{}
		for _, r := range resources {
			count[r]++
		}
		var recs []metarecord.Record
		for i, res := range resources {
			r := &results[i]
			r.Resource = res
			if count[res] > 1 {
				r.Err = errf(ErrInvalidRequest, "Resource %s is listed more than once in the request.", res.Name)
				continue
			}
			if err := checkResource(im, res); err != nil {
				r.Err = err
				continue
			}
			old := im.Config(res)
			next, err := change(im, i, old)
			if err != nil {
				r.Err = err
				continue
			}
			if err := validateConfigs(cfg, res, next); err != nil {
				r.Err = err
				continue
			}
			recs = append(recs, configRecords(res, old, next)...)
		}
		var err error
		offset, err = c.commit(recs, validateOnly)
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	return results, offset, nil
}

func checkResource(im *metadata.Image, res metadata.ConfigResource) error {
	switch res.Type {
	case metadata.ResourceTopic:
		if _, ok := im.TopicByName(res.Name); !ok {
			return errf(ErrUnknownTopic, "Topic %s does not exist.", res.Name)
		}
	case metadata.ResourceBroker:
		if res.Name == "" {
			return nil
		}
		if id, err := strconv.ParseInt(res.Name, 10, 32); err != nil || id < 0 {
			return errf(ErrInvalidRequest, "Invalid broker name %q: not a broker id.", res.Name)
		}
	default:
		return errf(ErrInvalidRequest, "Unsupported resource type %d.", res.Type)
	}
	return nil
}

func validateConfigs(cfg *config.Broker, res metadata.ConfigResource, next map[string]string) error {
	var err error
	if res.Type == metadata.ResourceTopic {
		err = cfg.ValidateTopicConfig(next)
	} else {
		err = config.ValidateDynamic(next, res.Name != "")
	}
	if err != nil {
		return &Error{Kind: ErrInvalidConfig, Msg: err.Error(), Cause: err}
	}
	return nil
}

// configRecords turns old → next into ConfigRecords (a nil value removes a key).
func configRecords(res metadata.ConfigResource, old, next map[string]string) []metarecord.Record {
	var recs []metarecord.Record
	keys := slices.Sorted(maps.Keys(old))
	for _, k := range keys {
		if _, ok := next[k]; !ok {
			recs = append(recs, &metarecord.ConfigRecord{ResourceType: res.Type, ResourceName: res.Name, Name: k})
		}
	}
	for _, k := range slices.Sorted(maps.Keys(next)) {
		if v, ok := old[k]; ok && v == next[k] {
			continue
		}
		v := next[k]
		recs = append(recs, &metarecord.ConfigRecord{ResourceType: res.Type, ResourceName: res.Name, Name: k, Value: &v})
	}
	return recs
}

func (c *Controller) incremental(im *metadata.Image, s IncrementalAlterConfigsSpec, old map[string]string) (map[string]string, error) {
	next := maps.Clone(old)
	if next == nil {
		next = map[string]string{}
	}
	seen := map[string]bool{}
	for _, ch := range s.Changes {
		if seen[ch.Name] {
			return nil, errf(ErrInvalidRequest, "Config %s is changed more than once in one request.", ch.Name)
		}
		seen[ch.Name] = true
		if ch.Op != OpDelete && ch.Value == nil {
			return nil, errf(ErrInvalidRequest, "Null value not supported for : %s", ch.Name)
		}
		switch ch.Op {
		case OpSet:
			next[ch.Name] = *ch.Value
		case OpDelete:
			delete(next, ch.Name)
		case OpAppend, OpSubtract:
			if !c.isList(s.Resource, ch.Name) {
				verb := "append"
				if ch.Op == OpSubtract {
					verb = "subtract"
				}
				return nil, errf(ErrInvalidConfig, "Config value %s is not allowed for config key: %s", verb, ch.Name)
			}
			cur, ok := next[ch.Name]
			if !ok {
				cur = c.currentValue(im, s.Resource, ch.Name)
			}
			items := splitList(cur)
			for _, v := range splitList(*ch.Value) {
				if ch.Op == OpAppend && !slices.Contains(items, v) {
					items = append(items, v)
				}
				if ch.Op == OpSubtract {
					items = slices.DeleteFunc(items, func(x string) bool { return x == v })
				}
			}
			next[ch.Name] = strings.Join(items, ",")
		default:
			return nil, errf(ErrInvalidRequest, "Unknown config operation %d for %s.", ch.Op, ch.Name)
		}
	}
	return next, nil
}

func (c *Controller) isList(res metadata.ConfigResource, name string) bool {
	var d config.Def
	var ok bool
	if res.Type == metadata.ResourceTopic {
		d, ok = config.LookupTopic(name)
	} else {
		d, ok = config.LookupBroker(name)
	}
	return ok && d.Type == config.TypeList
}

// currentValue is what APPEND and SUBTRACT start from when the resource has no override:
// the value in effect without one.
func (c *Controller) currentValue(im *metadata.Image, res metadata.ConfigResource, name string) string {
	cfg := c.config(im)
	var entries []config.Entry
	if res.Type == metadata.ResourceTopic {
		entries, _ = cfg.DescribeTopic(nil, name)
	} else {
		entries = cfg.Describe(name)
	}
	if len(entries) == 1 && entries[0].Value != nil {
		return *entries[0].Value
	}
	return ""
}

func splitList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if p := strings.TrimSpace(part); p != "" {
			out = append(out, p)
		}
	}
	return out
}
