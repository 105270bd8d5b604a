package group

import (
	"slices"

	"github.com/sluicehq/sluice/internal/protocol/kerr"
	"github.com/sluicehq/sluice/internal/protocol/message"
)

// This file is the group administration on a shard's loop: ListGroups, DescribeGroups,
// DeleteGroups.

// list returns the shard's groups that pass the filters (lower-case state names, types).
func (s *shard) list(states map[string]bool, types map[Type]bool, filterTypes bool) []message.ListGroupsResponseListedGroup {
	ids := make([]string, 0, len(s.groups))
	for id := range s.groups {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	out := make([]message.ListGroupsResponseListedGroup, 0, len(ids))
	for _, id := range ids {
		g := s.groups[id]
		if len(states) > 0 && !states[lower(g.stateName())] {
			continue
		}
		if filterTypes && !types[g.kind()] {
			continue
		}
		out = append(out, message.ListGroupsResponseListedGroup{
			GroupId: id, ProtocolType: g.protocolTypeName(), GroupState: g.stateName(), GroupType: g.kind().String(),
		})
	}
	return out
}

// describe answers DescribeGroups for groups of this shard; an unknown group is Dead with
// no members, as Kafka answers up to DescribeGroups v5.
func (s *shard) describe(ids []string) []message.DescribeGroupsResponseDescribedGroup {
	out := make([]message.DescribeGroupsResponseDescribedGroup, 0, len(ids))
	for _, id := range ids {
		if g := s.groups[id]; g != nil {
			out = append(out, g.describe())
			continue
		}
		var d message.DescribeGroupsResponseDescribedGroup
		d.Default()
		d.GroupId = id
		d.GroupState = stateDead.String()
		d.Members = []message.DescribeGroupsResponseDescribedGroupMember{}
		out = append(out, d)
	}
	return out
}

// deleteGroups handles DeleteGroups for groups of this shard (Kafka's deleteGroups): each
// deletable group is marked Dead at once (joins and commits meanwhile are told to retry),
// its offsets and the group are tombstoned, and it is gone once the tombstones are
// committed.
func (s *shard) deleteGroups(ids []string, reply func([]message.DeleteGroupsResponseDeletableGroupResult)) {
	results := make([]message.DeleteGroupsResponseDeletableGroupResult, 0, len(ids))
	var (
		recs    []rec
		deleted []group
	)
	type key struct {
		group, topic string
		partition    int32
	}
	var keys []key
	for _, id := range ids {
		res := message.DeleteGroupsResponseDeletableGroupResult{GroupId: id}
		g := s.groups[id]
		switch {
		case g == nil:
			res.ErrorCode = kerr.GroupIDNotFound.Code
		case slices.Contains(deleted, g):
			// Named twice: the first entry deletes it.
		case g.validateDelete() != nil:
			res.ErrorCode = codeOf(g.validateDelete())
		default:
			for topic, parts := range s.offsets.group(id) {
				for p := range parts {
					recs = append(recs, offsetTombstone(id, topic, p))
					keys = append(keys, key{id, topic, p})
				}
			}
			recs = append(recs, g.tombstones()...)
			g.markDead()
			deleted = append(deleted, g)
		}
		results = append(results, res)
	}
	if len(deleted) == 0 {
		reply(results)
		return
	}
	s.write(recs, func(err error) {
		for _, g := range deleted {
			if s.groups[g.id()] != g {
				continue
			}
			if err != nil {
				reviveAfterFailedDelete(g)
				continue
			}
			delete(s.groups, g.id())
		}
		if err != nil {
			code := codeOf(err)
			for i := range results {
				for _, g := range deleted {
					if results[i].GroupId == g.id() && results[i].ErrorCode == 0 {
						results[i].ErrorCode = code
					}
				}
			}
			reply(results)
			return
		}
		for _, k := range keys {
			s.offsets.remove(k.group, k.topic, k.partition)
		}
		reply(results)
	})
}

// reviveAfterFailedDelete returns a group marked Dead by DeleteGroups to its previous state
// when the tombstones could not be written.
func reviveAfterFailedDelete(g group) {
	if cg, ok := g.(*classicGroup); ok && cg.is(stateDead) {
		cg.state = cg.prevState
	}
	if cg, ok := g.(*consumerGroup); ok {
		cg.dead = false
	}
}
