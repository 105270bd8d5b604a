package server

// What AlterConfigs and IncrementalAlterConfigs share: the checks Kafka's broker makes
// before forwarding a config change to the controller (ConfigAdminManager.preprocess), the
// error mapping for broker resources, recording the controller's answer, and the
// BROKER_LOGGER resource.

import (
	"context"
	"errors"
	"log/slog"
	"strings"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/controller"
	"github.com/sluicehq/sluice/internal/metadata"
	"github.com/sluicehq/sluice/internal/protocol/kerr"
)

// alterResource is one resource of either request, in the shape the checks need.
type alterResource struct {
	typ  int8
	name string
	// keys are the config names in request order; nulls those given a null value where
	// the operation needs one.
	keys  []string
	nulls []string
}

// resourceKey identifies a resource for the duplicate check.
type resourceKey struct {
	typ  int8
	name string
}

// duplicateResources returns the resources listed more than once: Kafka refuses every
// occurrence ("Each resource must appear at most once.").
func duplicateResources(rs []alterResource) map[resourceKey]bool {
	count := map[resourceKey]int{}
	for _, r := range rs {
		count[resourceKey{r.typ, r.name}]++
	}
	dup := map[resourceKey]bool{}
	for k, n := range count {
		if n > 1 {
			dup[k] = true
		}
	}
	return dup
}

var errDuplicateResource = errorf(kerr.InvalidRequest, "Each resource must appear at most once.")

// precheckAlter applies Kafka's broker-side checks to one resource. BROKER_LOGGER is left
// to the caller (only IncrementalAlterConfigs serves it).
func precheckAlter(res alterResource, nodeID int32) error {
	seen := make(map[string]bool, len(res.keys))
	for _, k := range res.keys {
		if seen[k] {
			return errorf(kerr.InvalidRequest, "Error due to duplicate config keys")
		}
		seen[k] = true
	}
	if len(res.nulls) > 0 {
		return errorf(kerr.InvalidRequest, "Null value not supported for : %s", strings.Join(res.nulls, ", "))
	}
	switch res.typ {
	case resourceBroker:
		// The name is empty (the cluster-wide default) or this broker's id: Kafka's broker
		// validates a broker config change against its own configuration before forwarding.
		if res.name != "" {
			return parseBrokerID(res.name, nodeID, "Node id")
		}
	case resourceTopic:
		if res.name == "" {
			return errorf(kerr.InvalidRequest, "Default topic resources are not allowed.")
		}
		return validateTopicName(res.name)
	case resourceBrokerLogger:
	default:
		return errorf(kerr.InvalidRequest, "Unknown resource type %d", res.typ)
	}
	return nil
}

// alterError adjusts the controller's verdict on one resource: a broker config that fails
// validation is INVALID_REQUEST, not INVALID_CONFIG, because Kafka's broker validates broker
// configs itself and turns its ConfigException into InvalidRequestException (KAFKA-13609).
// Topic configs stay INVALID_CONFIG.
func alterError(typ int8, err error) error {
	var ce *config.Error
	if err != nil && typ == resourceBroker && errors.As(err, &ce) {
		return &apiError{code: kerr.InvalidRequest, msg: err.Error()}
	}
	return err
}

func configResource(typ int8, name string) metadata.ConfigResource {
	return metadata.ConfigResource{Type: typ, Name: name}
}

// alterLogger applies IncrementalAlterConfigs operations to the BROKER_LOGGER resource:
// the node's log level, as the "root" logger. Every operation is checked before any is
// applied; validateOnly applies none. The change is not persisted, as in Kafka.
func (s *Server) alterLogger(res alterResource, ops []controller.ConfigChange, nodeID int32, validateOnly bool) error {
	lv := s.opts.Deps.LogLevel
	if lv == nil {
		return errorf(kerr.InvalidRequest, "This broker does not serve BROKER_LOGGER resources.")
	}
	if err := parseBrokerID(res.name, nodeID, "Node id"); err != nil {
		return err
	}
	var set []slog.Level
	for _, op := range ops {
		switch op.Op {
		case controller.OpSet:
			if op.Name != rootLogger {
				return errorf(kerr.InvalidConfig, "Logger %s does not exist!", op.Name)
			}
			level, ok := parseKafkaLevel(*op.Value)
			if !ok {
				return errorf(kerr.InvalidConfig, "Cannot set the log level of %s to %s as it is not a supported log level. Valid log levels are %s",
					op.Name, *op.Value, strings.Join(kafkaLogLevels, ", "))
			}
			set = append(set, level)
		case controller.OpDelete:
			if op.Name != rootLogger {
				return errorf(kerr.InvalidConfig, "Logger %s does not exist!", op.Name)
			}
			return errorf(kerr.InvalidRequest, "Removing the log level of the %s logger is not allowed", rootLogger)
		case controller.OpAppend:
			return errorf(kerr.InvalidRequest, "APPEND operation is not allowed for the BROKER_LOGGER resource")
		case controller.OpSubtract:
			return errorf(kerr.InvalidRequest, "SUBTRACT operation is not allowed for the BROKER_LOGGER resource")
		default:
			return errorf(kerr.InvalidRequest, "Unknown operation type %d is not allowed for the BROKER_LOGGER resource", op.Op)
		}
	}
	if !validateOnly {
		for _, l := range set {
			lv.Set(l)
		}
		if len(set) > 0 {
			s.log.Warn("log level changed by IncrementalAlterConfigs", "level", kafkaLevelName(lv.Level()))
		}
	}
	return nil
}

// recordAlterResults stores the controller's answer for the resources it was asked about
// (specIdx maps its results back to the request's resources): after a commit it waits until
// this broker has applied the change, then records each resource's verdict; a failed call
// is every such resource's error. It returns an error only when the request's context
// ended (the connection is gone or the broker is stopping).
func (s *Server) recordAlterResults(ctx context.Context, r *Request, resources []alterResource, specIdx []int, errs []error, results []controller.ConfigResult, offset uint64, callErr error) error {
	if callErr != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		for _, i := range specIdx {
			errs[i] = callErr
		}
		return nil
	}
	s.waitApplied(ctx, r, offset, configWaitTimeout)
	for k, res := range results {
		i := specIdx[k]
		errs[i] = alterError(resources[i].typ, res.Err)
	}
	return nil
}
