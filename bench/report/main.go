//go:build ignore

// Command report turns bench/compare.sh's results.jsonl into the Markdown tables of
// docs/BENCHMARKS.md: per workload and broker the median over rounds with the range
// (min–max), and the targets of issue 4 as ratios paired within each round (both brokers
// measured minutes apart under the same machine load), then the median of those ratios.
//
//	go run bench/report/main.go /tmp/sluice-compare/results.jsonl
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
)

type latency struct {
	P50 float64 `json:"p50"`
	P99 float64 `json:"p99"`
}

type summary struct {
	E2ELatency     *latency `json:"e2e_latency_ms"`
	Records        int64    `json:"records"`
	Bytes          int64    `json:"bytes"`
	Errors         int64    `json:"errors"`
	RecordsPerSec  float64  `json:"records_per_sec"`
	MBPerSec       float64  `json:"mb_per_sec"`
	ProduceLatency *latency `json:"produce_latency_ms"`
}

type result struct {
	Round    int      `json:"round"`
	Variant  string   `json:"variant"`
	Workload string   `json:"workload"`
	CPUTicks int64    `json:"cpu_ticks"`
	UserTick int64    `json:"user_ticks"`
	ClkTck   int64    `json:"clk_tck"`
	RSSKB    int64    `json:"rss_kb"`
	HWMKB    int64    `json:"hwm_kb"`
	Bytes    int64    `json:"bytes"`
	Ns       int64    `json:"ns"`
	Load1    float64  `json:"load1"`
	Rep      int      `json:"rep"`
	Summary  *summary `json:"summary"`
}

// cpuSec is the broker's CPU time (user and system) during the workload.
func (r result) cpuSec() float64 { return float64(r.CPUTicks) / float64(max(r.ClkTck, 1)) }

// userSec is the user-space part: the broker's own code, without the kernel's cost of the
// page cache and the sockets.
func (r result) userSec() float64 { return float64(r.UserTick) / float64(max(r.ClkTck, 1)) }

type key struct{ variant, workload string }

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: report results.jsonl")
		os.Exit(2)
	}
	f, err := os.Open(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	by := map[key]map[int][]result{} // dd has two repetitions a round, the rest one
	var variants []string
	rounds := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var r result
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			fmt.Fprintln(os.Stderr, "bad line:", err)
			os.Exit(1)
		}
		k := key{r.Variant, r.Workload}
		if by[k] == nil {
			by[k] = map[int][]result{}
		}
		by[k][r.Round] = append(by[k][r.Round], r)
		rounds = max(rounds, r.Round)
		if !strings.HasPrefix(r.Variant, "dd") && r.Variant != "load" && !slices.Contains(variants, r.Variant) {
			variants = append(variants, r.Variant)
		}
	}
	slices.Sort(variants)

	// stat collects one value per round for a (variant, workload).
	stat := func(v, w string, fn func(result) (float64, bool)) []float64 {
		var xs []float64
		for _, rs := range by[key{v, w}] {
			for _, r := range rs {
				if x, ok := fn(r); ok {
					xs = append(xs, x)
				}
			}
		}
		return xs
	}
	ok := func(r result) bool { return r.Summary != nil && r.Summary.Records > 0 && r.Summary.Errors == 0 }

	var loads []float64
	for _, rs := range by[key{"load", "loadavg"}] {
		loads = append(loads, rs[0].Load1)
	}
	fmt.Printf("%d rounds; 1-minute load average at the start of each round: %s\n\n", rounds, spread(loads, "%.1f"))

	fmt.Println("Produce (1 KiB records, one `sluice bench produce` process; -4p: four producer clients in it):")
	fmt.Println()
	fmt.Println("| workload | broker | records/s | MB/s | p50 ms | p99 ms | broker CPU s / M records | of which user | RSS after, MB |")
	fmt.Println("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
	for _, w := range []string{"p1-all", "p1-one", "p8-all", "p8-one", "p1-all-4p", "p8-all-4p"} {
		for _, v := range variants {
			if len(by[key{v, w}]) == 0 || strings.HasSuffix(v, "-nosendfile") {
				continue
			}
			fmt.Printf("| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", w, v,
				spread(stat(v, w, func(r result) (float64, bool) { return r.Summary.RecordsPerSec, ok(r) }), "%.0f"),
				med(stat(v, w, func(r result) (float64, bool) { return r.Summary.MBPerSec, ok(r) }), "%.0f"),
				med(stat(v, w, func(r result) (float64, bool) { return r.Summary.ProduceLatency.P50, ok(r) }), "%.1f"),
				med(stat(v, w, func(r result) (float64, bool) { return r.Summary.ProduceLatency.P99, ok(r) }), "%.1f"),
				spread(stat(v, w, func(r result) (float64, bool) {
					return r.cpuSec() / float64(r.Summary.Records) * 1e6, ok(r)
				}), "%.2f"),
				med(stat(v, w, func(r result) (float64, bool) {
					return r.userSec() / float64(r.Summary.Records) * 1e6, ok(r)
				}), "%.2f"),
				med(stat(v, w, func(r result) (float64, bool) { return float64(r.RSSKB) / 1024, ok(r) }), "%.0f"),
			)
		}
	}
	fmt.Println()
	fmt.Println("Consume from the page cache (the topics just produced, read start to end):")
	fmt.Println()
	fmt.Println("| topic | broker | MB/s | records/s | broker CPU s / GB | of which user |")
	fmt.Println("| --- | --- | --- | --- | --- | --- |")
	for _, w := range []string{"c-p1", "c-p8"} {
		for _, v := range variants {
			if len(by[key{v, w}]) == 0 {
				continue
			}
			fmt.Printf("| %s | %s | %s | %s | %s | %s |\n", w, v,
				spread(stat(v, w, func(r result) (float64, bool) { return r.Summary.MBPerSec, ok(r) }), "%.0f"),
				med(stat(v, w, func(r result) (float64, bool) { return r.Summary.RecordsPerSec, ok(r) }), "%.0f"),
				spread(stat(v, w, func(r result) (float64, bool) {
					return r.cpuSec() / (float64(r.Summary.Bytes) / 1e9), ok(r)
				}), "%.2f"),
				med(stat(v, w, func(r result) (float64, bool) {
					return r.userSec() / (float64(r.Summary.Bytes) / 1e9), ok(r)
				}), "%.2f"),
			)
		}
	}
	fmt.Println()
	fmt.Println("Latency below saturation (`sluice bench e2e --rate`, 1 partition, acks=all):")
	fmt.Println()
	fmt.Println("| broker | produce p50 ms | produce p99 ms | e2e p50 ms | e2e p99 ms |")
	fmt.Println("| --- | --- | --- | --- | --- |")
	for _, v := range variants {
		if len(by[key{v, "lat"}]) == 0 {
			continue
		}
		lat := func(get func(s *summary) *latency, p99 bool) func(result) (float64, bool) {
			return func(r result) (float64, bool) {
				if !ok(r) || get(r.Summary) == nil {
					return 0, false
				}
				if p99 {
					return get(r.Summary).P99, true
				}
				return get(r.Summary).P50, true
			}
		}
		prod := func(s *summary) *latency { return s.ProduceLatency }
		e2e := func(s *summary) *latency { return s.E2ELatency }
		fmt.Printf("| %s | %s | %s | %s | %s |\n", v,
			spread(stat(v, "lat", lat(prod, false)), "%.2f"), spread(stat(v, "lat", lat(prod, true)), "%.2f"),
			spread(stat(v, "lat", lat(e2e, false)), "%.2f"), spread(stat(v, "lat", lat(e2e, true)), "%.2f"))
	}
	fmt.Println()
	fmt.Println("Broker memory (VmHWM = peak RSS over the process's life; RSS after the first produce workload, after the last of the four, and after `grow` wrote 4× more into one partition):")
	fmt.Println()
	fmt.Println("| broker | peak RSS, MB | RSS after p1-all, MB | after p8-one, MB | after grow, MB |")
	fmt.Println("| --- | --- | --- | --- | --- |")
	for _, v := range variants {
		fmt.Printf("| %s | %s | %s | %s | %s |\n", v,
			spread(stat(v, "_process", func(r result) (float64, bool) { return float64(r.HWMKB) / 1024, true }), "%.0f"),
			med(stat(v, "p1-all", func(r result) (float64, bool) { return float64(r.RSSKB) / 1024, true }), "%.0f"),
			med(stat(v, "p8-one", func(r result) (float64, bool) { return float64(r.RSSKB) / 1024, true }), "%.0f"),
			med(stat(v, "grow", func(r result) (float64, bool) { return float64(r.RSSKB) / 1024, true }), "%.0f"))
	}
	fmt.Println()
	ddRate := func(w string, first bool) []float64 {
		return stat("dd", w, func(r result) (float64, bool) {
			return float64(r.Bytes) / 1e6 / (float64(r.Ns) / 1e9), r.Ns > 0 && (r.Rep <= 2) == first
		})
	}
	fmt.Printf("Plain sequential write of the same volume (dd, 1 MiB writes), MB/s: page cache, first write of the round %s, second %s; with fdatasync, first %s, second %s.\n\n",
		spread(ddRate("dd-pagecache", true), "%.0f"), spread(ddRate("dd-pagecache", false), "%.0f"),
		spread(ddRate("dd-fdatasync", true), "%.0f"), spread(ddRate("dd-fdatasync", false), "%.0f"))

	// Paired ratios: within each round, a over b, then the spread over rounds.
	ratio := func(va, wa, vb, wb string, fn func(result) float64) []float64 {
		var xs []float64
		for rd := 1; rd <= rounds; rd++ {
			a, okA := pick(by[key{va, wa}][rd], fn)
			b, okB := pick(by[key{vb, wb}][rd], fn)
			if !okA || !okB {
				continue
			}
			if va != "dd" && !ok(a) || vb != "dd" && !ok(b) {
				continue
			}
			if y := fn(b); y > 0 {
				xs = append(xs, fn(a)/y)
			}
		}
		return xs
	}
	rps := func(r result) float64 {
		if r.Summary == nil {
			return float64(r.Bytes) / 1024 / (float64(r.Ns) / 1e9) // dd: 1 KiB records' worth
		}
		return r.Summary.RecordsPerSec
	}
	cpuPerRec := func(r result) float64 { return r.cpuSec() / float64(r.Summary.Records) }
	userPerRec := func(r result) float64 { return r.userSec() / float64(r.Summary.Records) }
	cpuPerGB := func(r result) float64 { return r.cpuSec() / (float64(r.Summary.Bytes) / 1e9) }
	fmt.Println("Targets (ratios paired within each round; median and range over rounds):")
	fmt.Println()
	fmt.Println("| target | measured | ratio |")
	fmt.Println("| --- | --- | --- |")
	for _, s := range []string{"sluice-gc", "sluice-none"} {
		for _, ref := range []string{"kfake", "kfake-sync"} {
			if len(by[key{s, "p1-all"}]) == 0 || len(by[key{ref, "p1-all"}]) == 0 {
				continue
			}
			fmt.Printf("| p1 acks=all records/s ≥ 1.2× kfake | %s ÷ %s | %s |\n", s, ref, spread(ratio(s, "p1-all", ref, "p1-all", rps), "%.2f"))
			fmt.Printf("| p1 acks=all broker CPU per record ≤ 0.5× kfake | %s ÷ %s | %s |\n", s, ref, spread(ratio(s, "p1-all", ref, "p1-all", cpuPerRec), "%.2f"))
			fmt.Printf("| (same, user CPU only) | %s ÷ %s | %s |\n", s, ref, spread(ratio(s, "p1-all", ref, "p1-all", userPerRec), "%.2f"))
		}
		fmt.Printf("| grow (4× the records, 1 partition, acks=all): user CPU per record ≤ 0.5× kfake | %s ÷ kfake | %s |\n", s,
			spread(ratio(s, "grow", "kfake", "grow", userPerRec), "%.2f"))
		fmt.Printf("| p1 acks=all write path → page-cache write bandwidth | %s MB/s ÷ dd page cache | %s |\n", s,
			spread(ratio(s, "p1-all", "dd", "dd-pagecache", rps), "%.2f"))
	}
	for _, s := range []string{"sluice-gc", "sluice-none", "sluice-gc-nosendfile"} {
		for _, w := range []string{"c-p1", "c-p8"} {
			if len(by[key{s, w}]) == 0 || len(by[key{"kfake", w}]) == 0 {
				continue
			}
			fmt.Printf("| consume CPU per GB ≤ 0.3× kfake (%s) | %s ÷ kfake | %s |\n", w, s, spread(ratio(s, w, "kfake", w, cpuPerGB), "%.2f"))
		}
	}
}

// pick returns the result of a round; of several (dd's repetitions), the one where fn is
// largest: the best bandwidth the disk gave that round.
func pick(rs []result, fn func(result) float64) (result, bool) {
	if len(rs) == 0 {
		return result{}, false
	}
	best := rs[0]
	for _, r := range rs[1:] {
		if r.Summary == nil && fn(r) > fn(best) {
			best = r
		}
	}
	return best, true
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func med(xs []float64, f string) string {
	if len(xs) == 0 {
		return "–"
	}
	return fmt.Sprintf(f, median(xs))
}

// spread is "median (min–max)".
func spread(xs []float64, f string) string {
	if len(xs) == 0 {
		return "–"
	}
	if len(xs) == 1 {
		return fmt.Sprintf(f, xs[0])
	}
	return fmt.Sprintf(f+" ("+f+"–"+f+")", median(xs), slices.Min(xs), slices.Max(xs))
}
