package node

import (
	"github.com/sluicehq/sluice/internal/server"
)

// serverDeps fills the server's Deps from the node's components. It is the one place that
// wires handlers to the domain: when a handler author adds a field to server.Deps,
// DataDeps or AdminDeps, it is filled here. Fields of roles this node does not have stay
// nil, as each field's comment allows.
func (n *Node) serverDeps() server.Deps {
	d := server.Deps{Features: features{n}}
	if n.static.Roles.Broker {
		d.Metadata = n.fsm
		d.Replicas = n.replicas
		d.ProducerIDs = n.pids
		d.Groups = n.groups
		d.LogDir = n.static.LogDirs[0]
		// Admin changes answer once this broker has acted on them (replicas made, configs
		// applied), not just once the image shows them.
		d.WaitApplied = n.subs.waitApplied
	}
	if n.ctrl != nil {
		d.Controller = n.ctrl
	}
	d.Config = n.cfg.Load
	d.LogLevel = n.opts.LogLevel
	return d
}

// features reports KIP-584 feature information for ApiVersions: what this node supports
// and what the cluster's metadata log has finalized.
type features struct{ n *Node }

func (f features) Features() server.FeatureInfo {
	info := server.FeatureInfo{FinalizedEpoch: -1}
	for _, s := range supportedFeatures() {
		info.Supported = append(info.Supported, server.FeatureRange{Name: s.Name, Min: s.Min, Max: s.Max})
	}
	im := f.n.fsm.Current()
	if im.MetadataVersion() == 0 {
		return info // not bootstrapped yet: nothing finalized
	}
	info.FinalizedEpoch = int64(im.Offset)
	for name, level := range im.Features() {
		info.Finalized = append(info.Finalized, server.FeatureLevel{Name: name, Level: level})
	}
	sortLevels(info.Finalized)
	return info
}

func sortLevels(ls []server.FeatureLevel) {
	for i := 1; i < len(ls); i++ {
		for j := i; j > 0 && ls[j].Name < ls[j-1].Name; j-- {
			ls[j], ls[j-1] = ls[j-1], ls[j]
		}
	}
}
