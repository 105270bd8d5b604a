package storage

import "sync"

// cleaner is filled in by the compaction change.
type cleaner struct {
	m    *Manager
	stop chan struct{}
	once sync.Once
}

func newCleaner(m *Manager) *cleaner { return &cleaner{m: m, stop: make(chan struct{})} }
func (c *cleaner) run()              { <-c.stop }
func (c *cleaner) close()            { c.once.Do(func() { close(c.stop) }) }
func (c *cleaner) forget(l *Log)     {}
