package group

import "context"

// Stats is a snapshot of the coordinator for metrics.
type Stats struct {
	Shards, Loading int              // led __consumer_offsets partitions; of them loading
	Groups          map[StatsKey]int // groups by type and Kafka state name
	Members         int              // members across all groups
}

// StatsKey is a group type ("classic"/"consumer") and a Kafka state name ("Stable", …).
type StatsKey struct{ Type, State string } // Type: "classic"/"consumer"

// Stats counts the shards, groups and members. Each loaded shard is asked on its loop (the
// groups are its alone); a shard that does not answer before ctx ends is skipped, so a
// scrape never waits longer than ctx allows. Loading shards are counted, not asked.
func (c *Coordinator) Stats(ctx context.Context) Stats {
	st := Stats{Groups: map[StatsKey]int{}}
	type part struct {
		groups  map[StatsKey]int
		members int
	}
	for _, s := range c.shards() {
		st.Shards++
		switch shardState(s.state.Load()) {
		case shardLoading:
			st.Loading++
			continue
		case shardStopped:
			continue
		}
		p, err := doOn(ctx, s, func(s *shard, reply func(part)) {
			out := part{groups: map[StatsKey]int{}}
			for _, g := range s.groups {
				out.groups[StatsKey{Type: g.kind().String(), State: g.stateName()}]++
				out.members += g.memberCount()
			}
			reply(out)
		})
		if err != nil {
			continue
		}
		for k, n := range p.groups {
			st.Groups[k] += n
		}
		st.Members += p.members
	}
	return st
}
