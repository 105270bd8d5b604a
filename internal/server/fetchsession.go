package server

import (
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/sluicehq/sluice/internal/protocol/kerr"
	"github.com/sluicehq/sluice/internal/protocol/wire"
)

// Fetch sessions (KIP-227) let a fetcher send only what changed: after a full fetch the broker
// remembers the partitions and their parameters under a session id, later (incremental)
// requests list only added, changed or forgotten partitions, and incremental responses list
// only partitions with something new. FetchSessions is that memory; the Fetch handler drives
// it, and it knows nothing about logs or replicas:
//
//	fc := sessions.NewContext(req)        // decides full / incremental / sessionless / error
//	if fc.Kind == FetchSessionError { answer fc.ErrorCode, session id 0, no partitions }
//	for i, p := range fc.Partitions { results[i] = read p }   // no lock held here
//	out := fc.Finish(results)            // session id, error, which partitions to send
//
// Session metadata as the request carries it:
//
//	session id  epoch  meaning
//	0           -1     no session (Fetch < v7 and followers that do not want one)
//	0           0      full fetch; create a session if the cache has room
//	S           0      full fetch; close session S, create a new one
//	S           -1     full fetch; close session S, create none
//	S           n>0    incremental fetch in session S, whose expected epoch is n
//
// Bounds: at most MaxSessions sessions (max.incremental.fetch.session.cache.slots). When the
// cache is full, a new session may evict, as in Kafka: the least recently used session if it
// has been unused for EvictionAge; otherwise the smallest evictable session if the new one is
// more valuable. A session is evictable by a privileged (follower) newcomer if it is not
// privileged or is older than EvictionAge, and by anyone once older than EvictionAge; among
// candidates, unprivileged ones go before privileged ones and smaller before larger; the
// newcomer wins only if it is privileged and the candidate is not, or it has more partitions.
// Kafka evaluates "older than EvictionAge" when a session is last used; Sluice evaluates it
// at eviction time (a linear scan of at most MaxSessions entries, done only when full).
//
// Lock: FetchSessions.mu guards every session; it is never held while the handler reads logs.

// DefaultFetchSessionEvictionAge is the age after which a session may be evicted by any new
// one, and after which an unused one is stale (Kafka's fixed 120 s).
const DefaultFetchSessionEvictionAge = 120 * time.Second

// FetchSessionOptions configure a FetchSessions cache.
type FetchSessionOptions struct {
	// MaxSessions bounds the sessions held (max.incremental.fetch.session.cache.slots); 0
	// turns sessions off: every fetch is then answered without one.
	MaxSessions int
	// EvictionAge: see DefaultFetchSessionEvictionAge (the default when 0).
	EvictionAge time.Duration
	// Now is the clock (tests); nil means time.Now.
	Now func() time.Time
}

// FetchKey identifies a partition in a fetch session: by topic id from Fetch v13 (TopicID
// set, Topic ""), by topic name before it (Topic set, TopicID zero).
type FetchKey struct {
	TopicID   wire.UUID
	Topic     string
	Partition int32
}

// FetchPartition is what a fetch request says about one partition.
type FetchPartition struct {
	Key                FetchKey
	FetchOffset        int64
	LogStartOffset     int64 // the follower's log start offset; -1 from consumers
	MaxBytes           int32
	CurrentLeaderEpoch int32
	LastFetchedEpoch   int32
}

// FetchResult is what the handler found for one partition: the fields a session compares to
// decide whether an incremental response must carry the partition.
type FetchResult struct {
	ErrorCode        int16
	HighWatermark    int64
	LastStableOffset int64
	LogStartOffset   int64
	// RecordsBytes is the size of the records returned.
	RecordsBytes int64
	// PreferredReadReplica is the replica the consumer should fetch from, or -1.
	PreferredReadReplica int32
	// DivergingEpoch is set when the response tells a follower to truncate.
	DivergingEpoch bool
}

// FetchSessionRequest is the session-relevant part of a fetch request.
type FetchSessionRequest struct {
	Version   int16
	SessionID int32
	Epoch     int32
	// Privileged is true for fetches from follower replicas: their sessions are kept in
	// preference to consumers'.
	Privileged bool
	// Partitions are the request's partitions (for an incremental fetch: the added and
	// changed ones), in request order.
	Partitions []FetchPartition
	// Forgotten are partitions an incremental fetch removes from its session.
	Forgotten []FetchKey
}

// FetchKind says how a fetch is answered.
type FetchKind uint8

const (
	// FetchSessionless: answer every requested partition; no session (id 0).
	FetchSessionless FetchKind = iota
	// FetchFull: answer every requested partition; Finish creates a session if it can.
	FetchFull
	// FetchIncremental: fetch every partition of the session; answer only changed ones.
	FetchIncremental
	// FetchSessionError: answer ErrorCode with session id 0 and no partitions.
	FetchSessionError
)

// Epoch markers of the fetch session protocol.
const (
	fetchInitialEpoch = 0
	fetchFinalEpoch   = -1
)

// nextFetchEpoch is the epoch that follows e: the final epoch stays final, and the sequence
// wraps from MaxInt32 to 1 (0 means "new session").
func nextFetchEpoch(e int32) int32 {
	switch {
	case e < 0:
		return fetchFinalEpoch
	case e == math.MaxInt32:
		return 1
	}
	return e + 1
}

// FetchSessions is the broker's fetch session cache. It is safe for concurrent use.
type FetchSessions struct {
	maxSessions int
	evictionAge time.Duration
	now         func() time.Time

	mu struct {
		sync.Mutex
		sessions   map[int32]*fetchSession
		partitions int   // cached partitions across sessions
		evictions  int64 // sessions evicted to make room
	}
}

type fetchSession struct {
	id           int32
	privileged   bool
	usesTopicIDs bool
	created      time.Time
	lastUsed     time.Time
	// epoch is the epoch the next incremental request must carry.
	epoch int32
	parts map[FetchKey]*cachedPartition
	// head..tail is the order partitions are fetched in; a partition that returned records
	// moves to the tail, so a response size limit does not starve the ones behind it.
	head, tail *cachedPartition
}

type cachedPartition struct {
	params FetchPartition
	// The values last sent to the fetcher (-1 before anything was).
	highWatermark    int64
	lastStableOffset int64
	logStartOffset   int64
	prev, next       *cachedPartition
}

// NewFetchSessions returns an empty cache.
func NewFetchSessions(opts FetchSessionOptions) *FetchSessions {
	if opts.EvictionAge <= 0 {
		opts.EvictionAge = DefaultFetchSessionEvictionAge
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	c := &FetchSessions{maxSessions: max(opts.MaxSessions, 0), evictionAge: opts.EvictionAge, now: opts.Now}
	c.mu.sessions = map[int32]*fetchSession{}
	return c
}

// FetchContext is one fetch request's view of its session, from NewContext to Finish.
type FetchContext struct {
	Kind FetchKind
	// ErrorCode is set for FetchSessionError: FETCH_SESSION_ID_NOT_FOUND,
	// INVALID_FETCH_SESSION_EPOCH or FETCH_SESSION_TOPIC_ID_ERROR.
	ErrorCode int16
	// Partitions are the partitions to read, in order; Finish takes one result per entry.
	// For an incremental fetch these are all of the session's partitions.
	Partitions []FetchPartition

	cache        *FetchSessions
	session      *fetchSession // incremental
	expectEpoch  int32         // incremental: the session's epoch after this request
	privileged   bool          // full
	usesTopicIDs bool          // full
}

// FetchOutcome is how to answer the fetch.
type FetchOutcome struct {
	// SessionID goes in the response (0: no session).
	SessionID int32
	// ErrorCode is the response's top-level error (0, or INVALID_FETCH_SESSION_EPOCH when a
	// concurrent request with the same session epoch got there first).
	ErrorCode int16
	// Include[i] says whether Partitions[i] goes in the response.
	Include []bool
}

// NewContext applies a request's session metadata: it closes, looks up or updates the
// session as the table above says.
func (c *FetchSessions) NewContext(req FetchSessionRequest) *FetchContext {
	c.mu.Lock()
	defer c.mu.Unlock()
	usesTopicIDs := req.Version >= 13
	if req.Epoch == fetchInitialEpoch || req.Epoch == fetchFinalEpoch {
		if req.SessionID != 0 {
			if s := c.mu.sessions[req.SessionID]; s != nil {
				c.removeLocked(s)
			}
		}
		if req.Epoch == fetchFinalEpoch {
			return &FetchContext{Kind: FetchSessionless, Partitions: req.Partitions, cache: c}
		}
		return &FetchContext{Kind: FetchFull, Partitions: req.Partitions, cache: c,
			privileged: req.Privileged, usesTopicIDs: usesTopicIDs}
	}
	s := c.mu.sessions[req.SessionID]
	switch {
	case s == nil:
		return &FetchContext{Kind: FetchSessionError, ErrorCode: kerr.FetchSessionIDNotFound.Code, cache: c}
	case s.epoch != req.Epoch:
		return &FetchContext{Kind: FetchSessionError, ErrorCode: kerr.InvalidFetchSessionEpoch.Code, cache: c}
	case s.usesTopicIDs != usesTopicIDs:
		return &FetchContext{Kind: FetchSessionError, ErrorCode: kerr.FetchSessionTopicIDError.Code, cache: c}
	}
	for _, p := range req.Partitions {
		if cp := s.parts[p.Key]; cp != nil {
			cp.params = p
			continue
		}
		cp := &cachedPartition{params: p, highWatermark: -1, lastStableOffset: -1, logStartOffset: -1}
		s.parts[p.Key] = cp
		s.pushBack(cp)
		c.mu.partitions++
	}
	for _, k := range req.Forgotten {
		if cp := s.parts[k]; cp != nil {
			delete(s.parts, k)
			s.unlink(cp)
			c.mu.partitions--
		}
	}
	if len(s.parts) == 0 {
		// Everything was forgotten: the session ends, and this fetch is answered without one.
		c.removeLocked(s)
		return &FetchContext{Kind: FetchSessionless, Partitions: req.Partitions, cache: c}
	}
	s.lastUsed = c.now()
	s.epoch = nextFetchEpoch(s.epoch)
	parts := make([]FetchPartition, 0, len(s.parts))
	for cp := s.head; cp != nil; cp = cp.next {
		parts = append(parts, cp.params)
	}
	return &FetchContext{Kind: FetchIncremental, Partitions: parts, cache: c, session: s, expectEpoch: s.epoch}
}

// Finish records what was read (results[i] for Partitions[i]) and says how to answer.
func (fc *FetchContext) Finish(results []FetchResult) FetchOutcome {
	switch fc.Kind {
	case FetchSessionError:
		return FetchOutcome{ErrorCode: fc.ErrorCode}
	case FetchSessionless:
		return FetchOutcome{Include: allTrue(len(fc.Partitions))}
	case FetchFull:
		id := fc.cache.maybeCreate(fc, results)
		return FetchOutcome{SessionID: id, Include: allTrue(len(fc.Partitions))}
	}
	c, s := fc.cache, fc.session
	c.mu.Lock()
	defer c.mu.Unlock()
	if s.epoch != fc.expectEpoch {
		// Another request with the same epoch (a duplicate or retry) advanced the session
		// between NewContext and now; what this one read may not match what it recorded.
		return FetchOutcome{SessionID: s.id, ErrorCode: kerr.InvalidFetchSessionEpoch.Code}
	}
	include := make([]bool, len(fc.Partitions))
	for i, p := range fc.Partitions {
		cp := s.parts[p.Key]
		if cp == nil {
			include[i] = true
			continue
		}
		include[i] = cp.update(&results[i])
		if results[i].RecordsBytes > 0 && cp != s.tail {
			s.unlink(cp)
			s.pushBack(cp)
		}
	}
	return FetchOutcome{SessionID: s.id, Include: include}
}

// update stores what the response tells the fetcher and reports whether the partition must
// be in an incremental response: it has records, an error, a preferred read replica or a
// diverging epoch, or its high watermark, last stable offset or log start offset changed.
// (Kafka does not compare the last stable offset; Sluice does, so that a read_committed
// consumer learns of a transaction's end even when nothing else changed.)
func (cp *cachedPartition) update(r *FetchResult) bool {
	must := r.RecordsBytes > 0 || r.PreferredReadReplica >= 0 || r.DivergingEpoch
	if cp.highWatermark != r.HighWatermark {
		must = true
		cp.highWatermark = r.HighWatermark
	}
	if cp.lastStableOffset != r.LastStableOffset {
		must = true
		cp.lastStableOffset = r.LastStableOffset
	}
	if cp.logStartOffset != r.LogStartOffset {
		must = true
		cp.logStartOffset = r.LogStartOffset
	}
	if r.ErrorCode != 0 {
		// Forget the high watermark, so the partition is sent again once the error clears.
		cp.highWatermark = -1
		must = true
	}
	return must
}

// maybeCreate creates a session for a full fetch if there is room (evicting if allowed) and
// returns its id, or 0.
func (c *FetchSessions) maybeCreate(fc *FetchContext, results []FetchResult) int32 {
	if c.maxSessions == 0 {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if len(c.mu.sessions) >= c.maxSessions && !c.evictLocked(fc.privileged, len(fc.Partitions), now) {
		return 0
	}
	s := &fetchSession{
		id:           c.newIDLocked(),
		privileged:   fc.privileged,
		usesTopicIDs: fc.usesTopicIDs,
		created:      now,
		lastUsed:     now,
		epoch:        nextFetchEpoch(fetchInitialEpoch),
		parts:        make(map[FetchKey]*cachedPartition, len(fc.Partitions)),
	}
	for i, p := range fc.Partitions {
		if s.parts[p.Key] != nil {
			continue // a request naming a partition twice: keep the first
		}
		cp := &cachedPartition{params: p, highWatermark: -1, lastStableOffset: -1, logStartOffset: -1}
		if i < len(results) {
			cp.update(&results[i])
		}
		s.parts[p.Key] = cp
		s.pushBack(cp)
	}
	c.mu.sessions[s.id] = s
	c.mu.partitions += len(s.parts)
	return s.id
}

// evictLocked makes room for a new session of size partitions, if the rules allow.
func (c *FetchSessions) evictLocked(privileged bool, size int, now time.Time) bool {
	var lru, victim *fetchSession
	for _, s := range c.mu.sessions {
		if lru == nil || s.lastUsed.Before(lru.lastUsed) || s.lastUsed.Equal(lru.lastUsed) && s.id < lru.id {
			lru = s
		}
		old := now.Sub(s.created) > c.evictionAge
		if !old && !(privileged && !s.privileged) {
			continue
		}
		if victim == nil || lessValuable(s, victim) {
			victim = s
		}
	}
	if lru != nil && now.Sub(lru.lastUsed) > c.evictionAge {
		victim = lru
	} else if victim == nil || !moreValuable(privileged, size, victim) {
		return false
	}
	c.removeLocked(victim)
	c.mu.evictions++
	return true
}

// lessValuable orders eviction candidates: unprivileged first, then fewer partitions, then
// lower id (Kafka's order).
func lessValuable(a, b *fetchSession) bool {
	if a.privileged != b.privileged {
		return !a.privileged
	}
	if len(a.parts) != len(b.parts) {
		return len(a.parts) < len(b.parts)
	}
	return a.id < b.id
}

// moreValuable reports whether a newcomer beats an existing session (a newcomer with equal
// privilege and size loses: it would have the lowest id in Kafka's comparison).
func moreValuable(privileged bool, size int, s *fetchSession) bool {
	if privileged != s.privileged {
		return privileged
	}
	return size > len(s.parts)
}

func (c *FetchSessions) removeLocked(s *fetchSession) {
	if c.mu.sessions[s.id] != s {
		return
	}
	delete(c.mu.sessions, s.id)
	c.mu.partitions -= len(s.parts)
}

// newIDLocked picks a random unused positive session id.
func (c *FetchSessions) newIDLocked() int32 {
	for {
		id := rand.Int32N(math.MaxInt32) + 1
		if c.mu.sessions[id] == nil {
			return id
		}
	}
}

// Remove closes a session (for example when its broker-side fetcher goes away).
func (c *FetchSessions) Remove(id int32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s := c.mu.sessions[id]; s != nil {
		c.removeLocked(s)
	}
}

// Stats reports the sessions held, the partitions cached in them and the sessions evicted so
// far (metrics: NumIncrementalFetchSessions, NumIncrementalFetchPartitionsCached,
// IncrementalFetchSessionEvictionsPerSec).
func (c *FetchSessions) Stats() (sessions, partitions int, evictions int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.mu.sessions), c.mu.partitions, c.mu.evictions
}

func (s *fetchSession) pushBack(cp *cachedPartition) {
	cp.prev, cp.next = s.tail, nil
	if s.tail != nil {
		s.tail.next = cp
	} else {
		s.head = cp
	}
	s.tail = cp
}

func (s *fetchSession) unlink(cp *cachedPartition) {
	if cp.prev != nil {
		cp.prev.next = cp.next
	} else {
		s.head = cp.next
	}
	if cp.next != nil {
		cp.next.prev = cp.prev
	} else {
		s.tail = cp.prev
	}
	cp.prev, cp.next = nil, nil
}

func allTrue(n int) []bool {
	b := make([]bool, n)
	for i := range b {
		b[i] = true
	}
	return b
}
