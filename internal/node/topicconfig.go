package node

import (
	"math"
	"time"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/replica"
	"github.com/sluicehq/sluice/internal/storage"
)

// replicaConfig translates a topic's effective configuration (config.Topic: the topic's
// overrides over the broker's defaults) into what the replica and storage layers take.
// config speaks durations, with math.MaxInt64 for Kafka's "never"; storage and replica speak
// Kafka's milliseconds, with math.MaxInt64 ms for "never" and -1 for "unlimited".
func replicaConfig(t config.Topic) replica.Config {
	rc := replica.DefaultConfig()
	rc.Log = storage.Config{
		SegmentBytes:           t.SegmentBytes,
		SegmentMs:              ms(t.Segment),
		SegmentJitterMs:        ms(t.SegmentJitter),
		SegmentIndexBytes:      t.SegmentIndexBytes,
		IndexIntervalBytes:     t.IndexIntervalBytes,
		RetentionMs:            retentionMs(t.Retention),
		RetentionBytes:         max(t.RetentionBytes, -1),
		CleanupPolicy:          cleanupPolicy(t.CleanupPolicy),
		DeleteRetentionMs:      ms(t.DeleteRetention),
		MinCleanableDirtyRatio: t.MinCleanableDirtyRatio,
		MinCompactionLagMs:     ms(t.MinCompactionLag),
		MaxCompactionLagMs:     ms(t.MaxCompactionLag),
		FlushMessages:          t.FlushMessages,
		FlushMs:                ms(t.Flush),
		FileDeleteDelayMs:      ms(t.FileDeleteDelay),
		MaxMessageBytes:        t.MaxMessageBytes,
	}
	rc.CompressionType = replica.CompressionType(t.CompressionType)
	rc.CompressionLevel = 0
	switch rc.CompressionType {
	case replica.CompressionGzip:
		// Kafka's gzip default is -1 (Deflater.DEFAULT_COMPRESSION); replica says 0 for a
		// codec's default.
		if t.CompressionGzipLevel > 0 {
			rc.CompressionLevel = t.CompressionGzipLevel
		}
	case replica.CompressionLZ4:
		rc.CompressionLevel = t.CompressionLz4Level
	case replica.CompressionZstd:
		rc.CompressionLevel = t.CompressionZstdLevel
	}
	rc.TimestampType = replica.TimestampType(t.MessageTimestampType)
	rc.TimestampBeforeMaxMs = ms(t.MessageTimestampBeforeMax)
	rc.TimestampAfterMaxMs = ms(t.MessageTimestampAfterMax)
	rc.MinInsyncReplicas = t.MinInsyncReplicas
	return rc
}

// ms converts a config duration to Kafka milliseconds; the saturated "never" stays
// math.MaxInt64 (Kafka's Long.MAX_VALUE) instead of becoming MaxInt64/1e6.
func ms(d time.Duration) int64 {
	if d == math.MaxInt64 {
		return math.MaxInt64
	}
	return d.Milliseconds()
}

// retentionMs maps config's "any negative retention is unlimited" to storage's -1.
func retentionMs(d time.Duration) int64 {
	if d < 0 {
		return -1
	}
	return ms(d)
}

// cleanupPolicy maps the parsed cleanup.policy. Kafka allows an empty list (keep every
// segment); storage has no such policy, so it is deletion with whatever retention the topic
// has, which the operator sets to -1 for the same effect.
func cleanupPolicy(p config.CleanupPolicy) storage.CleanupPolicy {
	switch {
	case p.Compact && p.Delete:
		return storage.CleanupCompactDelete
	case p.Compact:
		return storage.CleanupCompact
	default:
		return storage.CleanupDelete
	}
}
