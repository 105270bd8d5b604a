package server

// Deps are the domain components the handlers use. The node assembly fills them; a handler
// author adds the field their handler needs (the metadata image, the replica manager, the
// group and transaction coordinators, the controller client, …) with a comment saying which
// handlers use it and whether it may be nil (on a controller-only node, for example).
// Handlers read them as s.opts.Deps.X.
type Deps struct {
	// Features supplies the KIP-584 feature information ApiVersions reports; nil reports no
	// supported features and an unknown finalized epoch (-1).
	Features Features
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
