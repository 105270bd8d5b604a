package replica

import "sync/atomic"

// PartitionStats are a partition's traffic counters since this broker created its replica
// (they restart from zero when the replica is removed and made again). They are read by the
// metrics collectors; the data path pays one atomic add per counter.
type PartitionStats struct {
	// BytesIn and RecordsIn count what client produces appended (duplicates of an
	// idempotent retry, followers' replication and failed appends are not counted);
	// BytesIn is the appended batch size, after any recompression.
	BytesIn, RecordsIn int64
	// BytesOut counts the record bytes consumer fetches read (followers' reads are not
	// counted, as Kafka keeps replication traffic out of BytesOutPerSec).
	BytesOut int64
}

// partitionCounters back PartitionStats.
type partitionCounters struct {
	bytesIn, recordsIn, bytesOut atomic.Int64
}

// Stats returns the partition's traffic counters.
func (p *Partition) Stats() PartitionStats {
	return PartitionStats{
		BytesIn:   p.counters.bytesIn.Load(),
		RecordsIn: p.counters.recordsIn.Load(),
		BytesOut:  p.counters.bytesOut.Load(),
	}
}

// Waiting counts the requests parked on this broker's replicas now (Kafka's purgatories).
type Waiting struct {
	// Produce: partition appends with acks=1 or all waiting for durability (group commit)
	// or for the high watermark.
	Produce int64
	// Fetch: fetches in a long poll (Waiter.Wait) for consumer or follower data.
	Fetch int64
}

// Waiting returns how many produce appends and fetches are waiting now.
func (m *Manager) Waiting() Waiting {
	return Waiting{Produce: m.waitingProduce.Load(), Fetch: m.waitingFetch.Load()}
}
