package bench

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// Every bucket's range starts right after the previous one ends: no value is lost or
// double-counted at a boundary.
func TestHistogramBucketsContiguous(t *testing.T) {
	for i := 1; i < histBuckets; i++ {
		lo := bucketHigh(i-1) + 1
		if got := bucketOf(lo); got != i {
			t.Fatalf("value %d (just above bucket %d) lands in bucket %d, want %d", lo, i-1, got, i)
		}
		if got := bucketOf(bucketHigh(i)); got != i {
			t.Fatalf("bucketHigh(%d)=%d lands in bucket %d", i, bucketHigh(i), got)
		}
	}
}

// Quantiles are within the histogram's relative error of the exact order statistic.
func TestHistogramQuantilesAccurate(t *testing.T) {
	for _, tc := range []struct {
		name string
		gen  func(r *rand.Rand) int64
	}{
		{"uniform small", func(r *rand.Rand) int64 { return r.Int64N(200) }},
		{"microseconds", func(r *rand.Rand) int64 { return 50_000 + r.Int64N(5_000_000) }},
		{"heavy tail", func(r *rand.Rand) int64 { return int64(r.ExpFloat64() * 2e6) }},
		{"seconds", func(r *rand.Rand) int64 { return r.Int64N(int64(30 * time.Second)) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, 2))
			var h Histogram
			vals := make([]int64, 100_000)
			for i := range vals {
				vals[i] = tc.gen(r)
				h.Record(time.Duration(vals[i]))
			}
			slices.Sort(vals)
			for _, q := range []float64{0.5, 0.9, 0.99, 0.999, 1} {
				idx := int(q*float64(len(vals))+0.999999999) - 1
				want := vals[idx]
				got := int64(h.Quantile(q))
				tol := want/subSize + 1
				if got < want || got-want > tol {
					t.Errorf("q%.3f = %d, exact %d (tolerance +%d)", q, got, want, tol)
				}
			}
			if h.Max() != time.Duration(vals[len(vals)-1]) {
				t.Errorf("max %v, want %v", h.Max(), vals[len(vals)-1])
			}
			if h.Count() != uint64(len(vals)) {
				t.Errorf("count %d", h.Count())
			}
		})
	}
}

func TestHistogramMergeAndEmpty(t *testing.T) {
	var a, b, empty Histogram
	if empty.Quantile(0.99) != 0 || empty.Mean() != 0 || empty.Max() != 0 {
		t.Fatal("empty histogram reports a value")
	}
	for i := 1; i <= 100; i++ {
		a.Record(time.Duration(i) * time.Millisecond)
		b.Record(time.Duration(100+i) * time.Millisecond)
	}
	a.Merge(&b)
	if a.Count() != 200 || a.Max() != 200*time.Millisecond {
		t.Fatalf("merged count %d max %v", a.Count(), a.Max())
	}
	if p := a.Quantile(0.5); p < 100*time.Millisecond || p > 101*time.Millisecond {
		t.Fatalf("merged median %v", p)
	}
	var huge Histogram
	huge.Record(1000 * time.Hour) // beyond the last bucket: clamped, max exact
	if huge.Quantile(1) != 1000*time.Hour {
		t.Fatalf("huge value quantile %v", huge.Quantile(1))
	}
}
