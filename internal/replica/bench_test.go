package replica

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/record"
	"github.com/sluicehq/sluice/internal/storage"
)

// countingFS is the real file system, counting fsyncs of files.
type countingFS struct {
	storage.FS
	syncs *atomic.Int64
}

func (c countingFS) OpenFile(name string, flag int, perm fs.FileMode) (storage.File, error) {
	f, err := c.FS.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return countingFile{File: f, syncs: c.syncs}, nil
}

type countingFile struct {
	storage.File
	syncs *atomic.Int64
}

func (f countingFile) Sync() error {
	f.syncs.Add(1)
	return f.File.Sync()
}

// benchDir is where benchmark logs go: $SLUICE_BENCH_DIR (to measure a particular disk) or a
// temporary directory.
func benchDir(b *testing.B) string {
	if d := os.Getenv("SLUICE_BENCH_DIR"); d != "" {
		dir, err := os.MkdirTemp(d, "replica-bench-")
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { os.RemoveAll(dir) })
		return dir
	}
	return b.TempDir()
}

// BenchmarkAppend produces 16 KiB batches of 1 KiB records through Partition.Append with
// acks=1, one or eight producers at once, under each flush policy. MB/s is the produce
// throughput; fsyncs/s and batches/fsync show how group commit shares syncs.
//
//	go test -run '^$' -bench BenchmarkAppend$ ./internal/replica/
func BenchmarkAppend(b *testing.B) {
	for _, policy := range []FlushPolicy{FlushNone, FlushGroupCommit} {
		for _, producers := range []int{1, 8} {
			b.Run(fmt.Sprintf("policy=%s/producers=%d", policy, producers), func(b *testing.B) {
				benchmarkAppend(b, policy, producers)
			})
		}
	}
}

func benchmarkAppend(b *testing.B, policy FlushPolicy, producers int) {
	var syncs atomic.Int64
	e := newEnv(b, withPolicy(policy), withDir(benchDir(b)), withFS(countingFS{FS: storage.NewOSFS(), syncs: &syncs}))
	p := e.leader("bench", 0, DefaultConfig())
	s := plain(16, e.clock.ms.Load())
	s.valueSize = 1024
	template := batch(b, s)
	b.SetBytes(int64(len(template)))
	b.ReportAllocs()
	mustAppend(b, p, append([]byte(nil), template...), acks1) // the epoch checkpoint's fsync
	syncs.Store(0)
	start := time.Now()
	b.ResetTimer()
	if producers == 1 {
		buf := append([]byte(nil), template...)
		for i := 0; i < b.N; i++ {
			record.Batch(buf).SetBaseOffset(0) // Append assigned an offset in place
			if _, err := p.Append(context.Background(), buf, acks1); err != nil {
				b.Fatal(err)
			}
		}
	} else {
		b.SetParallelism((producers + 1) / 2) // GOMAXPROCS is 2 on the reference machine
		b.RunParallel(func(pb *testing.PB) {
			buf := append([]byte(nil), template...)
			for pb.Next() {
				record.Batch(buf).SetBaseOffset(0)
				if _, err := p.Append(context.Background(), buf, acks1); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	b.StopTimer()
	elapsed := time.Since(start).Seconds()
	n := syncs.Load()
	b.ReportMetric(float64(n)/elapsed, "fsyncs/s")
	if n > 0 {
		b.ReportMetric(float64(b.N)/float64(n), "batches/fsync")
	}
}

// BenchmarkAppendWaiters compares a small append to a partition nobody waits on with one a
// fetch waiter watches: with no waiter the wake-up costs one atomic load. The log is in
// memory (MemFS) so that page-cache writeback does not drown the difference.
func BenchmarkAppendWaiters(b *testing.B) {
	for _, watched := range []bool{false, true} {
		b.Run(fmt.Sprintf("watched=%v", watched), func(b *testing.B) {
			e := newEnv(b, withPolicy(FlushNone), withFS(storage.NewMemFS()), withDir("/bench"))
			p := e.leader("bench", 0, DefaultConfig())
			if watched {
				w := e.m.NewWaiter()
				defer w.Close()
				if err := w.WatchLogEnd(p); err != nil {
					b.Fatal(err)
				}
			}
			buf := batch(b, plain(1, e.clock.ms.Load()))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				record.Batch(buf).SetBaseOffset(0)
				if _, err := p.Append(context.Background(), buf, acks1); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkWake is the wake-up an append performs, alone.
func BenchmarkWake(b *testing.B) {
	e := newEnv(b, withPolicy(FlushNone))
	p := e.leader("bench", 0, DefaultConfig())
	b.Run("waiters=0", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			p.waiters.wake(true)
		}
	})
	w := e.m.NewWaiter()
	defer w.Close()
	if err := w.WatchLogEnd(p); err != nil {
		b.Fatal(err)
	}
	b.Run("waiters=1", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			p.waiters.wake(true)
		}
	})
}
