package controller

import (
	"math/rand/v2"
	"slices"

	"github.com/sluicehq/sluice/internal/metadata"
)

// place assigns replicas for partitions [first, first+count) over brokers (alive, sorted by
// id), Kafka-style: partition p's first replica is the broker at (start+p) mod n, and the
// others follow at a distance that shifts once per round of n partitions, so leaders and
// followers both spread evenly and no two brokers always share partitions. With racks, the
// broker list alternates racks and each replica prefers a rack the partition does not use
// yet. start and shift are random per call, as in Kafka, so that successive topics do not
// all lead on the same broker.
func place(rnd *rand.Rand, brokers []*metadata.Broker, first, count int32, rf int) [][]int32 {
	list := rackAlternated(brokers)
	n := len(list)
	start, shift := rnd.IntN(n), rnd.IntN(n)
	hasRacks := slices.ContainsFunc(list, func(b *metadata.Broker) bool { return b.Rack != "" })
	out := make([][]int32, 0, count)
	for i := range count {
		p := int(first + i)
		s := shift + p/n // one more step of distance per full round
		lead := (start + p) % n
		replicas := []int32{list[lead].ID}
		used := map[int32]bool{list[lead].ID: true}
		racks := map[string]bool{list[lead].Rack: true}
		for j := 1; j < rf; j++ {
			idx := (lead + 1 + (s+j-1)%max(n-1, 1)) % n
			idx = pick(list, idx, used, racks, hasRacks)
			replicas = append(replicas, list[idx].ID)
			used[list[idx].ID] = true
			racks[list[idx].Rack] = true
		}
		out = append(out, replicas)
	}
	return out
}

// pick returns idx, or the next broker after it that is not used yet, preferring one on a
// rack the partition does not use when racks are known and such a broker exists.
func pick(list []*metadata.Broker, idx int, used map[int32]bool, racks map[string]bool, hasRacks bool) int {
	n := len(list)
	if hasRacks {
		for k := range n {
			c := (idx + k) % n
			if !used[list[c].ID] && !racks[list[c].Rack] {
				return c
			}
		}
	}
	for k := range n {
		c := (idx + k) % n
		if !used[list[c].ID] {
			return c
		}
	}
	return idx
}

// rackAlternated orders brokers rack by rack in turn (r1's first, r2's first, …, r1's
// second, …), so consecutive brokers sit on different racks. Without racks it is the list.
func rackAlternated(brokers []*metadata.Broker) []*metadata.Broker {
	byRack := map[string][]*metadata.Broker{}
	var racks []string
	for _, b := range brokers {
		if _, ok := byRack[b.Rack]; !ok {
			racks = append(racks, b.Rack)
		}
		byRack[b.Rack] = append(byRack[b.Rack], b)
	}
	if len(racks) <= 1 {
		return brokers
	}
	slices.Sort(racks)
	out := make([]*metadata.Broker, 0, len(brokers))
	for i := 0; len(out) < len(brokers); i++ {
		for _, r := range racks {
			if i < len(byRack[r]) {
				out = append(out, byRack[r][i])
			}
		}
	}
	return out
}
