package storage

import (
	"fmt"
	"math"
	"strings"
)

// CleanupPolicy is Kafka's cleanup.policy: delete, compact, or both.
type CleanupPolicy string

const (
	CleanupDelete        CleanupPolicy = "delete"
	CleanupCompact       CleanupPolicy = "compact"
	CleanupCompactDelete CleanupPolicy = "compact,delete"
)

// Deletes reports whether the policy includes time/size retention.
func (p CleanupPolicy) Deletes() bool { return p == CleanupDelete || p == CleanupCompactDelete }

// Compacts reports whether the policy includes compaction.
func (p CleanupPolicy) Compacts() bool { return p == CleanupCompact || p == CleanupCompactDelete }

// Config holds the per-topic settings the log obeys, named after Kafka's topic configs
// (segment.bytes -> SegmentBytes, …). A Log's Config can be replaced while it runs
// (Log.SetConfig): every operation reads one consistent snapshot, and changes take effect at
// the next append, roll or background pass (segment and index sizes apply to the next segment).
//
// Start from DefaultConfig(): EnsureDefaults fills only fields whose zero value is not a legal
// Kafka value, so that a deliberate 0 (delete.retention.ms=0, file.delete.delay.ms=0, …) is
// never overwritten.
type Config struct {
	SegmentBytes       int64 // segment.bytes: roll when the active segment would grow past this
	SegmentMs          int64 // segment.ms: roll when the active segment's first batch is this old
	SegmentJitterMs    int64 // segment.jitter.ms: random reduction of SegmentMs per segment
	SegmentIndexBytes  int64 // segment.index.bytes: preallocated size of .index/.timeindex
	IndexIntervalBytes int64 // index.interval.bytes: bytes between sparse index entries

	RetentionMs    int64 // retention.ms: -1 keeps forever
	RetentionBytes int64 // retention.bytes: -1 keeps everything
	CleanupPolicy  CleanupPolicy

	DeleteRetentionMs      int64   // delete.retention.ms: how long tombstones outlive cleaning
	MinCleanableDirtyRatio float64 // min.cleanable.dirty.ratio
	MinCompactionLagMs     int64   // min.compaction.lag.ms
	MaxCompactionLagMs     int64   // max.compaction.lag.ms

	FlushMessages int64 // flush.messages: fsync after this many records
	FlushMs       int64 // flush.ms: fsync when the oldest unflushed append is this old

	FileDeleteDelayMs int64 // file.delete.delay.ms: how long .deleted files linger
	MaxMessageBytes   int64 // max.message.bytes: largest batch the replica should accept
}

// Kafka's defaults.
const (
	DefaultSegmentBytes           = 1 << 30
	DefaultSegmentMs              = 7 * 24 * 3600 * 1000
	DefaultSegmentIndexBytes      = 10 << 20
	DefaultIndexIntervalBytes     = 4096
	DefaultRetentionMs            = 7 * 24 * 3600 * 1000
	DefaultRetentionBytes         = -1
	DefaultDeleteRetentionMs      = 24 * 3600 * 1000
	DefaultMinCleanableDirtyRatio = 0.5
	DefaultFileDeleteDelayMs      = 60000
	DefaultMaxMessageBytes        = 1048588
)

// DefaultConfig returns Kafka's topic defaults.
func DefaultConfig() Config {
	return Config{
		SegmentBytes:           DefaultSegmentBytes,
		SegmentMs:              DefaultSegmentMs,
		SegmentIndexBytes:      DefaultSegmentIndexBytes,
		IndexIntervalBytes:     DefaultIndexIntervalBytes,
		RetentionMs:            DefaultRetentionMs,
		RetentionBytes:         DefaultRetentionBytes,
		CleanupPolicy:          CleanupDelete,
		DeleteRetentionMs:      DefaultDeleteRetentionMs,
		MinCleanableDirtyRatio: DefaultMinCleanableDirtyRatio,
		MinCompactionLagMs:     0,
		MaxCompactionLagMs:     math.MaxInt64,
		FlushMessages:          math.MaxInt64,
		FlushMs:                math.MaxInt64,
		FileDeleteDelayMs:      DefaultFileDeleteDelayMs,
		MaxMessageBytes:        DefaultMaxMessageBytes,
	}
}

// EnsureDefaults replaces fields whose zero value is not legal in Kafka with Kafka's
// default. Fields where 0 is legal (RetentionMs, RetentionBytes, DeleteRetentionMs,
// IndexIntervalBytes, MinCleanableDirtyRatio, MinCompactionLagMs, FlushMs,
// FileDeleteDelayMs, SegmentJitterMs) are left alone: start from DefaultConfig.
func (c *Config) EnsureDefaults() {
	d := DefaultConfig()
	if c.SegmentBytes == 0 {
		c.SegmentBytes = d.SegmentBytes
	}
	if c.SegmentMs == 0 {
		c.SegmentMs = d.SegmentMs
	}
	if c.SegmentIndexBytes == 0 {
		c.SegmentIndexBytes = d.SegmentIndexBytes
	}
	if c.CleanupPolicy == "" {
		c.CleanupPolicy = d.CleanupPolicy
	}
	if c.MaxCompactionLagMs == 0 {
		c.MaxCompactionLagMs = d.MaxCompactionLagMs
	}
	if c.FlushMessages == 0 {
		c.FlushMessages = d.FlushMessages
	}
	if c.MaxMessageBytes == 0 {
		c.MaxMessageBytes = d.MaxMessageBytes
	}
}

// ParseCleanupPolicy accepts Kafka's spellings ("compact, delete" in any order and spacing).
func ParseCleanupPolicy(s string) (CleanupPolicy, error) {
	var del, cmp bool
	for _, part := range strings.Split(s, ",") {
		switch strings.TrimSpace(part) {
		case "delete":
			del = true
		case "compact":
			cmp = true
		default:
			return "", fmt.Errorf("%w: cleanup.policy %q", ErrInvalidConfig, s)
		}
	}
	switch {
	case del && cmp:
		return CleanupCompactDelete, nil
	case cmp:
		return CleanupCompact, nil
	default:
		return CleanupDelete, nil
	}
}

// Validate checks every field against Kafka's ranges. Sluice accepts segments as small as
// 14 bytes (Kafka 4.0 requires 1 MiB) so that tests can roll often.
func (c *Config) Validate() error {
	type check struct {
		name string
		ok   bool
		val  any
	}
	checks := []check{
		{"segment.bytes", c.SegmentBytes >= 14 && c.SegmentBytes <= math.MaxInt32, c.SegmentBytes},
		{"segment.ms", c.SegmentMs >= 1, c.SegmentMs},
		{"segment.jitter.ms", c.SegmentJitterMs >= 0, c.SegmentJitterMs},
		{"segment.index.bytes", c.SegmentIndexBytes >= timeIndexEntrySize && c.SegmentIndexBytes <= math.MaxInt32, c.SegmentIndexBytes},
		{"index.interval.bytes", c.IndexIntervalBytes >= 0, c.IndexIntervalBytes},
		{"retention.ms", c.RetentionMs >= -1, c.RetentionMs},
		{"delete.retention.ms", c.DeleteRetentionMs >= 0, c.DeleteRetentionMs},
		{"min.cleanable.dirty.ratio", c.MinCleanableDirtyRatio >= 0 && c.MinCleanableDirtyRatio <= 1, c.MinCleanableDirtyRatio},
		{"min.compaction.lag.ms", c.MinCompactionLagMs >= 0, c.MinCompactionLagMs},
		{"max.compaction.lag.ms", c.MaxCompactionLagMs >= 1, c.MaxCompactionLagMs},
		{"flush.messages", c.FlushMessages >= 1, c.FlushMessages},
		{"flush.ms", c.FlushMs >= 0, c.FlushMs},
		{"file.delete.delay.ms", c.FileDeleteDelayMs >= 0, c.FileDeleteDelayMs},
		{"max.message.bytes", c.MaxMessageBytes >= 0, c.MaxMessageBytes},
	}
	for _, ch := range checks {
		if !ch.ok {
			return fmt.Errorf("%w: %s=%v out of range", ErrInvalidConfig, ch.name, ch.val)
		}
	}
	switch c.CleanupPolicy {
	case CleanupDelete, CleanupCompact, CleanupCompactDelete:
	default:
		return fmt.Errorf("%w: cleanup.policy=%q", ErrInvalidConfig, c.CleanupPolicy)
	}
	if c.MinCompactionLagMs > c.MaxCompactionLagMs {
		return fmt.Errorf("%w: min.compaction.lag.ms %d above max.compaction.lag.ms %d",
			ErrInvalidConfig, c.MinCompactionLagMs, c.MaxCompactionLagMs)
	}
	return nil
}
