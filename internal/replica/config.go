package replica

import (
	"fmt"
	"math"

	"github.com/sluicehq/sluice/internal/record"
	"github.com/sluicehq/sluice/internal/storage"
)

// TopicPartition names a partition (the storage type, so that the two layers agree).
type TopicPartition = storage.TopicPartition

// CompressionType is the topic config compression.type, with Kafka's spellings.
type CompressionType string

const (
	// CompressionProducer keeps each batch as the producer compressed it.
	CompressionProducer     CompressionType = "producer"
	CompressionUncompressed CompressionType = "uncompressed"
	CompressionGzip         CompressionType = "gzip"
	CompressionSnappy       CompressionType = "snappy"
	CompressionLZ4          CompressionType = "lz4"
	CompressionZstd         CompressionType = "zstd"
)

// codec returns the record codec the topic wants, and false for "producer".
func (c CompressionType) codec() (record.Compression, bool, error) {
	switch c {
	case CompressionProducer:
		return 0, false, nil
	case CompressionUncompressed:
		return record.CompressionNone, true, nil
	case CompressionGzip:
		return record.CompressionGzip, true, nil
	case CompressionSnappy:
		return record.CompressionSnappy, true, nil
	case CompressionLZ4:
		return record.CompressionLZ4, true, nil
	case CompressionZstd:
		return record.CompressionZstd, true, nil
	}
	return 0, false, fmt.Errorf("%w: compression.type %q", ErrInvalidConfig, string(c))
}

// TimestampType is the topic config message.timestamp.type.
type TimestampType string

const (
	CreateTime    TimestampType = "CreateTime"
	LogAppendTime TimestampType = "LogAppendTime"
)

// FlushPolicy is Sluice's broker config sluice.log.flush.policy: what an acknowledgement
// (acks>=1) promises, and so how far the high watermark may run ahead of the disk.
type FlushPolicy string

const (
	// FlushGroupCommit: acks>=1 is answered, and data becomes visible to consumers (the high
	// watermark passes it), only once it is fdatasync'ed; concurrent producers share syncs.
	FlushGroupCommit FlushPolicy = "group-commit"
	// FlushNone: Kafka's behaviour. acks=1 is answered after the write to the page cache;
	// durability is left to replication and to flush.messages / flush.ms.
	FlushNone FlushPolicy = "none"
)

// Config is what the replica layer needs of a topic's configuration. The node assembly builds
// it from internal/config's Topic; the field comments name the Kafka topic config.
type Config struct {
	// Log is the storage configuration (segment.bytes, retention, cleanup.policy,
	// max.message.bytes, flush.messages, …).
	Log storage.Config
	// CompressionType is compression.type; CompressionLevel the compression.<codec>.level of
	// that codec (0: the codec's default).
	CompressionType  CompressionType
	CompressionLevel int
	// TimestampType is message.timestamp.type.
	TimestampType TimestampType
	// TimestampBeforeMaxMs and TimestampAfterMaxMs are message.timestamp.before.max.ms and
	// message.timestamp.after.max.ms: how far a CreateTime timestamp may lie before or after
	// the broker's clock.
	TimestampBeforeMaxMs int64
	TimestampAfterMaxMs  int64
	// MinInsyncReplicas is min.insync.replicas (acks=all).
	MinInsyncReplicas int
}

// DefaultConfig returns Kafka 4's topic defaults.
func DefaultConfig() Config {
	return Config{
		Log:                  storage.DefaultConfig(),
		CompressionType:      CompressionProducer,
		TimestampType:        CreateTime,
		TimestampBeforeMaxMs: math.MaxInt64,
		TimestampAfterMaxMs:  3_600_000,
		MinInsyncReplicas:    1,
	}
}

// EnsureDefaults fills fields whose zero value is not a legal Kafka value. The timestamp
// windows are left alone (0 is legal): start from DefaultConfig.
func (c *Config) EnsureDefaults() {
	if c.CompressionType == "" {
		c.CompressionType = CompressionProducer
	}
	if c.TimestampType == "" {
		c.TimestampType = CreateTime
	}
	if c.MinInsyncReplicas == 0 {
		c.MinInsyncReplicas = 1
	}
	c.Log.EnsureDefaults()
}

// Validate checks every field against Kafka's ranges; failures wrap ErrInvalidConfig.
func (c *Config) Validate() error {
	codec, recompress, err := c.CompressionType.codec()
	if err != nil {
		return err
	}
	if recompress && c.CompressionLevel != 0 {
		lo, hi := 0, 0
		switch codec {
		case record.CompressionGzip:
			lo, hi = record.GzipMinLevel, record.GzipMaxLevel
		case record.CompressionLZ4:
			lo, hi = record.LZ4MinLevel, record.LZ4MaxLevel
		case record.CompressionZstd:
			lo, hi = record.ZstdMinLevel, record.ZstdMaxLevel
		}
		if (lo != 0 || hi != 0) && (c.CompressionLevel < lo || c.CompressionLevel > hi) {
			return fmt.Errorf("%w: compression level %d for %s outside [%d, %d]", ErrInvalidConfig, c.CompressionLevel, codec, lo, hi)
		}
	}
	switch c.TimestampType {
	case CreateTime, LogAppendTime:
	default:
		return fmt.Errorf("%w: message.timestamp.type %q", ErrInvalidConfig, string(c.TimestampType))
	}
	if c.TimestampBeforeMaxMs < 0 || c.TimestampAfterMaxMs < 0 {
		return fmt.Errorf("%w: message.timestamp.before/after.max.ms must not be negative", ErrInvalidConfig)
	}
	if c.MinInsyncReplicas < 1 {
		return fmt.Errorf("%w: min.insync.replicas %d", ErrInvalidConfig, c.MinInsyncReplicas)
	}
	return c.Log.Validate()
}

// PartitionState is a partition's assignment as the metadata log records it.
type PartitionState struct {
	// Leader is the broker id of the leader (this broker for MakeLeader).
	Leader         int32
	LeaderEpoch    int32
	PartitionEpoch int32
	Replicas       []int32
	ISR            []int32
}

func (s PartitionState) clone() PartitionState {
	s.Replicas = append([]int32(nil), s.Replicas...)
	s.ISR = append([]int32(nil), s.ISR...)
	return s
}

// Origin says who appends, which decides how much is validated (Kafka's AppendOrigin).
type Origin int8

const (
	// OriginClient: a producer. Everything is validated, sequences are checked, offsets
	// assigned.
	OriginClient Origin = iota
	// OriginCoordinator: the broker's own coordinators (group offsets, transaction markers).
	// Batches are checked for structure and CRC, offsets assigned; record-level rules, the
	// topic's compression.type and sequence checks do not apply, and control batches are
	// allowed.
	OriginCoordinator
	// OriginReplication: a follower appending what its leader sent. Offsets, epochs and
	// producer state are taken as they are.
	OriginReplication
)

func (o Origin) String() string {
	switch o {
	case OriginClient:
		return "client"
	case OriginCoordinator:
		return "coordinator"
	case OriginReplication:
		return "replication"
	}
	return fmt.Sprintf("Origin(%d)", int8(o))
}

// IsolationLevel bounds what a read sees. The first two are Kafka's wire values.
type IsolationLevel int8

const (
	// ReadUncommitted reads up to the high watermark.
	ReadUncommitted IsolationLevel = 0
	// ReadCommitted reads up to the last stable offset.
	ReadCommitted IsolationLevel = 1
	// ReadLogEnd reads up to the log end offset: the broker's own readers (a coordinator
	// loading its state). Followers get it implicitly from a ReplicaID >= 0. Not a wire value.
	ReadLogEnd IsolationLevel = 2
)

// Replica ids with a meaning in Fetch and ListOffsets requests.
const (
	// ConsumerReplicaID marks a request from a client.
	ConsumerReplicaID int32 = -1
	// DebuggingReplicaID marks a request that may be served by a follower (Kafka's tools).
	DebuggingReplicaID int32 = -2
)

// Special ListOffsets timestamps.
const (
	TimestampLatest        int64 = -1 // the high watermark (read_uncommitted) or LSO (read_committed)
	TimestampEarliest      int64 = -2 // the log start offset
	TimestampMax           int64 = -3 // the record with the largest timestamp (KIP-734)
	TimestampEarliestLocal int64 = -4 // the first offset kept on local disk (KIP-405)
	TimestampLatestTiered  int64 = -5 // the last offset in remote storage (KIP-1005): none here
)
