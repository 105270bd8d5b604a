package bench

import (
	"context"
	"io"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/sluicehq/sluice/internal/cli/connect"
)

// common are the flags every bench subcommand has.
type common struct {
	conn    connect.Flags
	json    bool
	timeout time.Duration
}

// Command returns `bench` with its subcommands. getenv looks environment variables up
// (SLUICE_BROKERS); the binary passes os.Getenv. Errors from invalid flag combinations wrap
// ErrUsage; the caller maps them to its usage exit code.
func Command(getenv func(string) string) *cobra.Command {
	var c common
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure a broker: produce, consume and end-to-end throughput and latency",
		Long: `Load generators for any Kafka-protocol broker, built on franz-go.

Each run ends with a summary: records, records/s, MB/s (10^6 bytes of keys and values),
latency percentiles (p50, p99, p99.9, max) and errors; --json prints it as one JSON object.
On a terminal a progress line is redrawn once a second.`,
	}
	c.conn.Register(cmd.PersistentFlags(), getenv)
	cmd.PersistentFlags().BoolVar(&c.json, "json", false, "print the summary as JSON (no progress line)")
	cmd.PersistentFlags().DurationVar(&c.timeout, "timeout", 0, "stop the run after this long (0: no limit)")
	cmd.AddCommand(produceCommand(&c), consumeCommand(&c), e2eCommand(&c))
	return cmd
}

func addProduceFlags(fs *pflag.FlagSet, p *ProduceConfig) {
	fs.StringVarP(&p.Topic, "topic", "t", "sluice-bench", "topic to produce to (created if missing)")
	fs.Int64VarP(&p.Records, "records", "n", 0, "records to send (default 1000000 unless --duration)")
	fs.DurationVarP(&p.Duration, "duration", "d", 0, "send for this long instead of a record count")
	fs.IntVarP(&p.RecordSizeBytes, "record-size", "s", 1024, "value size in bytes")
	fs.IntVar(&p.KeySizeBytes, "key-size", 0, "key size in bytes (0: no keys)")
	fs.Int32VarP(&p.Partitions, "partitions", "p", 1, "partitions of the topic if it is created")
	fs.StringVarP(&p.Acks, "acks", "a", "all", "acks: 0, 1 or all")
	fs.StringVarP(&p.Compression, "compression", "z", "none", "none, gzip, snappy, lz4 or zstd")
	fs.DurationVar(&p.Linger, "linger", 0, "how long a batch may wait for more records")
	fs.Int32Var(&p.BatchMaxBytes, "batch-max-bytes", 0, "largest batch per partition (0: the client's default, 1000012)")
	fs.IntVar(&p.MaxInflight, "max-inflight", 0, "produce requests in flight per broker and producer (0: 5)")
	fs.IntVar(&p.Producers, "producers", 1, "number of producer clients")
	fs.Float64Var(&p.RatePerSec, "rate", 0, "records per second over all producers (0: unlimited)")
	fs.BoolVar(&p.Idempotent, "idempotent", true, "idempotent producer (needs --acks all; turned off for other acks unless asked for)")
}

// resolveProduce applies the defaults that depend on other flags.
func resolveProduce(cmd *cobra.Command, p *ProduceConfig) {
	if p.Records == 0 && p.Duration == 0 {
		p.Records = 1_000_000
	}
	if !cmd.Flags().Changed("idempotent") && p.Acks != "all" && p.Acks != "-1" {
		p.Idempotent = false
	}
}

func produceCommand(c *common) *cobra.Command {
	var p ProduceConfig
	cmd := &cobra.Command{
		Use:   "produce",
		Short: "Produce records as fast as the broker takes them",
		Example: `  sluice bench produce --topic t --records 1000000 --record-size 1024 --acks all
  sluice bench produce -b host:9092 --partitions 8 --acks 1 --duration 30s --producers 2 --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			resolveProduce(cmd, &p)
			return c.run(cmd, func(ctx context.Context, out Output) (Summary, error) {
				base, err := c.conn.Opts()
				if err != nil {
					return Summary{}, err
				}
				return Produce(ctx, base, p, out)
			})
		},
	}
	addProduceFlags(cmd.Flags(), &p)
	return cmd
}

func consumeCommand(c *common) *cobra.Command {
	var cc ConsumeConfig
	cmd := &cobra.Command{
		Use:   "consume",
		Short: "Read a topic as fast as the broker serves it",
		Example: `  sluice bench consume --topic t                 # from the start to the end seen at start
  sluice bench consume --topic t --records 500000 --consumers 2 --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.run(cmd, func(ctx context.Context, out Output) (Summary, error) {
				base, err := c.conn.Opts()
				if err != nil {
					return Summary{}, err
				}
				return Consume(ctx, base, cc, out)
			})
		},
	}
	fs := cmd.Flags()
	fs.StringVarP(&cc.Topic, "topic", "t", "sluice-bench", "topic to read")
	fs.IntVarP(&cc.Consumers, "consumers", "c", 1, "number of consumer clients (partitions are dealt to them)")
	fs.StringVar(&cc.From, "from", "start", "where to start in every partition: start, end or an offset")
	fs.Int64VarP(&cc.Records, "records", "n", 0, "records to read (0: until the end offsets seen at start)")
	fs.Int32Var(&cc.FetchMaxBytes, "fetch-max-bytes", 0, "fetch response size limit (0: the client's default)")
	fs.Int32Var(&cc.FetchMaxPartitionBytes, "fetch-max-partition-bytes", 0, "per-partition fetch limit (0: the client's default)")
	return cmd
}

func e2eCommand(c *common) *cobra.Command {
	var e E2EConfig
	cmd := &cobra.Command{
		Use:   "e2e",
		Short: "Produce and consume at once; measure end-to-end latency",
		Long: `Produce and consume the same topic at once. Each value starts with its send time, so every
received record gives an end-to-end latency (Produce call to the consumer's poll). The run
fails unless every acknowledged record is received, and no other.`,
		Example: `  sluice bench e2e --topic lat --records 200000 --acks all`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			resolveProduce(cmd, &e.Produce)
			return c.run(cmd, func(ctx context.Context, out Output) (Summary, error) {
				base, err := c.conn.Opts()
				if err != nil {
					return Summary{}, err
				}
				return E2E(ctx, base, e, out)
			})
		},
	}
	addProduceFlags(cmd.Flags(), &e.Produce)
	cmd.Flags().Lookup("topic").DefValue = "sluice-bench-e2e"
	cmd.Flags().Set("topic", "sluice-bench-e2e")
	fs := cmd.Flags()
	fs.IntVarP(&e.Consumers, "consumers", "c", 1, "number of consumer clients")
	fs.Int32Var(&e.FetchMaxBytes, "fetch-max-bytes", 0, "fetch response size limit (0: the client's default)")
	fs.Int32Var(&e.FetchMaxPartitionBytes, "fetch-max-partition-bytes", 0, "per-partition fetch limit (0: the client's default)")
	return cmd
}

// run executes one measurement and prints its summary, also when the run itself failed
// part way (errors, lost records): the numbers say what happened.
func (c *common) run(cmd *cobra.Command, fn func(context.Context, Output) (Summary, error)) error {
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	if c.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	stdout := cmd.OutOrStdout()
	var out Output
	if !c.json && IsTerminal(stdout) {
		out.Progress = stdout
	}
	s, err := fn(ctx, out)
	if s.Mode != "" {
		if werr := c.print(stdout, &s); werr != nil && err == nil {
			err = werr
		}
	}
	return err
}

func (c *common) print(w io.Writer, s *Summary) error {
	if c.json {
		return s.WriteJSON(w)
	}
	return s.WriteText(w)
}
