package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// ErrUsage marks an invalid combination of options (the command exits 2 for it).
var ErrUsage = errors.New("bench: invalid arguments")

// ErrCountMismatch is returned by e2e when the records received are not the records acknowledged.
var ErrCountMismatch = errors.New("bench: records received differ from records acknowledged")

// ErrProduceFailed is returned when some records could not be produced.
var ErrProduceFailed = errors.New("bench: some records failed")

// ProduceConfig says what `bench produce` (and the producing half of e2e) sends.
type ProduceConfig struct {
	Topic string
	// Records to send in all; 0 with Duration set sends until Duration has passed.
	Records  int64
	Duration time.Duration
	// RecordSizeBytes is the value size; KeySizeBytes the key size (0: no keys, so the
	// client's sticky partitioner fills one partition's batch at a time).
	RecordSizeBytes int
	KeySizeBytes    int
	// Partitions of the topic when it has to be created.
	Partitions int32
	// Acks is "0", "1" or "all".
	Acks string
	// Compression is none, gzip, snappy, lz4 or zstd.
	Compression string
	Linger      time.Duration
	// BatchMaxBytes caps one partition's batch (kgo's default, about 1 MB, when 0).
	BatchMaxBytes int32
	// MaxInflight is the number of produce requests in flight per broker and client; with
	// idempotence it is fixed at 5 by the protocol, so only 0 or 5 are accepted then.
	MaxInflight int
	// Producers is the number of kgo clients, each with its own connections.
	Producers  int
	Idempotent bool
	// RatePerSec caps the records sent per second over all producers (0: as fast as the
	// broker takes them). Latency under a cap below saturation is the broker's, not the
	// client queue's.
	RatePerSec float64
}

// defaultInflight matches the idempotent producer's fixed limit, so that acks=1 (not
// idempotent) and acks=all runs pipeline equally.
const defaultInflight = 5

// Validate checks the configuration.
func (c *ProduceConfig) Validate() error {
	var errs []string
	if c.Topic == "" {
		errs = append(errs, "--topic is required")
	}
	if c.Records < 0 || c.Duration < 0 {
		errs = append(errs, "--records and --duration must not be negative")
	}
	if c.Records == 0 && c.Duration == 0 {
		errs = append(errs, "one of --records or --duration is required")
	}
	if c.RecordSizeBytes < 0 || c.KeySizeBytes < 0 {
		errs = append(errs, "--record-size and --key-size must not be negative")
	}
	if c.Partitions < 1 {
		errs = append(errs, "--partitions must be at least 1")
	}
	if _, err := parseAcks(c.Acks); err != nil {
		errs = append(errs, err.Error())
	}
	if _, err := parseCompression(c.Compression); err != nil {
		errs = append(errs, err.Error())
	}
	if c.Producers < 1 {
		errs = append(errs, "--producers must be at least 1")
	}
	if c.RatePerSec < 0 {
		errs = append(errs, "--rate must not be negative")
	}
	if c.MaxInflight < 0 {
		errs = append(errs, "--max-inflight must not be negative")
	}
	if c.Idempotent {
		if c.Acks != "all" && c.Acks != "-1" {
			errs = append(errs, "idempotence needs --acks all (use --idempotent=false)")
		}
		if c.MaxInflight != 0 && c.MaxInflight != defaultInflight {
			errs = append(errs, "an idempotent producer has 5 requests in flight per broker (use --idempotent=false to change it)")
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %s", ErrUsage, strings.Join(errs, "; "))
	}
	return nil
}

func parseAcks(s string) (kgo.Acks, error) {
	switch s {
	case "0":
		return kgo.NoAck(), nil
	case "1":
		return kgo.LeaderAck(), nil
	case "all", "-1":
		return kgo.AllISRAcks(), nil
	}
	return kgo.Acks{}, fmt.Errorf("--acks must be 0, 1 or all, not %q", s)
}

func parseCompression(s string) (kgo.CompressionCodec, error) {
	switch s {
	case "", "none":
		return kgo.NoCompression(), nil
	case "gzip":
		return kgo.GzipCompression(), nil
	case "snappy":
		return kgo.SnappyCompression(), nil
	case "lz4":
		return kgo.Lz4Compression(), nil
	case "zstd":
		return kgo.ZstdCompression(), nil
	}
	return kgo.CompressionCodec{}, fmt.Errorf("--compression must be none, gzip, snappy, lz4 or zstd, not %q", s)
}

// clientOpts returns the producer options of one client.
func (c *ProduceConfig) clientOpts(base []kgo.Opt) []kgo.Opt {
	acks, _ := parseAcks(c.Acks)
	codec, _ := parseCompression(c.Compression)
	opts := append(append([]kgo.Opt(nil), base...),
		kgo.DefaultProduceTopic(c.Topic),
		kgo.RequiredAcks(acks),
		kgo.ProducerBatchCompression(codec),
		kgo.ProducerLinger(c.Linger),
	)
	if c.BatchMaxBytes > 0 {
		opts = append(opts, kgo.ProducerBatchMaxBytes(c.BatchMaxBytes))
	}
	if !c.Idempotent {
		inflight := c.MaxInflight
		if inflight == 0 {
			inflight = defaultInflight
		}
		opts = append(opts, kgo.DisableIdempotentWrite(), kgo.MaxProduceRequestsInflightPerBroker(inflight))
	}
	return opts
}

// payloadPoolBytes is the pool of pseudo-random text values are cut from: values differ
// from each other (so compression is not flattered by identical records) without a
// per-record allocation or random-number call.
const payloadPoolBytes = 1 << 20

// stampBytes is the size of the send time an e2e value starts with.
const stampBytes = 8

// producer runs the producing side of produce and e2e.
type producer struct {
	cfg     ProduceConfig
	stamp   bool // e2e: values carry their send time
	payload []byte

	claimed   atomic.Int64 // records handed to Produce
	acked     atomic.Int64
	ackBytes  atomic.Int64
	errs      atomic.Int64
	firstErr  atomic.Pointer[error]
	latency   Histogram
	records   sync.Pool // *kgo.Record with reusable key (and e2e value) buffers
	startTime time.Time
	endTime   time.Time
}

func newProducer(cfg ProduceConfig, stamp bool) *producer {
	p := &producer{cfg: cfg, stamp: stamp}
	r := rand.New(rand.NewPCG(uint64(cfg.RecordSizeBytes), 0x5eed))
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	p.payload = make([]byte, payloadPoolBytes+cfg.RecordSizeBytes)
	for i := range p.payload {
		p.payload[i] = alphabet[r.IntN(len(alphabet))]
	}
	p.records.New = func() any { return new(kgo.Record) }
	return p
}

// run sends records from cfg.Producers clients until the count or the duration is reached
// or ctx ends, then waits for every promise. It returns when all clients are closed.
func (p *producer) run(ctx context.Context, base []kgo.Opt) error {
	clients := make([]*kgo.Client, p.cfg.Producers)
	for i := range clients {
		cl, err := kgo.NewClient(p.cfg.clientOpts(base)...)
		if err != nil {
			for _, c := range clients[:i] {
				c.Close()
			}
			return fmt.Errorf("bench: producer client: %w", err)
		}
		clients[i] = cl
	}
	var deadline time.Time
	p.startTime = time.Now()
	if p.cfg.Duration > 0 {
		deadline = p.startTime.Add(p.cfg.Duration)
	}
	var wg sync.WaitGroup
	for _, cl := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.loop(ctx, cl, deadline)
		}()
	}
	wg.Wait()
	p.endTime = time.Now()
	for _, cl := range clients {
		cl.Close()
	}
	return nil
}

func (p *producer) loop(ctx context.Context, cl *kgo.Client, deadline time.Time) {
	done := func(r *kgo.Record, err error) { p.promise(r, err) }
	for ctx.Err() == nil {
		if p.cfg.Records > 0 && p.claimed.Load() >= p.cfg.Records {
			break
		}
		seq := p.claimed.Add(1)
		if p.cfg.Records > 0 && seq > p.cfg.Records {
			p.claimed.Add(-1)
			break
		}
		now := time.Now()
		if p.cfg.RatePerSec > 0 {
			// Record seq is due seq/rate after the start; sleeping until then paces every
			// producer off the shared count, so the total rate holds whatever their number.
			due := p.startTime.Add(time.Duration(float64(seq-1) / p.cfg.RatePerSec * float64(time.Second)))
			if wait := due.Sub(now); wait > 0 {
				select {
				case <-time.After(wait):
				case <-ctx.Done():
				}
				now = time.Now()
			}
		}
		if !deadline.IsZero() && now.After(deadline) {
			p.claimed.Add(-1)
			break
		}
		r := p.records.Get().(*kgo.Record)
		p.fill(r, seq, now)
		cl.Produce(ctx, r, done)
	}
	// Flush waits for every buffered record's promise; an interrupted run still reports
	// what was acknowledged. A cancelled ctx fails the records still buffered.
	cl.Flush(context.WithoutCancel(ctx))
}

// fill prepares r as record number seq (1-based), sent at now.
func (p *producer) fill(r *kgo.Record, seq int64, now time.Time) {
	key, val := r.Key[:0], r.Value[:0]
	*r = kgo.Record{Timestamp: now}
	if n := p.cfg.KeySizeBytes; n > 0 {
		key = appendKey(key, seq, n)
		r.Key = key
	}
	size := p.cfg.RecordSizeBytes
	off := int((uint64(seq) * 4099) % payloadPoolBytes)
	if p.stamp {
		// Each value needs its own bytes for the stamp: reuse the pooled record's buffer.
		val = append(val, p.payload[off:off+size]...)
		putStamp(val, now)
		r.Value = val
	} else {
		r.Value = p.payload[off : off+size : off+size]
	}
}

func (p *producer) promise(r *kgo.Record, err error) {
	if err != nil {
		p.errs.Add(1)
		p.firstErr.CompareAndSwap(nil, &err)
	} else {
		p.acked.Add(1)
		p.ackBytes.Add(int64(len(r.Key) + len(r.Value)))
		p.latency.Record(time.Since(r.Timestamp))
	}
	if !p.stamp {
		r.Value = nil // not ours: do not keep the pool slice as a buffer to append to
	}
	p.records.Put(r)
}

// appendKey appends the decimal seq, zero-padded or cut to n bytes.
func appendKey(b []byte, seq int64, n int) []byte {
	var tmp [20]byte
	d := strconv.AppendInt(tmp[:0], seq, 10)
	for i := len(d); i < n; i++ {
		b = append(b, '0')
	}
	if len(d) > n {
		d = d[len(d)-n:]
	}
	return append(b, d...)
}

func putStamp(v []byte, t time.Time) {
	ns := uint64(t.UnixNano())
	for i := range stampBytes {
		v[i] = byte(ns >> (56 - 8*i))
	}
}

func getStamp(v []byte) (time.Time, bool) {
	if len(v) < stampBytes {
		return time.Time{}, false
	}
	var ns uint64
	for i := range stampBytes {
		ns = ns<<8 | uint64(v[i])
	}
	return time.Unix(0, int64(ns)), true
}

func (p *producer) summary(mode string, partitions int) Summary {
	s := Summary{Mode: mode, Topic: p.cfg.Topic, Partitions: partitions,
		Records: p.acked.Load(), Bytes: p.ackBytes.Load(), Errors: p.errs.Load(),
		ProduceLatency: latencyOf(&p.latency)}
	if e := p.firstErr.Load(); e != nil {
		s.FirstError = (*e).Error()
	}
	s.fill(p.endTime.Sub(p.startTime))
	return s
}

// Output says where a run reports: Progress receives the live line (nil: none).
type Output struct {
	Progress io.Writer
}

// Produce runs `bench produce`: it creates the topic if missing, sends the records and
// returns the summary. The error is non-nil when the run could not start or some records
// failed (ErrProduceFailed); the summary is valid whenever the run started.
func Produce(ctx context.Context, base []kgo.Opt, cfg ProduceConfig, out Output) (Summary, error) {
	if err := cfg.Validate(); err != nil {
		return Summary{}, err
	}
	parts, err := ensureTopic(ctx, base, cfg.Topic, cfg.Partitions)
	if err != nil {
		return Summary{}, err
	}
	p := newProducer(cfg, false)
	var rl rateLine
	prog := startProgress(out.Progress, func(el, iv time.Duration) string {
		return rl.format("sent", el, iv, p.acked.Load(), p.ackBytes.Load(),
			fmt.Sprintf("  p99 %.2f ms", ms(p.latency.Quantile(0.99))))
	})
	err = p.run(ctx, base)
	prog.stop()
	if err != nil {
		return Summary{}, err
	}
	s := p.summary("produce", parts)
	if s.Errors > 0 {
		return s, fmt.Errorf("%w: %d of %d (first: %s)", ErrProduceFailed, s.Errors, s.Errors+s.Records, s.FirstError)
	}
	return s, nil
}
