// Package txn will be the transaction coordinator: transactional ids, producer-id and epoch
// management, the __transaction_state log, and the markers written to data partitions. For
// now it holds only the producer-id allocator that InitProducerId uses for idempotent
// producers; the coordinator (transactional InitProducerId, AddPartitionsToTxn, EndTxn,
// WriteTxnMarkers, the last stable offset and aborted-transaction index on the data side)
// is a later issue.
//
// # ProducerIDs
//
// Producer ids come in blocks from the controller (AllocateProducerIds, through the
// BlockSource interface, so the controller's side can be replaced in tests). The allocator
// holds the current block and at most one prefetched block, and has at most one request in
// flight: it asks for the next block once 90% of the current one is used (Kafka's rule), so
// InitProducerId normally never waits. When no id is at hand, Next waits for the request in
// flight, bounded by its context, and otherwise fails with ErrLoadInProgress, which the server
// answers as COORDINATOR_LOAD_IN_PROGRESS (clients retry it). After a failed request no new
// one is sent for RetryBackoffMs.
//
// # Goroutines and locks
//
// The request in flight runs in a goroutine the allocator owns; Close cancels its context
// and waits for it. One mutex (ProducerIDs.mu) guards the blocks; it is never held while
// the source is called.
//
// # Differences from Kafka
//
// Kafka's broker answers COORDINATOR_LOAD_IN_PROGRESS at once when its block is exhausted;
// Sluice waits for the block in flight up to the caller's deadline first, which spares the
// client a retry right after startup.
//
// txn must not import net. Coordinators may use the generated request/response types as
// their API (DESIGN §4); the allocator needs none.
package txn
