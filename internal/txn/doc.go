// Package txn is the transaction coordinator: transactional ids, producer-id and epoch
// management, the __transaction_state log, and the markers written to data partitions.
package txn
