//go:build race

package storage

// raceEnabled: the race detector allocates on its own, so allocation-counting tests skip.
const raceEnabled = true
