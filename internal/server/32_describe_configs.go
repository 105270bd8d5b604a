// DescribeConfigs (key 32): versions 0–4.
//
// Answers from internal/config's one definition per key, with the dynamic configs of this
// broker's metadata image applied, so a change is visible here as soon as AlterConfigs or
// IncrementalAlterConfigs has answered. As in Kafka:
//   - TOPIC: every topic config (or the configuration_keys asked for; unknown names are
//     skipped) with its effective value and source: the topic's override
//     (DYNAMIC_TOPIC_CONFIG), else the broker keys it defaults from, layer by layer
//     (DYNAMIC_BROKER_CONFIG, DYNAMIC_DEFAULT_BROKER_CONFIG, STATIC_BROKER_CONFIG), else
//     DEFAULT_CONFIG; never read-only. An invalid name is INVALID_TOPIC_EXCEPTION, a missing
//     topic UNKNOWN_TOPIC_OR_PARTITION.
//   - BROKER with this broker's id: every broker key with its effective value, source and
//     read-only flag (keys that cannot change at runtime). With the empty name (the
//     cluster-wide default resource): only the keys set as dynamic cluster defaults, with
//     synonyms of that layer only. Another broker's id, or a name that is not a number, is
//     INVALID_REQUEST (Kafka answers only for itself).
//   - BROKER_LOGGER with this broker's id: one logger, "root", whose level is the node's
//     log level (source DYNAMIC_BROKER_LOGGER_CONFIG), when the node supplies its level
//     (Deps.LogLevel); INVALID_REQUEST otherwise.
//   - include_synonyms (v1+): the synonym chain, effective value first. Sources from v1,
//     is_default at v0. include_documentation (v3+): each key's documentation.
//     config_type (v3+): Kafka's type ids.
//   - Sensitive keys (passwords): value null and is_sensitive set, synonyms' values too.
//
// Differences from Kafka: keys come sorted by name; GROUP and CLIENT_METRICS resources
// (and other types) answer INVALID_REQUEST for that resource, where Kafka 3.9 describes
// group and client-metrics configs and fails the whole request for unknown types; at v0
// is_default is set for keys at their default (Kafka's broker leaves it false); Kafka's
// BROKER_LOGGER lists every log4j logger, Sluice has one; no authorization; throttle
// time 0.

package server

import (
	"context"
	"maps"
	"slices"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/metadata"
	"github.com/sluicehq/sluice/internal/protocol/kerr"
	"github.com/sluicehq/sluice/internal/protocol/message"
)

// sourceDynamicBrokerLogger is Kafka's DYNAMIC_BROKER_LOGGER_CONFIG source id.
const sourceDynamicBrokerLogger int8 = 6

func (s *Server) describeConfigsHandler() Handler {
	return Handler{
		Versions:      Versions{Min: 0, Max: 4},
		Fn:            Handle(s.describeConfigs),
		ErrorResponse: describeConfigsErrorResponse,
	}
}

func (s *Server) describeConfigs(_ context.Context, r *Request, req *message.DescribeConfigsRequest) (message.Response, error) {
	im, err := s.image()
	if err != nil {
		return nil, err
	}
	cfg := s.effectiveConfig(im)
	opts := entryOptions{version: r.Version, synonyms: req.IncludeSynonyms && r.Version >= 1, docs: req.IncludeDocumentation && r.Version >= 3}
	resp := message.NewDescribeConfigsResponse()
	resp.Results = make([]message.DescribeConfigsResponseDescribeConfigsResult, 0, len(req.Resources))
	for _, res := range req.Resources {
		out := message.DescribeConfigsResponseDescribeConfigsResult{
			ResourceType: res.ResourceType,
			ResourceName: res.ResourceName,
		}
		entries, err := s.describeResource(im, cfg, res, opts)
		if err != nil {
			out.ErrorCode, out.ErrorMessage = errorCodeAndMessage(r, err)
			out.Configs = []message.DescribeConfigsResponseDescribeConfigsResourceResult{}
		} else {
			out.Configs = entries
		}
		resp.Results = append(resp.Results, out)
	}
	return resp, nil
}

type entryOptions struct {
	version        int16
	synonyms, docs bool
}

// keys returns the configuration_keys filter without repeats, nil for "all".
func keysFilter(keys []string) []string {
	if len(keys) == 0 {
		return nil
	}
	out := slices.Clone(keys)
	slices.Sort(out)
	return slices.Compact(out)
}

func (s *Server) describeResource(im *metadata.Image, cfg *config.Broker, res message.DescribeConfigsRequestDescribeConfigsResource,
	opts entryOptions) ([]message.DescribeConfigsResponseDescribeConfigsResourceResult, error) {
	keys := keysFilter(res.ConfigurationKeys)
	switch res.ResourceType {
	case resourceTopic:
		name := res.ResourceName
		if err := validateTopicName(name); err != nil {
			return nil, err
		}
		if _, ok := im.TopicByName(name); !ok {
			return nil, errorf(kerr.UnknownTopicOrPartition, "Topic %s does not exist.", name)
		}
		entries, err := cfg.DescribeTopic(im.TopicConfig(name), keys...)
		if err != nil {
			return nil, err
		}
		return configEntries(entries, opts), nil

	case resourceBroker:
		if res.ResourceName == "" {
			return clusterDefaultEntries(im, cfg, keys, opts), nil
		}
		if err := parseBrokerID(res.ResourceName, cfg.NodeID, "Broker id"); err != nil {
			return nil, errorf(kerr.InvalidRequest, "Unexpected broker id, expected %d or empty string, but received %s", cfg.NodeID, res.ResourceName)
		}
		return configEntries(cfg.Describe(keys...), opts), nil

	case resourceBrokerLogger:
		lv := s.opts.Deps.LogLevel
		if lv == nil {
			return nil, errorf(kerr.InvalidRequest, "This broker does not serve BROKER_LOGGER resources.")
		}
		if res.ResourceName == "" {
			return nil, errorf(kerr.InvalidRequest, "Broker id must not be empty")
		}
		if err := parseBrokerID(res.ResourceName, cfg.NodeID, "Broker id"); err != nil {
			return nil, err
		}
		out := []message.DescribeConfigsResponseDescribeConfigsResourceResult{}
		if keys == nil || slices.Contains(keys, rootLogger) {
			level := kafkaLevelName(lv.Level())
			out = append(out, message.DescribeConfigsResponseDescribeConfigsResourceResult{
				Name:         rootLogger,
				Value:        &level,
				ConfigSource: sourceDynamicBrokerLogger,
				Synonyms:     []message.DescribeConfigsResponseDescribeConfigsSynonym{},
			})
		}
		return out, nil
	}
	return nil, errorf(kerr.InvalidRequest, "Unsupported resource type: %d", res.ResourceType)
}

// clusterDefaultEntries describes the cluster-wide default broker resource as Kafka does:
// only the keys set at that layer, with that layer's synonyms.
func clusterDefaultEntries(im *metadata.Image, cfg *config.Broker, keys []string,
	opts entryOptions) []message.DescribeConfigsResponseDescribeConfigsResourceResult {
	dyn := im.ClusterConfig()
	names := slices.Sorted(maps.Keys(dyn))
	if keys != nil {
		names = slices.DeleteFunc(names, func(n string) bool { return !slices.Contains(keys, n) })
	}
	out := []message.DescribeConfigsResponseDescribeConfigsResourceResult{}
	if len(names) == 0 {
		return out
	}
	for _, e := range cfg.Describe(names...) {
		syns := slices.DeleteFunc(slices.Clone(e.Synonyms), func(sy config.Synonym) bool {
			return sy.Source != config.SourceDynamicDefaultBroker
		})
		value := dyn[e.Name]
		e.Value, e.Source, e.Synonyms = &value, config.SourceDynamicDefaultBroker, syns
		if e.Sensitive {
			e.Value = nil
		}
		out = append(out, configEntry(e, opts))
	}
	return out
}

func configEntries(entries []config.Entry, opts entryOptions) []message.DescribeConfigsResponseDescribeConfigsResourceResult {
	out := make([]message.DescribeConfigsResponseDescribeConfigsResourceResult, 0, len(entries))
	for _, e := range entries {
		out = append(out, configEntry(e, opts))
	}
	return out
}

func configEntry(e config.Entry, opts entryOptions) message.DescribeConfigsResponseDescribeConfigsResourceResult {
	res := message.DescribeConfigsResponseDescribeConfigsResourceResult{
		Name:         e.Name,
		Value:        e.Value,
		ReadOnly:     e.ReadOnly,
		IsDefault:    opts.version == 0 && e.Source == config.SourceDefault,
		ConfigSource: int8(e.Source),
		IsSensitive:  e.Sensitive,
		Synonyms:     []message.DescribeConfigsResponseDescribeConfigsSynonym{},
		ConfigType:   int8(e.Type),
	}
	if e.Sensitive {
		res.Value = nil
	}
	if opts.synonyms {
		for _, sy := range e.Synonyms {
			v := sy.Value
			if e.Sensitive {
				v = nil
			}
			res.Synonyms = append(res.Synonyms, message.DescribeConfigsResponseDescribeConfigsSynonym{
				Name: sy.Name, Value: v, Source: int8(sy.Source),
			})
		}
	}
	if opts.docs {
		doc := e.Doc
		res.Documentation = &doc
	}
	return res
}

// describeConfigsErrorResponse answers every resource with the code.
func describeConfigsErrorResponse(r *Request, code int16) message.Response {
	resp := message.NewDescribeConfigsResponse()
	req, _ := r.Body.(*message.DescribeConfigsRequest)
	if req == nil {
		return resp
	}
	msg := kerr.ForCode(code).Description
	for _, res := range req.Resources {
		resp.Results = append(resp.Results, message.DescribeConfigsResponseDescribeConfigsResult{
			ErrorCode: code, ErrorMessage: &msg, ResourceType: res.ResourceType, ResourceName: res.ResourceName,
			Configs: []message.DescribeConfigsResponseDescribeConfigsResourceResult{},
		})
	}
	return resp
}
