package bench

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// topicReadyTimeout bounds the wait for a topic's partitions to answer ListOffsets.
const topicReadyTimeout = 30 * time.Second

// ensureTopic creates topic with partitions partitions (and the broker's default replication
// factor) unless it exists, then waits until every partition answers ListOffsets: a broker
// makes its replicas just after CreateTopics answers (Kafka too), and acks=0 records sent
// before that are dropped. It returns the topic's partition count.
func ensureTopic(ctx context.Context, base []kgo.Opt, topic string, partitions int32) (int, error) {
	cl, err := kgo.NewClient(base...)
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	resp, err := adm.CreateTopic(ctx, partitions, -1, nil, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
		return 0, fmt.Errorf("bench: creating topic %s: %w", topic, err)
	}
	return waitPartitions(ctx, adm, topic)
}

// waitPartitions waits until every partition of topic answers ListOffsets without error.
func waitPartitions(ctx context.Context, adm *kadm.Client, topic string) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, topicReadyTimeout)
	defer cancel()
	for {
		lo, err := adm.ListEndOffsets(ctx, topic)
		ready := err == nil && len(lo[topic]) > 0
		lo.Each(func(o kadm.ListedOffset) { ready = ready && o.Err == nil })
		if ready {
			return len(lo[topic]), nil
		}
		select {
		case <-ctx.Done():
			if err == nil {
				err = lo.Error()
			}
			return 0, fmt.Errorf("bench: topic %s not ready: %w (%v)", topic, ctx.Err(), err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// offsets returns the start and end offsets of every partition of topic, sorted by partition.
func offsets(ctx context.Context, base []kgo.Opt, topic string) (parts []int32, start, end map[int32]int64, err error) {
	cl, err := kgo.NewClient(base...)
	if err != nil {
		return nil, nil, nil, err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	if _, err := waitPartitions(ctx, adm, topic); err != nil {
		return nil, nil, nil, err
	}
	so, err := adm.ListStartOffsets(ctx, topic)
	if err == nil {
		err = so.Error()
	}
	if err != nil {
		return nil, nil, nil, fmt.Errorf("bench: listing start offsets of %s: %w", topic, err)
	}
	eo, err := adm.ListEndOffsets(ctx, topic)
	if err == nil {
		err = eo.Error()
	}
	if err != nil {
		return nil, nil, nil, fmt.Errorf("bench: listing end offsets of %s: %w", topic, err)
	}
	start, end = map[int32]int64{}, map[int32]int64{}
	so.Each(func(o kadm.ListedOffset) { start[o.Partition] = o.Offset })
	eo.Each(func(o kadm.ListedOffset) {
		end[o.Partition] = o.Offset
		parts = append(parts, o.Partition)
	})
	sort.Slice(parts, func(i, j int) bool { return parts[i] < parts[j] })
	return parts, start, end, nil
}
