//go:build race

package record

// raceEnabled: the race detector makes sync.Pool drop items at random, so tests that count
// allocations of pooled codecs skip under it.
const raceEnabled = true
