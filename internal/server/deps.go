package server

import (
	"github.com/sluicehq/sluice/internal/metadata"
	"github.com/sluicehq/sluice/internal/replica"
)

// Deps are the domain components the handlers use. The node assembly fills them; a handler
// author adds the field their handler needs (the metadata image, the replica manager, the
// group and transaction coordinators, the controller client, …) with a comment saying which
// handlers use it and whether it may be nil (on a controller-only node, for example).
// Handlers read them as s.opts.Deps.X.
//
// The fields every handler group shares live here; DataDeps (deps_data.go: Produce, Fetch and
// the other partition-data APIs), AdminDeps (deps_admin.go: Metadata, topic and config
// administration) and GroupDeps (deps_group.go: the group coordinator's APIs) hold what only
// their group uses, so each group's files can grow without touching the others'.
type Deps struct {
	// Features supplies the KIP-584 feature information ApiVersions reports; nil reports no
	// supported features and an unknown finalized epoch (-1).
	Features Features

	// Metadata is the broker's view of the cluster metadata log: Current() is the latest
	// applied image, WaitForOffset lets a handler wait until an offset the controller
	// returned is applied. Nil only on a controller-only node.
	Metadata *metadata.FSM

	// Replicas holds this broker's partition replicas. Nil only on a controller-only node.
	Replicas *replica.Manager

	DataDeps
	AdminDeps
	GroupDeps
}

// Features reports the feature versions this node supports and the cluster has finalized
// (metadata.version, kraft.version, group.version, transaction.version, …).
type Features interface {
	Features() FeatureInfo
}

// FeatureInfo is what ApiVersions v3+ carries about features.
type FeatureInfo struct {
	// Supported lists the range of each feature this node can run.
	Supported []FeatureRange
	// FinalizedEpoch is the epoch of the finalized levels (the metadata offset they were
	// read at), or -1 when unknown.
	FinalizedEpoch int64
	// Finalized lists the level the cluster runs each feature at.
	Finalized []FeatureLevel
}

// FeatureRange is the range of versions of one feature a node supports.
type FeatureRange struct {
	Name     string
	Min, Max int16
}

// FeatureLevel is the finalized level of one feature.
type FeatureLevel struct {
	Name  string
	Level int16
}
