// Command sluice is the Sluice broker and, in later issues, its command-line client.
//
//	sluice serve                          a single-node cluster on localhost:9092, data in ./sluice-data
//	sluice serve --config server.properties --override log.retention.hours=24
//	sluice serve --help                   every supported config key: type, default, meaning
//	sluice version
//
// Exit codes: 0 after a clean stop, 1 when the node fails to start or to stop cleanly,
// 2 for bad flags or an invalid configuration.
package main

import (
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}
