package produce

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/internal/cli"
	"github.com/sluicehq/sluice/internal/cli/connect"
	"github.com/sluicehq/sluice/internal/cli/output"
)

// DefaultMaxLineBytes bounds one input line (one record): the broker's default
// max.message.bytes is about 1 MiB, so longer lines would fail anyway.
const DefaultMaxLineBytes = 4 << 20

// interruptFlushTimeout bounds the wait for records in flight after an interrupt.
const interruptFlushTimeout = 5 * time.Second

// Config is one produce run.
type Config struct {
	Topic        string
	Files        []string // "-" is stdin; none reads stdin
	KeySep       string   // "" : lines are values
	Key          *string  // a fixed key for every record
	Headers      []kgo.RecordHeader
	Acks         string // 0, 1, all
	Compression  string // none, gzip, snappy, lz4, zstd
	Partitioner  string // sticky, round-robin, hash
	Partition    int32  // -1: use the partitioner
	Idempotent   bool
	Tombstone    bool   // an empty value is produced as null
	Format       string // per-record output; "" prints the summary only
	MaxLineBytes int
}

// Command returns `produce`. getenv looks environment variables up (SLUICE_BROKERS).
func Command(getenv func(string) string) *cobra.Command {
	var (
		conn         connect.Flags
		c            Config
		headers      []string
		key          string
		printOffsets bool
	)
	cmd := &cobra.Command{
		Use:   "produce TOPIC",
		Short: "Produce records from stdin or files, one per line",
		Long: `Produce one record per input line (stdin, or the files given with --file; "-" is stdin).

With --key-sep SEP each line is KEY SEP VALUE, split at the first SEP; a line without SEP
has no key. -H key=value adds a header to every record. Records are idempotent by default
(acks=all); --acks 0 or 1 turns idempotence off unless --idempotent is given.

Partitioners: sticky (Kafka's default: a keyed record goes to the partition of its key's
murmur2 hash, records without a key fill one partition's batch at a time), round-robin
(each record to the next partition), hash (every record by the hash of its key; records
without a key all go to one partition). --partition N sends every record to N.

It prints a summary when every record is acknowledged, or each record with
--print-offsets or --format (verbs: ` + output.Verbs + `).
The exit code is 1 if any record failed.`,
		Example: `  printf 'alice:1 apple\nbob:2 pears\n' | sluice produce orders -K :
  sluice produce orders --file events.txt -H source=import --compression zstd
  echo hello | sluice produce orders --partition 2 --print-offsets`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c.Topic = args[0]
			if cmd.Flags().Changed("key") {
				c.Key = &key
			}
			if printOffsets && c.Format == "" {
				c.Format = `partition %p offset %o\n`
			}
			if !cmd.Flags().Changed("idempotent") && c.Acks != "all" && c.Acks != "-1" {
				c.Idempotent = false
			}
			for _, h := range headers {
				k, v, err := cli.ParseKeyValue("-H/--header", h)
				if err != nil {
					return err
				}
				c.Headers = append(c.Headers, kgo.RecordHeader{Key: k, Value: []byte(v)})
			}
			return Run(cli.Context(cmd.Context()), &conn, c, cmd.InOrStdin(), cmd.OutOrStdout())
		},
	}
	conn.Register(cmd.Flags(), getenv)
	fs := cmd.Flags()
	fs.StringArrayVarP(&c.Files, "file", "F", nil, `read records from this file ("-": stdin; repeatable; default stdin)`)
	fs.StringVarP(&c.KeySep, "key-sep", "K", "", "split each line into key and value at the first SEP")
	fs.StringVarP(&key, "key", "k", "", "key of every record")
	fs.StringArrayVarP(&headers, "header", "H", nil, "header key=value on every record (repeatable)")
	fs.StringVarP(&c.Acks, "acks", "a", "all", "acks: 0, 1 or all")
	fs.StringVarP(&c.Compression, "compression", "z", "none", "none, gzip, snappy, lz4 or zstd")
	fs.StringVar(&c.Partitioner, "partitioner", "sticky", "sticky, round-robin or hash")
	fs.Int32VarP(&c.Partition, "partition", "p", -1, "produce every record to this partition")
	fs.BoolVar(&c.Idempotent, "idempotent", true, "idempotent producer (needs --acks all)")
	fs.BoolVarP(&c.Tombstone, "tombstone", "Z", false, "produce empty values as null (tombstones for compacted topics)")
	fs.BoolVarP(&printOffsets, "print-offsets", "v", false, "print the partition and offset of every record")
	fs.StringVarP(&c.Format, "format", "f", "", "print every acknowledged record in this format")
	fs.IntVar(&c.MaxLineBytes, "max-line-bytes", DefaultMaxLineBytes, "longest input line (record) accepted")
	return cmd
}

// options validates c and returns its producer options.
func (c *Config) options() ([]kgo.Opt, error) {
	var opts []kgo.Opt
	switch c.Acks {
	case "all", "-1":
		opts = append(opts, kgo.RequiredAcks(kgo.AllISRAcks()))
	case "1":
		opts = append(opts, kgo.RequiredAcks(kgo.LeaderAck()))
	case "0":
		opts = append(opts, kgo.RequiredAcks(kgo.NoAck()))
	default:
		return nil, cli.Usagef("--acks must be 0, 1 or all, not %q", c.Acks)
	}
	if !c.Idempotent {
		opts = append(opts, kgo.DisableIdempotentWrite())
	} else if c.Acks != "all" && c.Acks != "-1" {
		return nil, cli.Usagef("--idempotent needs --acks all")
	}
	codec, ok := map[string]kgo.CompressionCodec{"none": kgo.NoCompression(), "gzip": kgo.GzipCompression(),
		"snappy": kgo.SnappyCompression(), "lz4": kgo.Lz4Compression(), "zstd": kgo.ZstdCompression()}[c.Compression]
	if !ok {
		return nil, cli.Usagef("--compression must be none, gzip, snappy, lz4 or zstd, not %q", c.Compression)
	}
	opts = append(opts, kgo.ProducerBatchCompression(codec))
	switch {
	case c.Partition >= 0:
		opts = append(opts, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	case c.Partition != -1:
		return nil, cli.Usagef("--partition must be 0 or more, not %d", c.Partition)
	case c.Partitioner == "sticky":
		opts = append(opts, kgo.RecordPartitioner(kgo.StickyKeyPartitioner(nil)))
	case c.Partitioner == "round-robin":
		opts = append(opts, kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
	case c.Partitioner == "hash":
		opts = append(opts, kgo.RecordPartitioner(kgo.BasicConsistentPartitioner(func(string) func(*kgo.Record, int) int {
			return func(r *kgo.Record, n int) int { return int(murmur2(r.Key)&0x7fffffff) % n }
		})))
	default:
		return nil, cli.Usagef("--partitioner must be sticky, round-robin or hash, not %q", c.Partitioner)
	}
	if c.MaxLineBytes <= 0 {
		return nil, cli.Usagef("--max-line-bytes must be positive")
	}
	if c.Topic == "" {
		return nil, cli.Usagef("the topic name is empty")
	}
	return opts, nil
}

// Summary counts a run's records.
type Summary struct {
	Records int64 // acknowledged
	Bytes   int64 // keys and values of acknowledged records
	Failed  int64
	// FirstErr is the first record's error, if any.
	FirstErr error
}

// Run produces the records of c's inputs (stdin when none) and writes the per-record output
// or the summary to out.
func Run(ctx context.Context, conn *connect.Flags, c Config, stdin io.Reader, out io.Writer) error {
	opts, err := c.options()
	if err != nil {
		return err
	}
	format := (*output.Format)(nil)
	if c.Format != "" {
		if format, err = output.Compile(c.Format); err != nil {
			return cli.Usagef("--format: %v", err)
		}
	}
	// Open every file first, so that a wrong name fails before anything is sent.
	inputs, closeAll, err := openInputs(c.Files, stdin)
	if err != nil {
		return err
	}
	defer closeAll()

	cl, err := cli.NewClient(ctx, conn, append(opts, kgo.DefaultProduceTopic(c.Topic))...)
	if err != nil {
		return err
	}
	defer cl.Close()

	p := &producer{cl: cl, c: c, format: format}
	p.mu.out = bufio.NewWriter(out)
	readErr := p.readAll(ctx, inputs)
	// Whatever was handed to the client is waited for, also after a read error or an
	// interrupt: those records may be written, and the summary must count them. After an
	// interrupt the records not sent yet fail at once (their context is done); the wait
	// for those in flight is bounded.
	flushCtx := ctx
	if ctx.Err() != nil {
		var cancel context.CancelFunc
		flushCtx, cancel = context.WithTimeout(context.Background(), interruptFlushTimeout)
		defer cancel()
	}
	flushErr := cl.Flush(flushCtx)
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.mu.sum
	if format == nil {
		fmt.Fprintf(p.mu.out, "Produced %d records (%d bytes) to %s.\n", s.Records, s.Bytes, c.Topic)
	}
	if err := p.mu.out.Flush(); err != nil {
		return err
	}
	switch {
	case ctx.Err() != nil:
		return cli.Failedf("interrupted: %d records acknowledged, %d not", s.Records, s.Failed)
	case readErr != nil:
		return readErr
	case s.Failed > 0:
		return cli.Failedf("%d of %d records failed, the first with: %v", s.Failed, s.Failed+s.Records, explain(s.FirstErr, c))
	case flushErr != nil:
		return flushErr
	}
	return nil
}

// explain adds what to do to the errors a user can fix.
func explain(err error, c Config) error {
	switch {
	case errors.Is(err, kerr.UnknownTopicOrPartition):
		return fmt.Errorf("%w (create the topic with `sluice topic create %s`)", err, c.Topic)
	case errors.Is(err, kgo.ErrRecordTimeout), errors.Is(err, kgo.ErrRecordRetries):
		return fmt.Errorf("%w (is the partition's leader up?)", err)
	case c.Partition >= 0 && err != nil && !errors.As(err, new(*kerr.Error)):
		return fmt.Errorf("%w (does the topic have partition %d? `sluice topic describe %s -p`)", err, c.Partition, c.Topic)
	}
	return err
}

type producer struct {
	cl     *kgo.Client
	c      Config
	format *output.Format

	// mu guards what the promises (run on the client's goroutines) write.
	mu struct {
		sync.Mutex
		sum Summary
		out *bufio.Writer
		buf []byte
	}
}

// readAll produces every line of inputs. The lines are read by a goroutine so that an
// interrupt ends the run even while a read from a terminal blocks: readAll returns at once
// then, and the reader stops at its next line, or, blocked in a terminal read that nothing
// can interrupt, ends with the process. On every other path the reader has ended before
// readAll returns.
func (p *producer) readAll(ctx context.Context, inputs []namedReader) error {
	lines := make(chan []byte, 256) // bounds what is read ahead of the client's buffer
	errc := make(chan error, 1)
	done := make(chan struct{})
	defer close(done)
	go func() {
		errc <- p.scan(inputs, lines, done)
		close(lines)
	}()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case line, ok := <-lines:
			if !ok {
				return <-errc
			}
			p.cl.Produce(ctx, p.record(line), p.promise)
		}
	}
}

// scan sends every line of inputs to lines until done is closed.
func (p *producer) scan(inputs []namedReader, lines chan<- []byte, done <-chan struct{}) error {
	for _, in := range inputs {
		sc := bufio.NewScanner(in.r)
		// The buffer grows up to the limit; its first size must not exceed it.
		sc.Buffer(make([]byte, 0, min(64<<10, p.c.MaxLineBytes)), p.c.MaxLineBytes)
		line := 0
		for sc.Scan() {
			line++
			select {
			// kgo keeps the record until it is acknowledged: copy out of the scanner's buffer.
			case lines <- bytes.Clone(sc.Bytes()):
			case <-done:
				return nil
			}
		}
		if err := sc.Err(); err != nil {
			if errors.Is(err, bufio.ErrTooLong) {
				return cli.Failedf("%s: line %d is longer than --max-line-bytes (%d)", in.name, line+1, p.c.MaxLineBytes)
			}
			return fmt.Errorf("reading %s: %w", in.name, err)
		}
	}
	return nil
}

func (p *producer) record(line []byte) *kgo.Record {
	r := &kgo.Record{Headers: p.c.Headers, Value: line}
	if p.c.Key != nil {
		r.Key = []byte(*p.c.Key)
	}
	if p.c.KeySep != "" {
		if k, v, ok := bytes.Cut(line, []byte(p.c.KeySep)); ok {
			r.Key, r.Value = k, v
		}
	}
	if p.c.Tombstone && len(r.Value) == 0 {
		r.Value = nil
	}
	if p.c.Partition >= 0 {
		r.Partition = p.c.Partition
	}
	return r
}

func (p *producer) promise(r *kgo.Record, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		if p.mu.sum.Failed == 0 {
			p.mu.sum.FirstErr = err
		}
		p.mu.sum.Failed++
		return
	}
	p.mu.sum.Records++
	p.mu.sum.Bytes += int64(len(r.Key) + len(r.Value))
	if p.format != nil {
		p.mu.buf = p.format.Append(p.mu.buf[:0], r)
		p.mu.out.Write(p.mu.buf)
	}
}

type namedReader struct {
	name string
	r    io.Reader
}

func openInputs(files []string, stdin io.Reader) ([]namedReader, func(), error) {
	if len(files) == 0 {
		return []namedReader{{"stdin", stdin}}, func() {}, nil
	}
	var opened []*os.File
	closeAll := func() {
		for _, f := range opened {
			f.Close()
		}
	}
	var out []namedReader
	for _, name := range files {
		if name == "-" {
			out = append(out, namedReader{"stdin", stdin})
			continue
		}
		f, err := os.Open(name)
		if err != nil {
			closeAll()
			return nil, nil, cli.Failedf("%v", err)
		}
		opened = append(opened, f)
		out = append(out, namedReader{name, f})
	}
	return out, closeAll, nil
}

// murmur2 is the 32-bit MurmurHash2 with Kafka's seed, which Kafka's and franz-go's
// default partitioners use for keys; the hash partitioner applies it to null keys too.
func murmur2(data []byte) uint32 {
	const (
		seed uint32 = 0x9747b28c
		m    uint32 = 0x5bd1e995
		r           = 24
	)
	h := seed ^ uint32(len(data))
	for len(data) >= 4 {
		k := uint32(data[0]) | uint32(data[1])<<8 | uint32(data[2])<<16 | uint32(data[3])<<24
		k *= m
		k ^= k >> r
		k *= m
		h *= m
		h ^= k
		data = data[4:]
	}
	switch len(data) {
	case 3:
		h ^= uint32(data[2]) << 16
		fallthrough
	case 2:
		h ^= uint32(data[1]) << 8
		fallthrough
	case 1:
		h ^= uint32(data[0])
		h *= m
	}
	h ^= h >> 13
	h *= m
	h ^= h >> 15
	return h
}
