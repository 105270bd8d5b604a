package controller

import (
	"context"
	"math"
	"slices"
	"time"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/metadata"
	"github.com/sluicehq/sluice/internal/protocol/metarecord"
	"github.com/sluicehq/sluice/internal/protocol/wire"
)

// ProducerIDBlockSize is how many producer ids one AllocateProducerIds hands out (Kafka's).
const ProducerIDBlockSize = 1000

// Registration is a BrokerRegistration request.
type Registration struct {
	BrokerID      int32
	IncarnationID metadata.UUID
	Endpoints     []metadata.Endpoint
	Rack          string
	Features      []metadata.Feature
}

// RegisterBroker registers (or re-registers) a broker, fenced until a heartbeat shows it has
// caught up with the metadata log. It returns the broker epoch, which is also the raft
// offset of the registration. A re-registration of a broker that was unfenced moves
// leadership off its partitions first, as fencing does: the new incarnation's replicas are
// unknown until it catches up.
func (c *Controller) RegisterBroker(ctx context.Context, r Registration) (int64, error) {
	var epoch int64
	err := c.do(ctx, func() error {
		im := c.image()
		if r.BrokerID < 0 {
			return errf(ErrInvalidRequest, "Invalid broker id %d.", r.BrokerID)
		}
		now := c.opts.Clock.Now()
		old, exists := im.Broker(r.BrokerID)
		if exists && old.IncarnationID != r.IncarnationID && !old.Fenced {
			if s := c.sessions[r.BrokerID]; s != nil && now.Sub(s.lastContact) <= c.sessionTimeout() {
				return errf(ErrDuplicateBrokerRegistration, "Another broker is registered with that broker id %d.", r.BrokerID)
			}
		}
		mv := im.MetadataVersion()
		for _, f := range r.Features {
			if f.Name == metadata.MetadataVersionFeature && (mv < f.Min || mv > f.Max) {
				return errf(ErrUnsupportedVersion, "Unable to register because the broker does not support version %d of metadata.version. It wants a version between %d and %d, inclusive.", mv, f.Min, f.Max)
			}
		}
		rec := metadata.BrokerRecord(&metadata.Broker{
			ID: r.BrokerID, IncarnationID: r.IncarnationID, Epoch: -1, Endpoints: r.Endpoints,
			Features: r.Features, Rack: r.Rack, Fenced: true,
		})
		recs := []metarecord.Record{rec}
		if exists && !old.Fenced {
			recs = append(recs, c.moveAway(im, r.BrokerID)...)
		}
		idx, err := c.propose(recs...)
		if err != nil {
			return err
		}
		epoch = int64(idx)
		c.sessions[r.BrokerID] = &session{lastContact: now}
		return nil
	})
	return epoch, err
}

// Heartbeat is a BrokerHeartbeat request.
type Heartbeat struct {
	BrokerID    int32
	BrokerEpoch int64
	// MetadataOffset is the offset of the newest image the broker has applied.
	MetadataOffset int64
	WantFence      bool
	WantShutdown   bool
}

// HeartbeatResult is the broker's state after the heartbeat.
type HeartbeatResult struct {
	IsCaughtUp     bool
	IsFenced       bool
	ShouldShutdown bool
	// Offset is the raft offset of the change the heartbeat caused (0 if none).
	Offset uint64
}

// BrokerHeartbeat renews a broker's session and moves it between states: a fenced broker
// that has caught up (its metadata offset reached its registration) and does not want to be
// fenced is unfenced, and leaderless partitions it can lead get it as leader; an unfenced
// broker that wants to shut down enters controlled shutdown (its leaderships move to other
// ISR members) and is told to shut down once it leads nothing and has seen that change; one
// that wants to be fenced is fenced.
func (c *Controller) BrokerHeartbeat(ctx context.Context, hb Heartbeat) (HeartbeatResult, error) {
	var res HeartbeatResult
	err := c.do(ctx, func() error {
		im := c.image()
		br, ok := im.Broker(hb.BrokerID)
		if !ok {
			return errf(ErrBrokerIDNotRegistered, "Broker %d is not registered.", hb.BrokerID)
		}
		if br.Epoch != hb.BrokerEpoch {
			return errf(ErrStaleBrokerEpoch, "Expected broker epoch %d, but got broker epoch %d.", br.Epoch, hb.BrokerEpoch)
		}
		s := c.sessions[hb.BrokerID]
		if s == nil {
			s = &session{}
			c.sessions[hb.BrokerID] = s
		}
		s.lastContact = c.opts.Clock.Now()
		caughtUp := hb.MetadataOffset >= br.Epoch

		var recs []metarecord.Record
		shutdownChange := false
		switch {
		case br.Fenced:
			if !hb.WantFence && !hb.WantShutdown && caughtUp {
				recs = append(recs, brokerChange(br, -1, 0))
				recs = append(recs, c.electLeaderless(im, func(id int32) bool {
					return id == br.ID || isAlive(im, id)
				})...)
			}
		case hb.WantShutdown && !br.InControlledShutdown:
			recs = append(recs, brokerChange(br, 0, 1))
			recs = append(recs, c.moveAway(im, br.ID)...)
			shutdownChange = true
		case hb.WantFence:
			recs = append(recs, brokerChange(br, 1, 0))
			recs = append(recs, c.moveAway(im, br.ID)...)
		}
		if len(recs) > 0 {
			idx, err := c.propose(recs...)
			if err != nil {
				return err
			}
			res.Offset = idx
			if shutdownChange {
				s.shutdownOffset = idx
			}
			im = c.image()
			br, _ = im.Broker(hb.BrokerID)
		}
		res.IsCaughtUp = caughtUp
		res.IsFenced = br.Fenced
		res.ShouldShutdown = hb.WantShutdown && (br.Fenced ||
			br.InControlledShutdown && !leadsAny(im, br.ID) && uint64(max(hb.MetadataOffset, 0)) >= s.shutdownOffset)
		return nil
	})
	return res, err
}

func brokerChange(b *metadata.Broker, fenced, shutdown int8) *metarecord.BrokerRegistrationChangeRecord {
	r := metarecord.NewBrokerRegistrationChangeRecord()
	r.BrokerId, r.BrokerEpoch, r.Fenced, r.InControlledShutdown = b.ID, b.Epoch, fenced, shutdown
	return r
}

func (c *Controller) sessionTimeout() time.Duration { return c.opts.Config.Quorum.BrokerSessionTimeout }

// checkSessions fences every unfenced broker whose last heartbeat is older than
// broker.session.timeout.ms, and moves leadership off it, in one entry.
func (c *Controller) checkSessions() {
	im := c.image()
	now := c.opts.Clock.Now()
	var recs []metarecord.Record
	var fenced []int32
	gone := map[int32]bool{}
	for _, b := range im.Brokers() {
		if b.Fenced {
			continue
		}
		s := c.sessions[b.ID]
		if s == nil {
			c.sessions[b.ID] = &session{lastContact: now}
			continue
		}
		if now.Sub(s.lastContact) > c.sessionTimeout() {
			recs = append(recs, brokerChange(b, 1, 0))
			fenced = append(fenced, b.ID)
			gone[b.ID] = true
		}
	}
	if len(fenced) == 0 {
		return
	}
	recs = append(recs, c.moveAwayAll(im, gone)...)
	if _, err := c.propose(recs...); err != nil {
		c.logger.Warn("could not fence brokers whose session expired", "brokers", fenced, "err", err)
		return
	}
	c.logger.Info("fenced brokers whose session expired", "brokers", fenced)
}

func isAlive(im *metadata.Image, id int32) bool {
	b, ok := im.Broker(id)
	return ok && b.Alive()
}

func leadsAny(im *metadata.Image, id int32) bool {
	for _, t := range im.Topics() {
		for _, p := range t.Partitions {
			if p.Leader == id {
				return true
			}
		}
	}
	return false
}

func (c *Controller) unclean(cfg *config.Broker, im *metadata.Image, topic string) bool {
	tc, err := cfg.TopicConfig(im.TopicConfig(topic))
	return err == nil && tc.UncleanLeaderElection
}

// moveAway takes broker id out of every ISR it is in (never emptying one: the last member
// stays, as Kafka keeps it, so it can lead again when it returns) and gives the partitions
// it led a new leader: the first alive ISR member in replica order or, with
// unclean.leader.election.enable, the first alive replica, or none.
func (c *Controller) moveAway(im *metadata.Image, id int32) []metarecord.Record {
	gone := map[int32]bool{id: true}
	return c.moveAwayAll(im, gone)
}

// moveAwayAll is moveAway for several brokers at once, one record per partition.
func (c *Controller) moveAwayAll(im *metadata.Image, gone map[int32]bool) []metarecord.Record {
	cfg := c.config(im)
	alive := func(b int32) bool { return !gone[b] && isAlive(im, b) }
	var recs []metarecord.Record
	for _, t := range im.Topics() {
		for _, p := range t.Partitions {
			leaderGone := p.Leader != metadata.NoLeader && gone[p.Leader]
			isr := slices.DeleteFunc(slices.Clone(p.ISR), func(b int32) bool { return gone[b] })
			if !leaderGone && len(isr) == len(p.ISR) {
				continue
			}
			if len(isr) == 0 {
				isr = []int32{p.ISR[len(p.ISR)-1]}
			}
			rec := metarecord.NewPartitionChangeRecord()
			rec.TopicId, rec.PartitionId = wire.UUID(t.ID), p.ID
			changed := false
			if !slices.Equal(isr, p.ISR) {
				rec.Isr, changed = isr, true
			}
			if leaderGone {
				leader, newISR, recovering := elect(p.Replicas, isr, alive, c.unclean(cfg, im, t.Name))
				rec.Leader, changed = leader, true
				if newISR != nil {
					rec.Isr = newISR
				}
				if recovering {
					rec.LeaderRecoveryState = 1
				}
			}
			if changed {
				recs = append(recs, rec)
			}
		}
	}
	return recs
}

// electLeaderless gives every partition without a leader one, if a replica can lead.
func (c *Controller) electLeaderless(im *metadata.Image, alive func(int32) bool) []metarecord.Record {
	cfg := c.config(im)
	var recs []metarecord.Record
	for _, t := range im.Topics() {
		for _, p := range t.Partitions {
			if p.Leader != metadata.NoLeader {
				continue
			}
			leader, newISR, recovering := elect(p.Replicas, p.ISR, alive, c.unclean(cfg, im, t.Name))
			if leader == metadata.NoLeader {
				continue
			}
			rec := metarecord.NewPartitionChangeRecord()
			rec.TopicId, rec.PartitionId, rec.Leader = wire.UUID(t.ID), p.ID, leader
			if newISR != nil {
				rec.Isr = newISR
			}
			if recovering {
				rec.LeaderRecoveryState = 1
			}
			recs = append(recs, rec)
		}
	}
	return recs
}

// elect picks a leader: the first replica (in replica order, so the preferred leader wins
// when it can) that is in the ISR and alive; failing that, with unclean election, the first
// alive replica, which then forms the ISR alone and leads in the RECOVERING state.
func elect(replicas, isr []int32, alive func(int32) bool, unclean bool) (leader int32, newISR []int32, recovering bool) {
	for _, r := range replicas {
		if slices.Contains(isr, r) && alive(r) {
			return r, nil, false
		}
	}
	if unclean {
		for _, r := range replicas {
			if alive(r) {
				return r, []int32{r}, true
			}
		}
	}
	return metadata.NoLeader, nil, false
}

// ProducerIDBlock is a range of producer ids [First, First+Count).
type ProducerIDBlock struct {
	First int64
	Count int32
}

// AllocateProducerIDs hands a broker the next block of producer ids.
func (c *Controller) AllocateProducerIDs(ctx context.Context, brokerID int32, brokerEpoch int64) (ProducerIDBlock, uint64, error) {
	var block ProducerIDBlock
	var offset uint64
	err := c.do(ctx, func() error {
		im := c.image()
		if b, ok := im.Broker(brokerID); !ok || b.Epoch != brokerEpoch {
			return errf(ErrStaleBrokerEpoch, "Broker %d with epoch %d is not registered.", brokerID, brokerEpoch)
		}
		first := im.NextProducerID
		if first > math.MaxInt64-ProducerIDBlockSize {
			return errf(ErrInvalidRequest, "Exhausted all producer ids.")
		}
		idx, err := c.propose(&metarecord.ProducerIdsRecord{BrokerId: brokerID, BrokerEpoch: brokerEpoch, NextProducerId: first + ProducerIDBlockSize})
		if err != nil {
			return err
		}
		block, offset = ProducerIDBlock{First: first, Count: ProducerIDBlockSize}, idx
		return nil
	})
	return block, offset, err
}

// AlterPartitionSpec is one partition's ISR change requested by its leader.
type AlterPartitionSpec struct {
	TopicID             metadata.UUID
	Partition           int32
	LeaderEpoch         int32
	PartitionEpoch      int32
	NewISR              []int32
	LeaderRecoveryState int8
}

// AlterPartitionResult is the partition's state after the request (or the error).
type AlterPartitionResult struct {
	TopicID             metadata.UUID
	Partition           int32
	Leader              int32
	LeaderEpoch         int32
	PartitionEpoch      int32
	ISR                 []int32
	LeaderRecoveryState int8
	Err                 error
}

// AlterPartition applies ISR changes from partition leaders (DESIGN §5: ISR shrink and
// expand). A stale broker epoch fails the whole request (ErrStaleBrokerEpoch).
func (c *Controller) AlterPartition(ctx context.Context, brokerID int32, brokerEpoch int64, specs []AlterPartitionSpec) ([]AlterPartitionResult, uint64, error) {
	results := make([]AlterPartitionResult, len(specs))
	var offset uint64
	err := c.do(ctx, func() error {
		im := c.image()
		if b, ok := im.Broker(brokerID); !ok || (brokerEpoch != -1 && b.Epoch != brokerEpoch) {
			return errf(ErrStaleBrokerEpoch, "Broker %d with epoch %d is not registered.", brokerID, brokerEpoch)
		}
		seen := map[metadata.PartitionRef]int{}
		for _, s := range specs {
			seen[metadata.PartitionRef{TopicID: s.TopicID, Partition: s.Partition}]++
		}
		var recs []metarecord.Record
		var changed []int
		for i, s := range specs {
			r := &results[i]
			r.TopicID, r.Partition = s.TopicID, s.Partition
			if seen[metadata.PartitionRef{TopicID: s.TopicID, Partition: s.Partition}] > 1 {
				r.Err = errf(ErrInvalidRequest, "Partition %d is listed more than once in the request.", s.Partition)
				continue
			}
			rec, p, err := alterPartition(im, brokerID, s)
			if err != nil {
				r.Err = err
				continue
			}
			r.Leader, r.LeaderEpoch, r.PartitionEpoch, r.ISR, r.LeaderRecoveryState = p.Leader, p.LeaderEpoch, p.PartitionEpoch, p.ISR, p.LeaderRecoveryState
			if rec != nil {
				recs = append(recs, rec)
				changed = append(changed, i)
			}
		}
		if len(recs) == 0 {
			return nil
		}
		idx, err := c.propose(recs...)
		if err != nil {
			return err
		}
		offset = idx
		after := c.image()
		for _, i := range changed {
			r := &results[i]
			if t, ok := after.TopicByID(r.TopicID); ok {
				if p := t.Partition(r.Partition); p != nil {
					r.Leader, r.LeaderEpoch, r.PartitionEpoch, r.ISR, r.LeaderRecoveryState = p.Leader, p.LeaderEpoch, p.PartitionEpoch, p.ISR, p.LeaderRecoveryState
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	return results, offset, nil
}

// alterPartition validates one ISR change and returns its record (nil when nothing changes)
// and the partition as it is now.
func alterPartition(im *metadata.Image, brokerID int32, s AlterPartitionSpec) (*metarecord.PartitionChangeRecord, *metadata.Partition, error) {
	t, ok := im.TopicByID(s.TopicID)
	if !ok {
		return nil, nil, errf(ErrUnknownTopicID, "Topic id %s not found.", s.TopicID)
	}
	p := t.Partition(s.Partition)
	if p == nil {
		return nil, nil, errf(ErrUnknownTopic, "Partition %d of topic %s not found.", s.Partition, t.Name)
	}
	switch {
	case p.Leader != brokerID:
		return nil, nil, errf(ErrInvalidRequest, "Broker %d is not the leader of partition %s-%d (the leader is %d).", brokerID, t.Name, p.ID, p.Leader)
	case s.LeaderEpoch < p.LeaderEpoch:
		return nil, nil, errf(ErrFencedLeaderEpoch, "Leader epoch %d is older than the current %d.", s.LeaderEpoch, p.LeaderEpoch)
	case s.LeaderEpoch > p.LeaderEpoch:
		return nil, nil, errf(ErrNotLeaderOrFollower, "Leader epoch %d is newer than the controller's %d.", s.LeaderEpoch, p.LeaderEpoch)
	case s.PartitionEpoch != p.PartitionEpoch:
		return nil, nil, errf(ErrInvalidUpdateVersion, "Partition epoch %d does not match the current %d.", s.PartitionEpoch, p.PartitionEpoch)
	case s.LeaderRecoveryState != 0 && s.LeaderRecoveryState != 1:
		return nil, nil, errf(ErrInvalidRequest, "Unknown leader recovery state %d.", s.LeaderRecoveryState)
	case s.LeaderRecoveryState == 1 && p.LeaderRecoveryState == 0:
		return nil, nil, errf(ErrInvalidRequest, "A recovered partition cannot go back to recovering.")
	case s.LeaderRecoveryState == 1 && len(s.NewISR) > 1:
		return nil, nil, errf(ErrInvalidRequest, "A recovering partition's ISR can only hold its leader.")
	case !slices.Contains(s.NewISR, brokerID):
		return nil, nil, errf(ErrInvalidRequest, "The new ISR %v does not contain the leader %d.", s.NewISR, brokerID)
	}
	seen := map[int32]bool{}
	for _, id := range s.NewISR {
		if seen[id] {
			return nil, nil, errf(ErrInvalidRequest, "The new ISR %v lists broker %d twice.", s.NewISR, id)
		}
		seen[id] = true
		if !slices.Contains(p.Replicas, id) {
			return nil, nil, errf(ErrIneligibleReplica, "Broker %d is not a replica of partition %s-%d.", id, t.Name, p.ID)
		}
		if !isAlive(im, id) {
			return nil, nil, errf(ErrIneligibleReplica, "Broker %d is fenced or shutting down and cannot join the ISR.", id)
		}
	}
	if slices.Equal(s.NewISR, p.ISR) && s.LeaderRecoveryState == p.LeaderRecoveryState {
		return nil, p, nil
	}
	rec := metarecord.NewPartitionChangeRecord()
	rec.TopicId, rec.PartitionId, rec.Isr = wire.UUID(t.ID), p.ID, slices.Clone(s.NewISR)
	if s.LeaderRecoveryState != p.LeaderRecoveryState {
		rec.LeaderRecoveryState = s.LeaderRecoveryState
	}
	return rec, p, nil
}
