// Package node assembles one Sluice process: a node with the roles of process.roles, built
// from the domain packages in dependency order and stopped in reverse. `sluice serve` and the
// in-process test harness (package nodetest) both run it; the single-node mode is the same
// code path with a one-voter quorum (DESIGN §3).
//
// # Startup (Start)
//
//  0. Metrics (metrics.go): with sluice.metrics.listener set, the registry
//     (internal/metrics) and the HTTP listener serving /metrics, /healthz and /readyz bind
//     right after the directory locks of step 2, so /readyz can say which step the node is
//     at (503 with the reason) until it serves. The registry is the server's Observer and storage's flush hook; its pull
//     collectors get the components once they exist.
//  1. Listener ports: a listener configured with port 0 gets a free port now, so that the
//     broker registers the port it will serve on (see resolvePorts).
//  2. Identity: an exclusive lock (.lock, flock) on every log dir and metadata.log.dir,
//     so a second process on the same data fails at once; then meta.properties in each
//     (metadata.LoadOrFormat; a first start formats the node with a new cluster id).
//  3. Metadata: metadata.NewFSM, then, on a controller, the raft stream layer
//     (quorum.NewStreamLayer; its inbound connections arrive through the server's
//     controller-listener handoff, matched on quorum.Preamble's first four bytes),
//     quorum.Open with controller.quorum.voters, and controller.New.
//  4. Broker registration: RegisterBroker with the advertised listeners, fenced, retried
//     while no controller is active or a crashed predecessor's session is still alive; the
//     heartbeat loop starts (every broker.heartbeat.interval.ms), asking to stay fenced.
//  5. Storage: storage.OpenManager on the log dir (recovering it unless the clean-shutdown
//     marker is there), replica.NewManager, txn.NewProducerIDs over the controller's
//     AllocateProducerIDs, and the group coordinator (group.New, groups.go) over the
//     replicas.
//  6. The metadata subscriber (subscriber.go): every image delta becomes MakeLeader /
//     MakeFollower for partitions assigned here, Remove(deleteData) for deleted topics and
//     partitions moved away, UpdateConfig for changed topic configs, and a new layered
//     config for dynamic broker configs. Its first call also deletes stray logs. Leading a
//     __consumer_offsets partition makes this broker its group coordinator
//     (Coordinator.Elect loads it); following it, or losing it, unloads it (Resign);
//     deleted topics' committed offsets are tombstoned (groups.go).
//  7. Unfence: a heartbeat asks to be unfenced; Start waits until the controller's answer
//     (leaders elected for this broker's partitions) has reached the replicas.
//  8. server.New with Deps (deps.go, the one wiring function), server.Start: only now are
//     client requests taken, so none sees a cluster without this broker.
//
// # Shutdown (Close)
//
//  1. server.Close: stop accepting, answer the requests already read, close connections,
//     within two thirds of the time ctx leaves (the rest is for controlled shutdown).
//  2. Controlled shutdown: heartbeats with WantShutdown until the controller has moved
//     leadership away and says ShouldShutdown, then one asking to be fenced, so that the next
//     start's registration is accepted at once; the heartbeat loop ends.
//  3. The subscriber stops, the producer-id allocator closes, the group coordinator
//     unloads every partition (before the replicas it writes close).
//  4. replica.Manager.Close, then storage.Manager.Close, which flushes every log and writes
//     checkpoints and the clean-shutdown marker, so that a restart needs no recovery. It runs
//     to the end even when ctx has expired.
//  5. controller, quorum, FSM; the directory locks are released.
//  6. The metrics listener, last (scrapes in progress get 5 s), so /healthz answers and
//     /readyz says "shutting down" to the end; the collectors stopped reading the
//     components before step 3.
//
// Every goroutine the node starts (the heartbeat loop, the metrics HTTP server) and every component's goroutines are
// stopped and waited for by Close.
//
// # Not yet
//
//   - A broker without a local controller, and a broker in a quorum of several controllers:
//     both need broker-to-controller RPCs over the controller listener. Start refuses them
//     (ErrUnsupported); a controller-only node runs.
//   - One log dir per broker (replica.Manager takes one storage.Manager).
//
// It imports the domain packages and the server; nothing imports it but cmd/sluice and tests.
package node
