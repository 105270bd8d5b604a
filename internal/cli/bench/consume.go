package bench

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// ConsumeConfig says what `bench consume` reads.
type ConsumeConfig struct {
	Topic string
	// Consumers is the number of kgo clients; partitions are dealt to them round robin.
	Consumers int
	// From is "start", "end" or an offset (the same for every partition).
	From string
	// Records to read in all; 0 reads until the end offsets listed when the run starts.
	Records int64
	// FetchMaxBytes and FetchMaxPartitionBytes override kgo's defaults when > 0.
	FetchMaxBytes          int32
	FetchMaxPartitionBytes int32
}

// Validate checks the configuration.
func (c *ConsumeConfig) Validate() error {
	var errs []string
	if c.Topic == "" {
		errs = append(errs, "--topic is required")
	}
	if c.Consumers < 1 {
		errs = append(errs, "--consumers must be at least 1")
	}
	if c.Records < 0 {
		errs = append(errs, "--records must not be negative")
	}
	switch c.From {
	case "start", "end":
	default:
		if o, err := strconv.ParseInt(c.From, 10, 64); err != nil || o < 0 {
			errs = append(errs, fmt.Sprintf("--from must be start, end or an offset, not %q", c.From))
		}
	}
	if c.From == "end" && c.Records == 0 {
		errs = append(errs, "--from end needs --records (there is nothing before the end to read)")
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %s", ErrUsage, strings.Join(errs, "; "))
	}
	return nil
}

// consumer runs the reading side of consume and e2e.
type consumer struct {
	topic    string
	target   atomic.Int64 // records to read in all; 0 while unknown (e2e before producing ends)
	untilEnd map[int32]int64

	received atomic.Int64
	bytes    atomic.Int64
	errs     atomic.Int64
	firstErr atomic.Pointer[error]
	e2e      *Histogram // non-nil: values carry a send stamp

	startTime time.Time
	lastTime  atomic.Int64 // Unix ns of the last record counted
}

// run reads with n clients from the given start offsets until the target is reached (or,
// in until-end mode, every partition reached its end offset) or ctx ends.
func (c *consumer) run(ctx context.Context, base []kgo.Opt, n int, cfg ConsumeConfig, parts []int32, from map[int32]kgo.Offset) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	c.startTime = time.Now()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var startErr error
	for i := 0; i < n && i < len(parts); i++ {
		assign := map[int32]kgo.Offset{}
		for j := i; j < len(parts); j += n {
			assign[parts[j]] = from[parts[j]]
		}
		opts := append(append([]kgo.Opt(nil), base...),
			kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{c.topic: assign}))
		if cfg.FetchMaxBytes > 0 {
			opts = append(opts, kgo.FetchMaxBytes(cfg.FetchMaxBytes))
		}
		if cfg.FetchMaxPartitionBytes > 0 {
			opts = append(opts, kgo.FetchMaxPartitionBytes(cfg.FetchMaxPartitionBytes))
		}
		cl, err := kgo.NewClient(opts...)
		if err != nil {
			mu.Lock()
			startErr = fmt.Errorf("bench: consumer client: %w", err)
			mu.Unlock()
			cancel()
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer cl.Close()
			if c.poll(ctx, cl, assign) {
				cancel() // the shared target is reached: stop the others
			}
		}()
	}
	wg.Wait()
	return startErr
}

// poll reads until this client's partitions are done (until-end mode), the shared target is
// reached (it then returns true) or ctx ends.
func (c *consumer) poll(ctx context.Context, cl *kgo.Client, assign map[int32]kgo.Offset) bool {
	remaining := 0
	next := map[int32]int64{}
	if c.untilEnd != nil {
		for p := range assign {
			if c.untilEnd[p] > startOffset(assign[p]) {
				remaining++
			}
		}
		if remaining == 0 {
			return false
		}
	}
	for {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return false
		}
		fs.EachError(func(_ string, _ int32, err error) {
			if errors.Is(err, context.Canceled) {
				return
			}
			c.errs.Add(1)
			c.firstErr.CompareAndSwap(nil, &err)
		})
		now := time.Now()
		reached := false
		fs.EachPartition(func(fp kgo.FetchTopicPartition) {
			for _, r := range fp.Records {
				if c.untilEnd != nil && r.Offset >= c.untilEnd[r.Partition] {
					break // past the end listed at the start: not part of this run
				}
				if t := c.target.Load(); t > 0 && c.received.Load() >= t {
					reached = true
					return
				}
				c.received.Add(1)
				c.bytes.Add(int64(len(r.Key) + len(r.Value)))
				if c.e2e != nil {
					if sent, ok := getStamp(r.Value); ok {
						c.e2e.Record(now.Sub(sent))
					}
				}
				if c.untilEnd != nil {
					old, seen := next[r.Partition]
					if r.Offset+1 >= c.untilEnd[r.Partition] && (!seen || old < c.untilEnd[r.Partition]) {
						remaining--
					}
					next[r.Partition] = r.Offset + 1
				}
			}
		})
		c.lastTime.Store(now.UnixNano())
		if t := c.target.Load(); reached || (t > 0 && c.received.Load() >= t) {
			return true
		}
		if c.untilEnd != nil && remaining == 0 {
			return false
		}
	}
}

// startOffset is the exact offset o starts at (consume builds offsets with At only).
func startOffset(o kgo.Offset) int64 { return o.EpochOffset().Offset }

func (c *consumer) summary(mode string, partitions int) Summary {
	s := Summary{Mode: mode, Topic: c.topic, Partitions: partitions, Records: c.received.Load(),
		Bytes: c.bytes.Load(), Errors: c.errs.Load()}
	if e := c.firstErr.Load(); e != nil {
		s.FirstError = (*e).Error()
	}
	end := time.Unix(0, c.lastTime.Load())
	if c.lastTime.Load() == 0 {
		end = time.Now()
	}
	s.fill(end.Sub(c.startTime))
	return s
}

// Consume runs `bench consume` and returns its summary.
func Consume(ctx context.Context, base []kgo.Opt, cfg ConsumeConfig, out Output) (Summary, error) {
	if err := cfg.Validate(); err != nil {
		return Summary{}, err
	}
	parts, start, end, err := offsets(ctx, base, cfg.Topic)
	if err != nil {
		return Summary{}, err
	}
	from := map[int32]kgo.Offset{}
	c := &consumer{topic: cfg.Topic}
	c.target.Store(cfg.Records)
	if cfg.Records == 0 {
		c.untilEnd = end
	}
	for _, p := range parts {
		var o int64
		switch cfg.From {
		case "start":
			o = start[p]
		case "end":
			o = end[p]
		default:
			o, _ = strconv.ParseInt(cfg.From, 10, 64)
			o = max(o, start[p])
		}
		from[p] = kgo.NewOffset().At(o)
	}
	var rl rateLine
	prog := startProgress(out.Progress, func(el, iv time.Duration) string {
		return rl.format("received", el, iv, c.received.Load(), c.bytes.Load(), "")
	})
	err = c.run(ctx, base, cfg.Consumers, cfg, parts, from)
	prog.stop()
	if err != nil {
		return Summary{}, err
	}
	s := c.summary("consume", len(parts))
	if cfg.Records > 0 && s.Records < cfg.Records && ctx.Err() == nil {
		return s, fmt.Errorf("bench: read %d of %d records", s.Records, cfg.Records)
	}
	return s, nil
}
