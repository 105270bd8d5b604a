package config_test

import (
	"fmt"
	"strings"

	"github.com/sluicehq/sluice/internal/config"
)

// What `sluice serve` does with a file and --override flags.
func Example() {
	file := `
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@localhost:9093
controller.listener.names=CONTROLLER
listeners=PLAINTEXT://:9092,CONTROLLER://localhost:9093
advertised.listeners=PLAINTEXT://localhost:9092
log.dirs=/var/lib/sluice
log.retention.hours=24
num.partitions=3
`
	props, err := config.ParseProperties("server.properties", strings.NewReader(file))
	if err != nil {
		panic(err)
	}
	if err := config.ApplyOverrides(props, []string{"num.partitions=6", "log.retension.ms=1000"}); err != nil {
		panic(err)
	}
	b, warnings, err := config.New(props)
	if err != nil {
		panic(err)
	}
	for _, w := range warnings {
		fmt.Println("warning:", w)
	}
	fmt.Println(b.Listeners[0].Addr(), b.AdvertisedListeners[0], b.NumPartitions, b.TopicDefaults.Retention)
	// Output:
	// warning: --override: log.retension.ms: unknown key, ignored; did you mean log.retention.ms?
	// :9092 PLAINTEXT://localhost:9092 6 24h0m0s
}

// What DescribeConfigs on a topic answers: the effective value, its source and the chain of
// broker synonyms it would fall back to.
func ExampleBroker_DescribeTopic() {
	b, _, err := config.Load("", []string{"log.retention.hours=24"})
	if err != nil {
		panic(err)
	}
	entries, err := b.DescribeTopic(map[string]string{"cleanup.policy": "compact"}, "cleanup.policy", "retention.ms")
	if err != nil {
		panic(err)
	}
	for _, e := range entries {
		fmt.Println(e.Name, *e.Value, e.Source)
		for _, s := range e.Synonyms {
			fmt.Println("   ", s.Name, *s.Value, s.Source)
		}
	}
	// Output:
	// cleanup.policy compact DYNAMIC_TOPIC_CONFIG
	//     cleanup.policy compact DYNAMIC_TOPIC_CONFIG
	//     log.cleanup.policy delete DEFAULT_CONFIG
	// retention.ms 86400000 STATIC_BROKER_CONFIG
	//     log.retention.hours 24 STATIC_BROKER_CONFIG
	//     log.retention.hours 168 DEFAULT_CONFIG
}

// What CreateTopics and AlterConfigs check before accepting a topic's configs.
func ExampleBroker_ValidateTopicConfig() {
	b, _, _ := config.Load("", nil)
	err := b.ValidateTopicConfig(map[string]string{"retention.ms": "1 day", "segment.byte": "1048576"})
	fmt.Println(err)
	// Output:
	// config: topic config: retention.ms="1 day": not a 64-bit integer (allowed: [-1,...])
	// config: topic config: segment.byte="1048576": unknown topic config name
}
