package bench

import (
	"math/bits"
	"sync/atomic"
	"time"
)

// Histogram records durations in log-linear buckets, in the manner of HdrHistogram: below
// 2^subBits nanoseconds every value has its own bucket; above, each power-of-two range
// [2^k, 2^(k+1)) is cut into 2^subBits equal buckets. Every reported quantile is therefore
// within 1/2^subBits (0.8%) of the true value, whatever the scale, and the memory is fixed:
// histBuckets counters, about 35 KiB, however many values are recorded.
//
// Record is safe for concurrent use (one atomic add); Snapshot and the read methods may run
// concurrently with Record and see a consistent-enough view for a progress line.
type Histogram struct {
	counts [histBuckets]atomic.Uint64
	total  atomic.Uint64
	sumNs  atomic.Uint64
	maxNs  atomic.Int64
}

const (
	subBits = 7
	subSize = 1 << subBits
	// maxExp covers values up to 2^(maxExp+subBits) ns (about 2.4 hours); larger values
	// are clamped into the last bucket (and still set the exact maximum).
	maxExp      = 36
	histBuckets = (maxExp + 1) * subSize
)

// bucketOf returns the bucket index of v (v >= 0).
func bucketOf(v int64) int {
	if v < subSize {
		if v < 0 {
			return 0
		}
		return int(v)
	}
	e := bits.Len64(uint64(v)) - subBits // >= 1
	if e > maxExp {
		return histBuckets - 1
	}
	// v is in [2^(e+subBits-1), 2^(e+subBits)); v>>(e-1) is in [subSize, 2*subSize).
	return (e-1)*subSize + int(uint64(v)>>(e-1))
}

// bucketHigh returns the largest value that falls in bucket i.
func bucketHigh(i int) int64 {
	if i < subSize {
		return int64(i)
	}
	e := i / subSize
	m := int64(i%subSize + subSize)
	return (m+1)<<(e-1) - 1
}

// Record adds one duration. Negative durations (a clock step) count as zero.
func (h *Histogram) Record(d time.Duration) {
	v := int64(d)
	if v < 0 {
		v = 0
	}
	h.counts[bucketOf(v)].Add(1)
	h.total.Add(1)
	h.sumNs.Add(uint64(v))
	for {
		m := h.maxNs.Load()
		if v <= m || h.maxNs.CompareAndSwap(m, v) {
			break
		}
	}
}

// Count returns how many durations were recorded.
func (h *Histogram) Count() uint64 { return h.total.Load() }

// Max returns the largest duration recorded (exact), or 0.
func (h *Histogram) Max() time.Duration { return time.Duration(h.maxNs.Load()) }

// Mean returns the mean duration, or 0.
func (h *Histogram) Mean() time.Duration {
	n := h.total.Load()
	if n == 0 {
		return 0
	}
	return time.Duration(h.sumNs.Load() / n)
}

// Quantile returns the q-quantile (0 < q <= 1): the upper edge of the bucket holding the
// value of rank ceil(q*n), never above the exact maximum. It is 0 for an empty histogram.
func (h *Histogram) Quantile(q float64) time.Duration {
	var counts [histBuckets]uint64
	var n uint64
	for i := range counts {
		counts[i] = h.counts[i].Load()
		n += counts[i]
	}
	if n == 0 {
		return 0
	}
	rank := uint64(q*float64(n) + 0.999999999)
	if rank < 1 {
		rank = 1
	}
	if rank > n {
		rank = n
	}
	var seen uint64
	max := h.maxNs.Load()
	for i, c := range counts {
		seen += c
		if seen >= rank {
			v := bucketHigh(i)
			if v > max || i == histBuckets-1 { // the last bucket holds every clamped value

				v = max
			}
			return time.Duration(v)
		}
	}
	return time.Duration(max)
}

// Merge adds o's counts to h.
func (h *Histogram) Merge(o *Histogram) {
	for i := range o.counts {
		if c := o.counts[i].Load(); c > 0 {
			h.counts[i].Add(c)
		}
	}
	h.total.Add(o.total.Load())
	h.sumNs.Add(o.sumNs.Load())
	om := o.maxNs.Load()
	for {
		m := h.maxNs.Load()
		if om <= m || h.maxNs.CompareAndSwap(m, om) {
			break
		}
	}
}
