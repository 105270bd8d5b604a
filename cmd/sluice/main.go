// Command sluice is the Sluice broker and its command-line client.
//
//	sluice serve                          a single-node cluster on localhost:9092, data in ./sluice-data
//	sluice serve --config server.properties --override log.retention.hours=24
//	sluice serve --help                   every supported config key: type, default, meaning
//	sluice topic|produce|consume|group|cluster|config ...   clients on franz-go (docs/CLI.md)
//	sluice log dump FILE                  a segment, index or producer snapshot, offline
//	sluice bench produce|consume|e2e      load and latency measurements
//	sluice version
//
// Exit codes: 0 on success or after a clean stop; 1 when a command fails or the node fails to
// start or to stop cleanly; 2 for bad flags or an invalid configuration.
package main

import (
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}
