package consume

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/internal/cli"
	"github.com/sluicehq/sluice/internal/cli/connect"
	"github.com/sluicehq/sluice/internal/cli/output"
)

// commitTimeout bounds the final commit of a group consumer, which runs after an interrupt
// canceled the command's context.
const commitTimeout = 10 * time.Second

// Config is one consume run.
type Config struct {
	Topics     []string
	Group      string
	Partitions []int32 // nil: every partition
	Offset     string  // start, end, N, @time
	Records    int64   // stop after this many (0: no limit)
	ExitAtEnd  bool
	Format     string
	// FetchMaxWait bounds how long the broker holds an empty fetch (0: kgo's default).
	FetchMaxWait time.Duration
}

// Command returns `consume`. getenv looks environment variables up (SLUICE_BROKERS).
func Command(getenv func(string) string) *cobra.Command {
	var (
		conn connect.Flags
		c    Config
	)
	cmd := &cobra.Command{
		Use:   "consume TOPIC...",
		Short: "Print records of topics, in a consumer group or from partitions",
		Long: `Print records of one or more topics.

With -g GROUP the command joins the consumer group, reads the partitions the group assigns
it, and commits the offsets of the records it printed when it ends; -o then applies only to
partitions without a committed offset. Without -g it reads every partition (or those given
with -p) and commits nothing.

-o (where to start): start, end, an offset N, or @time where time is Unix milliseconds,
an RFC 3339 time (@2024-05-01T12:00:00Z) or a duration ago (@-1h).

It stops after -n records, at the end of every partition with --exit-at-end, or on Ctrl-C.

-f sets the output format: ` + output.Verbs + `.`,
		Example: `  sluice consume orders -g billing
  sluice consume orders -o start --exit-at-end -f '%k %v %h (partition %p, offset %o, at %T)\n'
  sluice consume orders -p 0,2 -o @-10m -n 5 -f json`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, topics []string) error {
			c.Topics = topics
			return Run(cli.Context(cmd.Context()), &conn, c, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	conn.Register(cmd.Flags(), getenv)
	fs := cmd.Flags()
	fs.StringVarP(&c.Group, "group", "g", "", "consume in this consumer group and commit its offsets")
	fs.Int32SliceVarP(&c.Partitions, "partitions", "p", nil, "read only these partitions (comma-separated; not with -g)")
	fs.StringVarP(&c.Offset, "offset", "o", "start", "where to start: start, end, N, or @time")
	fs.Int64VarP(&c.Records, "num", "n", 0, "stop after this many records (0: no limit)")
	fs.BoolVarP(&c.ExitAtEnd, "exit-at-end", "e", false, "stop at the end offsets the partitions had when reading began")
	fs.StringVarP(&c.Format, "format", "f", `%v\n`, "output format (see above)")
	fs.DurationVar(&c.FetchMaxWait, "fetch-max-wait", 0, "longest time the broker holds a fetch with no data (0: 5s)")
	return cmd
}

func kgoOffset(p cli.Position) kgo.Offset {
	switch p.Kind {
	case cli.Start:
		return kgo.NewOffset().AtStart()
	case cli.End:
		return kgo.NewOffset().AtEnd()
	case cli.AtTime:
		return kgo.NewOffset().AfterMilli(p.TimeMs)
	}
	return kgo.NewOffset().At(p.Offset)
}

func (c *Config) validate() (cli.Position, *output.Format, error) {
	at, err := cli.ParsePosition("-o", c.Offset, time.Now())
	if err != nil {
		return cli.Position{}, nil, err
	}
	f, err := output.Compile(c.Format)
	if err != nil {
		return cli.Position{}, nil, cli.Usagef("-f: %v", err)
	}
	switch {
	case c.Group != "" && len(c.Partitions) > 0:
		return cli.Position{}, nil, cli.Usagef("-p and -g exclude each other: a group assigns the partitions")
	case c.Records < 0:
		return cli.Position{}, nil, cli.Usagef("-n must be 0 or more")
	case c.FetchMaxWait < 0:
		return cli.Position{}, nil, cli.Usagef("--fetch-max-wait must not be negative")
	}
	for _, p := range c.Partitions {
		if p < 0 {
			return cli.Position{}, nil, cli.Usagef("-p: partition %d is negative", p)
		}
	}
	return at, f, nil
}

type tp struct {
	topic     string
	partition int32
}

// consumer is the state of one run.
type consumer struct {
	c      Config
	at     cli.Position
	format *output.Format
	adm    *kadm.Client
	out    *bufio.Writer

	// Only the run's goroutine touches these.
	ends    map[tp]int64 // high watermarks when reading began (--exit-at-end)
	next    map[tp]int64 // next offset per partition we read or resolved
	printed int64

	// mu guards the group's current assignment, written by kgo's callbacks.
	mu struct {
		sync.Mutex
		assigned map[tp]bool
		changed  bool
		// wake cancels the poll in progress, so that --exit-at-end sees a new
		// assignment even when no record will come.
		wake context.CancelFunc
	}
}

// Run consumes as c says and writes the records to out.
func Run(ctx context.Context, conn *connect.Flags, c Config, out, stderr io.Writer) error {
	at, format, err := c.validate()
	if err != nil {
		return err
	}
	cs := &consumer{c: c, at: at, format: format, out: bufio.NewWriter(out),
		next: map[tp]int64{}}
	cs.mu.assigned = map[tp]bool{}

	admCl, err := cli.NewClient(ctx, conn)
	if err != nil {
		return err
	}
	cs.adm = kadm.NewClient(admCl)
	defer cs.adm.Close()

	parts, err := cs.partitions(ctx)
	if err != nil {
		return err
	}
	if c.ExitAtEnd {
		if cs.ends, err = cs.endOffsets(ctx); err != nil {
			return err
		}
	}

	opts := []kgo.Opt{kgo.ConsumeResetOffset(kgoOffset(at))}
	if c.FetchMaxWait > 0 {
		opts = append(opts, kgo.FetchMaxWait(c.FetchMaxWait))
	}
	switch {
	case c.Group != "":
		opts = append(opts, kgo.ConsumerGroup(c.Group), kgo.ConsumeTopics(c.Topics...), kgo.AutoCommitMarks(),
			kgo.OnPartitionsAssigned(cs.assigned),
			kgo.OnPartitionsRevoked(cs.revoked), kgo.OnPartitionsLost(cs.lost))
	case len(c.Partitions) > 0:
		m := map[string]map[int32]kgo.Offset{}
		for _, p := range parts {
			if m[p.topic] == nil {
				m[p.topic] = map[int32]kgo.Offset{}
			}
			m[p.topic][p.partition] = kgoOffset(at)
		}
		opts = append(opts, kgo.ConsumePartitions(m))
	default:
		opts = append(opts, kgo.ConsumeTopics(c.Topics...))
	}
	if c.Group == "" {
		for _, p := range parts {
			cs.mu.assigned[p] = true
		}
		cs.mu.changed = true
	}
	cl, err := cli.NewClient(ctx, conn, opts...)
	if err != nil {
		return err
	}
	runErr := cs.loop(ctx, cl, stderr)
	if err := cs.out.Flush(); err != nil && runErr == nil {
		runErr = err
	}
	if c.Group != "" {
		// The context may be canceled (Ctrl-C): commit on a fresh one.
		cctx, cancel := context.WithTimeout(context.Background(), commitTimeout)
		if err := cl.CommitMarkedOffsets(cctx); err != nil && runErr == nil {
			runErr = fmt.Errorf("committing the offsets of group %s: %w", c.Group, err)
		}
		cl.LeaveGroupContext(cctx)
		cancel()
	}
	cl.Close()
	if errors.Is(runErr, context.Canceled) && ctx.Err() != nil {
		return nil // an interrupt is the normal way to stop an open-ended consume
	}
	return runErr
}

// partitions checks that the topics exist and returns the partitions to read (for -g: all).
func (cs *consumer) partitions(ctx context.Context) ([]tp, error) {
	md, err := cs.adm.Metadata(ctx, cs.c.Topics...)
	if err != nil {
		return nil, fmt.Errorf("reading the metadata of %s: %w", strings.Join(cs.c.Topics, ", "), err)
	}
	var parts []tp
	for _, t := range cs.c.Topics {
		td, ok := md.Topics[t]
		if !ok || errors.Is(td.Err, kerr.UnknownTopicOrPartition) {
			return nil, cli.Failedf("topic %s does not exist (`sluice topic list` shows the topics)", t)
		}
		if td.Err != nil {
			return nil, fmt.Errorf("reading the metadata of %s: %w", t, td.Err)
		}
		if len(cs.c.Partitions) == 0 {
			for _, p := range td.Partitions.Sorted() {
				parts = append(parts, tp{t, p.Partition})
			}
			continue
		}
		for _, p := range cs.c.Partitions {
			if _, ok := td.Partitions[p]; !ok {
				return nil, cli.Failedf("topic %s has no partition %d (it has %d)", t, p, len(td.Partitions))
			}
			parts = append(parts, tp{t, p})
		}
	}
	return parts, nil
}

func (cs *consumer) endOffsets(ctx context.Context) (map[tp]int64, error) {
	lo, err := cs.adm.ListEndOffsets(ctx, cs.c.Topics...)
	if err == nil {
		err = lo.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("listing end offsets: %w", err)
	}
	ends := map[tp]int64{}
	lo.Each(func(o kadm.ListedOffset) { ends[tp{o.Topic, o.Partition}] = o.Offset })
	return ends, nil
}

func (cs *consumer) assigned(_ context.Context, _ *kgo.Client, m map[string][]int32) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	for t, ps := range m {
		for _, p := range ps {
			cs.mu.assigned[tp{t, p}] = true
		}
	}
	cs.mu.changed = true
	if cs.c.ExitAtEnd && cs.mu.wake != nil {
		cs.mu.wake()
	}
}

func (cs *consumer) revoked(ctx context.Context, cl *kgo.Client, m map[string][]int32) {
	// Overriding the revoke callback replaces kgo's commit there: do it here.
	cl.CommitMarkedOffsets(ctx)
	cs.lost(ctx, cl, m)
}

func (cs *consumer) lost(_ context.Context, _ *kgo.Client, m map[string][]int32) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	for t, ps := range m {
		for _, p := range ps {
			delete(cs.mu.assigned, tp{t, p})
		}
	}
	cs.mu.changed = true
}

// loop polls and prints until a stop condition holds.
func (cs *consumer) loop(ctx context.Context, cl *kgo.Client, stderr io.Writer) error {
	var buf []byte
	for {
		if cs.c.Records > 0 && cs.printed >= cs.c.Records {
			return nil
		}
		if cs.c.ExitAtEnd {
			done, err := cs.atEnd(ctx)
			if err != nil || done {
				return err
			}
		}
		max := -1
		if cs.c.Records > 0 {
			max = int(min(cs.c.Records-cs.printed, 10000))
		}
		pollCtx, wake := context.WithCancel(ctx)
		cs.mu.Lock()
		cs.mu.wake = wake
		woken := cs.c.ExitAtEnd && cs.mu.changed // an assignment came since atEnd looked
		cs.mu.Unlock()
		if woken {
			wake()
		}
		fs := cl.PollRecords(pollCtx, max)
		wake()
		if err := ctx.Err(); err != nil {
			return err
		}
		var fatal error
		fs.EachError(func(t string, p int32, err error) {
			switch {
			case errors.Is(err, context.Canceled):
				// Woken (the run's own context is checked above).
			case errors.Is(err, kgo.ErrClientClosed):
				fatal = err
			case kerr.IsRetriable(err):
				fmt.Fprintf(stderr, "sluice: reading %s[%d]: %v (retrying)\n", t, p, err)
			default:
				fatal = fmt.Errorf("reading %s[%d]: %w", t, p, err)
			}
		})
		if fatal != nil {
			return fatal
		}
		var printed []*kgo.Record
		fs.EachRecord(func(r *kgo.Record) {
			if cs.c.Records > 0 && cs.printed >= cs.c.Records {
				return
			}
			buf = cs.format.Append(buf[:0], r)
			cs.out.Write(buf)
			cs.printed++
			cs.next[tp{r.Topic, r.Partition}] = r.Offset + 1
			printed = append(printed, r)
		})
		if err := cs.out.Flush(); err != nil {
			return err
		}
		if cs.c.Group != "" {
			cl.MarkCommitRecords(printed...)
		}
	}
}

// atEnd reports whether every assigned partition has reached its end offset. Partitions
// assigned since the last call get their starting position resolved first.
func (cs *consumer) atEnd(ctx context.Context) (bool, error) {
	cs.mu.Lock()
	var assigned []tp
	for p := range cs.mu.assigned {
		assigned = append(assigned, p)
	}
	changed := cs.mu.changed
	cs.mu.changed = false
	cs.mu.Unlock()
	if changed {
		if err := cs.resolveStarts(ctx, assigned); err != nil {
			return false, err
		}
	}
	if len(assigned) == 0 {
		return false, nil // a group member waiting for its assignment
	}
	for _, p := range assigned {
		if cs.next[p] < cs.ends[p] {
			return false, nil
		}
	}
	return true, nil
}

// resolveStarts sets next for partitions not read yet to where reading starts: the
// group's committed offset, else -o resolved against the log.
func (cs *consumer) resolveStarts(ctx context.Context, parts []tp) error {
	var todo []tp
	for _, p := range parts {
		if _, ok := cs.next[p]; !ok {
			todo = append(todo, p)
		}
	}
	if len(todo) == 0 {
		return nil
	}
	var committed kadm.OffsetResponses
	if cs.c.Group != "" {
		var err error
		if committed, err = cs.adm.FetchOffsets(ctx, cs.c.Group); err != nil {
			return fmt.Errorf("fetching the committed offsets of group %s: %w", cs.c.Group, err)
		}
	}
	var resolved kadm.ListedOffsets
	var err error
	switch cs.at.Kind {
	case cli.Start:
		resolved, err = cs.adm.ListStartOffsets(ctx, cs.c.Topics...)
	case cli.AtTime:
		resolved, err = cs.adm.ListOffsetsAfterMilli(ctx, cs.at.TimeMs, cs.c.Topics...)
	}
	if err == nil && resolved != nil {
		err = resolved.Error()
	}
	if err != nil {
		return fmt.Errorf("listing offsets: %w", err)
	}
	for _, p := range todo {
		if o, ok := committed.Lookup(p.topic, p.partition); ok && o.Err == nil && o.At >= 0 {
			cs.next[p] = o.At
			continue
		}
		switch cs.at.Kind {
		case cli.End:
			cs.next[p] = cs.ends[p]
		case cli.At:
			cs.next[p] = cs.at.Offset
		default:
			o, ok := resolved.Lookup(p.topic, p.partition)
			if !ok || o.Offset < 0 { // no record at or after the time
				cs.next[p] = cs.ends[p]
			} else {
				cs.next[p] = o.Offset
			}
		}
	}
	return nil
}
