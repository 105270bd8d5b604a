package group

import (
	"slices"

	"github.com/sluicehq/sluice/internal/protocol/wire"
)

// Server-side assignors of KIP-848 consumer groups (Kafka's UniformAssignor and
// RangeAssignor). They are pure functions of the members' subscriptions, the topics and
// the previous target assignment, so a replayed group computes what was written.

// Assignor names, as members name them in ServerAssignor and group.consumer.assignors.
const (
	AssignorUniform = "uniform"
	AssignorRange   = "range"
)

// assignorMember is what an assignor knows of a member.
type assignorMember struct {
	id     string
	topics []string // the topic names it subscribes to that exist, sorted
}

// assignorInput is one assignment computation: members in id order, the existing
// subscribed topics by name, and the previous target (for stickiness).
type assignorInput struct {
	members []assignorMember
	topics  map[string]topicMeta
	prev    map[string]assignment
}

func runAssignor(name string, in assignorInput) map[string]assignment {
	if name == AssignorRange {
		return assignRange(in)
	}
	return assignUniform(in)
}

// assignRange gives each topic's partitions in contiguous ranges to the members that
// subscribe to it, in member id order; the first (partitions mod members) get one more.
func assignRange(in assignorInput) map[string]assignment {
	out := make(map[string]assignment, len(in.members))
	byTopic := map[string][]string{}
	for _, m := range in.members {
		out[m.id] = assignment{}
		for _, t := range m.topics {
			byTopic[t] = append(byTopic[t], m.id)
		}
	}
	for t, ids := range byTopic {
		tm := in.topics[t]
		n := int(tm.partitions)
		per, extra := n/len(ids), n%len(ids)
		p := 0
		for i, id := range ids {
			k := per
			if i < extra {
				k++
			}
			for j := 0; j < k; j++ {
				out[id][tm.id] = append(out[id][tm.id], int32(p))
				p++
			}
		}
	}
	return out
}

// tp is one topic partition.
type tp struct {
	topic wire.UUID
	name  string
	p     int32
}

// assignUniform is a sticky, balanced assignment: each member keeps the partitions of its
// previous target that it still subscribes to (as long as that keeps the balance), the rest
// go to the eligible member with the fewest, then partitions move from the most to the
// least loaded eligible members until no member has two more than another that could take
// one of its partitions.
func assignUniform(in assignorInput) map[string]assignment {
	out := make(map[string]assignment, len(in.members))
	subs := make(map[string]map[string]bool, len(in.members))
	count := map[string]int{}
	for _, m := range in.members {
		out[m.id] = assignment{}
		subs[m.id] = map[string]bool{}
		for _, t := range m.topics {
			subs[m.id][t] = true
		}
	}
	names := map[wire.UUID]string{}
	var all []tp
	topicNames := make([]string, 0, len(in.topics))
	for n := range in.topics {
		topicNames = append(topicNames, n)
	}
	slices.Sort(topicNames)
	for _, n := range topicNames {
		tm := in.topics[n]
		names[tm.id] = n
		subscribed := false
		for _, m := range in.members {
			if subs[m.id][n] {
				subscribed = true
				break
			}
		}
		if !subscribed {
			continue
		}
		for p := range tm.partitions {
			all = append(all, tp{tm.id, n, p})
		}
	}
	// The balanced share if every member could take every partition: keeping more than
	// that would only be undone by the balancing.
	quota := 1
	if len(in.members) > 0 {
		quota = (len(all) + len(in.members) - 1) / len(in.members)
	}
	taken := map[tp]bool{}
	for _, m := range in.members {
		prev := in.prev[m.id]
		for _, t := range prev.sortedTopics() {
			n, ok := names[t]
			if !ok || !subs[m.id][n] {
				continue
			}
			for _, p := range prev[t] {
				x := tp{t, n, p}
				if p >= in.topics[n].partitions || taken[x] || count[m.id] >= quota {
					continue
				}
				taken[x] = true
				out[m.id].add(t, p)
				count[m.id]++
			}
		}
	}
	least := func(x tp, below int) string {
		best := ""
		for _, m := range in.members {
			if !subs[m.id][x.name] || count[m.id] >= below {
				continue
			}
			if best == "" || count[m.id] < count[best] {
				best = m.id
			}
		}
		return best
	}
	for _, x := range all {
		if taken[x] {
			continue
		}
		if id := least(x, int(^uint(0)>>1)); id != "" {
			out[id].add(x.topic, x.p)
			count[id]++
		}
	}
	// Balance: bounded, since every move lowers the sum of squared counts.
	for moved := true; moved; {
		moved = false
		for _, m := range in.members {
			a := out[m.id]
			for _, t := range a.sortedTopics() {
				for _, p := range slices.Clone(a[t]) {
					x := tp{t, names[t], p}
					id := least(x, count[m.id]-1)
					if id == "" {
						continue
					}
					removePartition(a, t, p)
					out[id].add(t, p)
					count[m.id]--
					count[id]++
					moved = true
				}
			}
		}
	}
	return out
}

func removePartition(a assignment, t wire.UUID, p int32) {
	ps := a[t]
	if i, ok := slices.BinarySearch(ps, p); ok {
		ps = slices.Delete(ps, i, i+1)
	}
	if len(ps) == 0 {
		delete(a, t)
		return
	}
	a[t] = ps
}
