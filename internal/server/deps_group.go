package server

import "github.com/sluicehq/sluice/internal/group"

// GroupDeps are the components only the group coordinator's handlers use (FindCoordinator,
// JoinGroup, SyncGroup, Heartbeat, LeaveGroup, OffsetCommit, OffsetFetch, OffsetDelete,
// DescribeGroups, ListGroups, DeleteGroups, and KIP-848's ConsumerGroupHeartbeat and
// ConsumerGroupDescribe). See Deps: FindCoordinator also uses Deps.Metadata
// (who leads the group's __consumer_offsets partition) and AdminDeps.Controller (to create
// that topic on first use).
type GroupDeps struct {
	// Groups is the broker's group coordinator. Nil (a controller-only node, or a server
	// under test without one) registers none of those handlers, so ApiVersions advertises
	// none of them.
	Groups *group.Coordinator
}
