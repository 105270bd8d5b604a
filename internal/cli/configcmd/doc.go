// Package configcmd is `sluice config get|set`: read and change topic and broker configs
// over the Kafka protocol (DescribeConfigs, IncrementalAlterConfigs) with franz-go's kadm.
// It is named configcmd so that it does not clash with internal/config, which defines the
// keys themselves.
//
// A resource is `topic NAME`, `broker ID` or `broker default` (the cluster-wide broker
// default, Kafka's --entity-default). get prints KEY VALUE SOURCE rows (only the keys
// named, when some are); set applies key=value pairs and --delete keys in one request,
// so either all change or none.
//
// It talks to brokers only over the Kafka protocol and imports nothing of the broker.
package configcmd
