// Package quorum is the metadata quorum: hashicorp/raft behind a small interface of Sluice's
// own, so that the rest of Sluice sees "propose bytes, get them applied in order on every
// voter" and nothing of raft's API.
//
// # What it owns
//
//   - The raft log and stable store (raft-boltdb, one file raft.db) and the snapshots (raft's
//     FileSnapshotStore, snapshots/) under <metadata.log.dir>/__cluster_metadata-0/, Kafka's
//     directory name for the metadata log.
//   - The transport: raft's NetworkTransport over a StreamLayer of ours. Controllers speak raft
//     on the CONTROLLER listener, which the server owns; a raft connection is told apart from a
//     Kafka one by Preamble (see StreamLayer for who reads which bytes). For tests and
//     standalone use, Listen gives a StreamLayer that owns its listener.
//   - The adaptation of Sluice's FSM interface (Apply/Snapshot/Restore over plain bytes) to
//     raft.FSM, and of hclog to the injected *slog.Logger.
//
// # Identity and bootstrap
//
// A node's raft server id is its Kafka node.id in decimal; its address is the host:port given
// for it in controller.quorum.voters. When the directory holds no raft state, a voter
// bootstraps the cluster with exactly the configured voters (every voter does so with the
// same list, which is what raft requires for a safe multi-server bootstrap). A node that is
// not among the voters is refused (ErrNotVoter): a broker-only node will later follow the
// log as a raft non-voter, added by the leader with AddNonvoter; that is not built yet.
//
// # Invariants
//
//   - Propose returns only after the entry is committed and applied to the local FSM, so the
//     proposer observes its own write in the FSM when Propose returns.
//   - FSM.Apply is called from one goroutine, in log order, never concurrently with Restore;
//     the snapshot writer may run concurrently with Apply (the FSM must capture an immutable
//     view in Snapshot).
//   - Every goroutine (raft's, the transport's, the leadership watcher, Propose waiters) is
//     stopped and waited for by Close.
//
// # Timeouts
//
// A one-voter quorum needs no election safety margin, so its defaults are short (it elects
// itself within about 200 ms of Open). With several voters the defaults are raft's own
// (1 s heartbeat and election timeouts), which tolerate GC pauses and a loaded machine.
//
// It must not import internal/protocol/message; it knows nothing of what the entries hold.
package quorum
