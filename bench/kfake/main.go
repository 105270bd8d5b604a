//go:build ignore

// Command kfake runs franz-go's fake Kafka broker (pkg/kfake) as a process of its own, so
// bench/compare.sh can measure it like any broker: its CPU and memory from /proc, under the
// same `sluice bench` client as Sluice. It is the reference point of issue 4's benchmarks.
//
//	go build -o kfake bench/kfake/main.go
//	kfake -port 19192 -data /tmp/kfake-data [-sync]
//
// -data turns on kfake's disk persistence (segment files in that directory); -sync makes
// it fsync every batch (kfake's SyncWrites), the durability Sluice's group commit gives.
// It prints "kfake listening on ADDR" when ready and stops on SIGTERM or SIGINT.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/twmb/franz-go/pkg/kfake"
)

func main() {
	port := flag.Int("port", 19192, "listening port (127.0.0.1)")
	data := flag.String("data", "", "data directory (empty: memory only)")
	sync := flag.Bool("sync", false, "fsync every batch")
	flag.Parse()

	opts := []kfake.Opt{kfake.NumBrokers(1), kfake.Ports(*port), kfake.AllowAutoTopicCreation()}
	if *data != "" {
		opts = append(opts, kfake.DataDir(*data))
	}
	if *sync {
		opts = append(opts, kfake.SyncWrites())
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		fmt.Fprintln(os.Stderr, "kfake:", err)
		os.Exit(1)
	}
	fmt.Println("kfake listening on", c.ListenAddrs()[0])
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
	c.Close()
}
