// Package controller is the active controller: it decides what goes into the metadata log
// (topic creation and placement, partition increases, topic deletion, dynamic configs,
// broker registration, heartbeats and fencing, leader election, ISR changes from
// AlterPartition, producer-id blocks) and reads the results back from the metadata image.
//
// # How it runs
//
// A Controller exists on every controller node; it is active only while its node is the raft
// leader (the raft term is the controller epoch). All operations run one at a time on a
// loop goroutine it owns: read the latest applied image, validate, build Kafka metadata
// records, propose them as one entry through the quorum, wait until the entry is applied
// locally, return. Serializing everything makes each operation see every earlier one, so
// validation (a name already taken, a stale epoch) is never racy. When the node becomes
// leader the loop first waits on a raft barrier (so it acts on everything earlier
// controllers committed), gives every registered broker a fresh session, and on a brand-new
// log writes metadata.version. On a node that is not the leader, operations fail with
// *NotControllerError naming the leader when known.
//
// The API uses plain Go types; the server translates from and to the wire. Every mutating
// operation returns the raft offset of its commit, so the caller can
// metadata.FSM.WaitForOffset before answering (its own image then shows the change).
//
// # Brokers
//
// A broker registers fenced; its epoch is the raft offset of its registration. It is
// unfenced by a heartbeat whose metadata offset has reached that epoch, and fenced when no
// heartbeat arrives for broker.session.timeout.ms (checked every TickInterval against the
// injected Clock). Fencing, controlled shutdown and re-registration of a live broker take it
// out of every ISR (the last ISR member stays, as in Kafka) and give the partitions it led
// the first alive ISR member in replica order (any alive replica, RECOVERING, when the
// topic allows unclean leader election), with a new leader epoch. Unfencing elects a leader
// for leaderless partitions. Broker sessions live in the loop's memory, not in the log.
//
// # Differences from Kafka
//
//   - At most 100,000 partitions per topic creation or increase (one log entry holds them).
//   - Placement follows Kafka's spread (random start, shifting follower distance, racks
//     alternated and preferred distinct) but is not Kafka's striped placer byte for byte.
//   - Only metadata.version is bootstrapped (3.9-IV0); no other feature levels yet.
//   - Not yet: partition reassignment, preferred-leader balancing, eligible leader replicas
//     (KIP-966), unregistering brokers, ACLs, quotas, SCRAM, create-topic policies.
//
// # Errors
//
// errors.go lists every sentinel with the Kafka error code it stands for. Per-item failures
// are *Error values whose Error() is the client-facing message.
//
// # Locks
//
// Controller.mu guards only the copy of the activity state read by Active; everything else
// is owned by the loop goroutine.
//
// It must not import net or the generated request/response types.
package controller
