package group

import (
	"context"
	"maps"
	"regexp"
)

// TopicInfo is a topic as the KIP-848 assignors need it: its id, name and partition count
// (partitions are numbered 0..Partitions-1).
type TopicInfo struct {
	ID         [16]byte
	Name       string
	Partitions int32
}

// topicImage is an immutable snapshot of the cluster's topics (Kafka's metadata image as
// the group coordinator sees it).
type topicImage struct {
	byName map[string]TopicInfo
	byID   map[[16]byte]string
}

// SetTopics gives the coordinator the cluster's topics (Kafka's onNewMetadataImage): the
// node's metadata subscriber calls it whenever topics are created, deleted or grow
// partitions. Consumer groups whose subscribed topics changed (a regex matching a new
// topic, partitions added, a topic deleted) get a new group epoch and target assignment,
// which members pick up at their next heartbeat. ctx bounds only the queueing.
func (c *Coordinator) SetTopics(ctx context.Context, topics []TopicInfo) {
	im := &topicImage{byName: make(map[string]TopicInfo, len(topics)), byID: make(map[[16]byte]string, len(topics))}
	for _, t := range topics {
		im.byName[t.Name] = t
		im.byID[t.ID] = t.Name
	}
	if old := c.topics.Load(); old != nil && maps.Equal(old.byName, im.byName) {
		return
	}
	c.topics.Store(im)
	for _, s := range c.shards() {
		if shardState(s.state.Load()) != shardActive {
			continue // a loading shard refreshes its groups when it has loaded
		}
		_ = s.submit(ctx, func() { s.refreshConsumerGroups() })
	}
}

// image returns the topics as last given by SetTopics (empty before).
func (c *Coordinator) image() *topicImage {
	if im := c.topics.Load(); im != nil {
		return im
	}
	return &topicImage{}
}

// maxCachedRegexes bounds a shard's compiled-regex cache; past it the cache starts over.
const maxCachedRegexes = 1024

// compileRegex compiles a subscription regex with the shard's cache. Kafka matches the
// whole topic name (RE2/J's matches()), hence the anchors.
func (s *shard) compileRegex(expr string) *regexp.Regexp {
	if re, ok := s.regexes[expr]; ok {
		return re
	}
	re, err := regexp.Compile(`^(?:` + expr + `)$`)
	if err != nil {
		return nil // validated when the member sent it; unreachable but harmless
	}
	if len(s.regexes) >= maxCachedRegexes {
		s.regexes = map[string]*regexp.Regexp{}
	}
	s.regexes[expr] = re
	return re
}

// validRegex reports whether a subscription regex compiles (INVALID_REGULAR_EXPRESSION).
func validRegex(expr string) bool {
	_, err := regexp.Compile(`^(?:` + expr + `)$`)
	return err == nil
}
