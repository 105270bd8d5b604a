package config

// SingleNodeDefaults returns the properties `sluice serve` uses when no file is given: a
// complete one-node cluster, broker and controller in one process, clients on
// localhost:9092, the controller quorum (of one voter) on localhost:9093, data under
// ./sluice-data. Flags still override them.
//
// Beyond what a single node needs to start (node.id, roles, listeners, voters), the internal
// topics get replication factor 1 and min ISR 1, because Kafka's defaults of 3 and 2 cannot
// be met by one broker and consumer groups and transactions would never start. The first
// rebalance of a classic group is not delayed (group.initial.rebalance.delay.ms=0), as
// Kafka's own sample config does for development, so a lone consumer starts at once.
//
// It is the same code path as a cluster (DESIGN.md §3): a one-voter quorum, not a shortcut.
func SingleNodeDefaults() map[string]string {
	return map[string]string{
		"node.id":                          "1",
		"process.roles":                    "broker,controller",
		"listeners":                        "PLAINTEXT://localhost:9092,CONTROLLER://localhost:9093",
		"controller.listener.names":        "CONTROLLER",
		"controller.quorum.voters":         "1@localhost:9093",
		"log.dirs":                         defaultLogDir,
		"offsets.topic.replication.factor": "1",
		"transaction.state.log.replication.factor": "1",
		"transaction.state.log.min.isr":            "1",
		"group.initial.rebalance.delay.ms":         "0",
	}
}

// Load is what `sluice serve` does with its flags: read path as server.properties (or, when
// path is "", start from SingleNodeDefaults), apply the --override arguments on top, and
// build the typed config. Warnings are for the caller to log.
func Load(path string, overrides []string) (*Broker, []Warning, error) {
	var p *Props
	if path == "" {
		p = NewProps(SingleNodeDefaults(), originSingleNode)
	} else {
		var err error
		if p, err = ReadFile(path); err != nil {
			return nil, nil, err
		}
	}
	if err := ApplyOverrides(p, overrides); err != nil {
		return nil, nil, err
	}
	return New(p)
}
