package main

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Hostile input at the product level: truncated frames, impossible sizes, fuzzed bodies and
// slow-loris connections against `sluice serve`, while a franz-go producer and consumer keep
// working against the same broker. Every malformed connection must be closed by the broker
// (not left hanging), nothing may panic, and the pair must make progress throughout and read
// back exactly what was acknowledged.
func TestServeHostileInput(t *testing.T) {
	b := startBroker(t)
	requireAPIs(t, b.addr, append(dataPathAPIs, keyCreateTopics)...)
	createTopic(t, kadm.NewClient(client(t, b.addr)), "steady", 1, nil)
	pair := startSteadyPair(t, b.addr, "steady")

	seed := uint64(time.Now().UnixNano())
	t.Logf("fuzz seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, seed>>1))

	// Slow-loris: connections that send part of a frame and stall stay open during the
	// whole attack (the broker bounds how long a frame may take; they hold no budget).
	var loris []net.Conn
	for i := range 50 {
		c := dial(t, b.addr)
		loris = append(loris, c)
		partial := []byte{0, 0, 0, 40, 0, 18, 0, 3}[:1+i%8]
		if _, err := c.Write(partial); err != nil {
			t.Fatalf("slow-loris write: %v", err)
		}
	}
	defer func() {
		for _, c := range loris {
			c.Close()
		}
	}()
	before := pair.produced.Load()

	cases := []struct {
		name  string
		frame []byte
		// mustClose: the broker has to close the connection (a response alone is wrong);
		// otherwise it must answer or close, never hang.
		mustClose bool
	}{
		{"negative size", be32(-1), true},
		{"size above socket.request.max.bytes", be32(1 << 30), true},
		{"max int32 size", be32(1<<31 - 1), true},
		{"zero size", be32(0), true},
		{"size smaller than a header", append(be32(3), 0, 18, 0), true},
		{"header with an unknown api key", frame(9999, 0, []byte{}), true},
		{"ApiVersions v3 claiming 2^31 tagged fields", frame(18, 3, []byte{0xff, 0xff, 0xff, 0xff, 0x07}), false},
		{"Produce v3 with a topic count of 2^31-1", frame(0, 3, []byte{0xff, 0xff, 0, 1, 0, 0, 0x27, 0x10, 0x7f, 0xff, 0xff, 0xff}), false},
		{"Metadata body cut short", frame(3, 12, []byte{0x05, 0x00}), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, b.addr)
			defer c.Close()
			c.Write(tc.frame)
			if tc.mustClose {
				requireClosed(t, c)
			} else {
				answeredOrClosed(t, c, -1, -1)
			}
		})
	}

	t.Run("truncated frames", func(t *testing.T) {
		for i := range 100 {
			c := dial(t, b.addr)
			f := frame(int16(i%70), int16(i%12), randomBytes(rng, 64))
			c.Write(f[:1+rng.IntN(len(f)-1)])
			c.Close()
		}
	})

	t.Run("fuzzed bodies", func(t *testing.T) {
		// Valid frames and headers around random bodies, for every API key and version the
		// broker advertises: each is answered or the connection closed, never a hang.
		cl := client(t, b.addr)
		resp, err := kmsg.NewPtrApiVersionsRequest().RequestWith(context.Background(), cl)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		until := time.Now().Add(1500 * time.Millisecond)
		for w := range 4 {
			r := rand.New(rand.NewPCG(seed+uint64(w), 7))
			wg.Go(func() {
				for time.Now().Before(until) {
					k := resp.ApiKeys[r.IntN(len(resp.ApiKeys))]
					v := k.MinVersion + int16(r.IntN(int(k.MaxVersion-k.MinVersion)+1))
					c := dial(t, b.addr)
					c.Write(frame(k.ApiKey, v, randomBytes(r, r.IntN(300))))
					answeredOrClosed(t, c, k.ApiKey, v)
					c.Close()
				}
			})
		}
		wg.Wait()
	})

	// The pair kept working during the attack, and the broker still answers.
	if during := pair.produced.Load() - before; during < 5 {
		t.Fatalf("the producer had only %d records acknowledged during the attacks", during)
	}
	produced, consumed := pair.stop(t)
	if consumed != produced {
		t.Fatalf("consumer read %d records, producer had %d acknowledged", consumed, produced)
	}
	requireAPIs(t, b.addr, keyProduce)
	if strings.Contains(b.out.String(), "panic") {
		t.Fatalf("the broker logged a panic:\n%s", b.out.String())
	}
	t.Logf("%d records produced and consumed in order while under attack", produced)
}

// steadyPair is a producer and a consumer working on one partition throughout a test.
type steadyPair struct {
	produced   atomic.Int64
	cancelProd context.CancelFunc
	cancelCons context.CancelFunc
	prodWG     sync.WaitGroup
	consWG     sync.WaitGroup
	mu         sync.Mutex
	errs       []error
	consumed   int64
	outOfSeq   bool
}

func startSteadyPair(t testing.TB, addr, topic string) *steadyPair {
	p := &steadyPair{}
	pctx, pcancel := context.WithCancel(context.Background())
	cctx, ccancel := context.WithCancel(context.Background())
	p.cancelProd, p.cancelCons = pcancel, ccancel
	prod := client(t, addr, kgo.DefaultProduceTopic(topic))
	cons := client(t, addr, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxWait(100*time.Millisecond))
	p.prodWG.Go(func() {
		ctx := pctx
		for i := 0; ctx.Err() == nil; i++ {
			err := prod.ProduceSync(ctx, &kgo.Record{Value: []byte(strconv.Itoa(i))}).FirstErr()
			if err != nil {
				if ctx.Err() == nil {
					p.fail(err)
				}
				return
			}
			p.produced.Add(1)
			time.Sleep(2 * time.Millisecond)
		}
	})
	p.consWG.Go(func() {
		ctx := cctx
		for {
			fs := cons.PollFetches(ctx)
			if ctx.Err() != nil {
				return
			}
			fs.EachError(func(_ string, _ int32, err error) { p.fail(err) })
			for _, r := range fs.Records() {
				p.mu.Lock()
				if string(r.Value) != strconv.FormatInt(p.consumed, 10) {
					p.outOfSeq = true
				}
				p.consumed++
				p.mu.Unlock()
			}
		}
	})
	return p
}

func (p *steadyPair) fail(err error) {
	p.mu.Lock()
	p.errs = append(p.errs, err)
	p.mu.Unlock()
}

// stop stops the producer, lets the consumer catch up, stops it and returns the counts.
func (p *steadyPair) stop(t testing.TB) (produced, consumed int64) {
	t.Helper()
	p.cancelProd()
	p.prodWG.Wait()
	n := p.produced.Load()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		p.mu.Lock()
		c := p.consumed
		p.mu.Unlock()
		if c >= n {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.cancelCons()
	p.consWG.Wait()
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.errs) > 0 {
		t.Fatalf("the producer/consumer pair saw errors: %v", p.errs)
	}
	if p.outOfSeq {
		t.Fatal("the consumer read records out of order")
	}
	return p.produced.Load(), p.consumed
}

func dial(t testing.TB, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	return c
}

// requireClosed requires the broker to close c (EOF or reset) within 10 s, sending nothing
// but possibly responses to earlier requests.
func requireClosed(t testing.TB, c net.Conn) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err := io.Copy(io.Discard, c)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatal("the broker left a malformed connection open")
	}
}

// answeredOrClosed requires a response frame with the request's correlation id, or the
// connection closed, within 10 s.
func answeredOrClosed(t testing.TB, c net.Conn, key, version int16) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	var hdr [8]byte
	_, err := io.ReadFull(c, hdr[:])
	switch {
	case err == nil:
		if id := binary.BigEndian.Uint32(hdr[4:]); id != 0x5eed {
			t.Errorf("API %d v%d: response with correlation id %#x", key, version, id)
		}
	case errors.Is(err, os.ErrDeadlineExceeded):
		t.Errorf("API %d v%d with a random body: no answer and no close in 10 s", key, version)
	}
}

func be32(n int32) []byte { return binary.BigEndian.AppendUint32(nil, uint32(n)) }

// frame builds a request frame with a v1 request header (key, version, correlation id
// 0x5eed, client id "fuzz") around body. Flexible versions expect header v2 (an extra
// tagged-field byte), which the body's first byte then plays, so both kinds get exercised.
func frame(key, version int16, body []byte) []byte {
	var b []byte
	b = binary.BigEndian.AppendUint16(b, uint16(key))
	b = binary.BigEndian.AppendUint16(b, uint16(version))
	b = binary.BigEndian.AppendUint32(b, 0x5eed)
	b = binary.BigEndian.AppendUint16(b, 4)
	b = append(b, "fuzz"...)
	b = append(b, body...)
	return append(be32(int32(len(b))), b...)
}

func randomBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}
