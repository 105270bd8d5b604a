// Fetch (key 1): versions 4–17 (Kafka 4.0's range: older versions need message format v0/v1).
//
// Consumers and followers (replica_id, or ReplicaState from v15, >= 0) are both served from
// the leader: replica.Partition.Read bounds consumers by the high watermark
// (read_uncommitted) or the last stable offset (read_committed, equal to the high watermark
// until transactions exist) and followers by the log end, and records a follower's position.
// Record bytes are never copied: each partition's data is a segment file region written to
// the socket with sendfile at an explicit offset (wire.FileRegion) and released once sent.
//
// As in Kafka:
//   - Fetch sessions (KIP-227, from v7): full and incremental fetches, forgotten topics,
//     session errors (FETCH_SESSION_ID_NOT_FOUND, INVALID_FETCH_SESSION_EPOCH,
//     FETCH_SESSION_TOPIC_ID_ERROR) answered with session id 0 and no partitions; followers'
//     sessions are privileged. See fetchsession.go.
//   - Topic ids from v13: an unknown id answers UNKNOWN_TOPIC_ID, a partition whose log
//     belongs to another incarnation of the topic INCONSISTENT_TOPIC_ID.
//   - Size limits: the response carries at most min(max_bytes, fetch.max.bytes) record bytes
//     and each partition at most its partition_max_bytes, except that the first batch of the
//     first partition with data is returned whole even when larger, so a consumer always
//     makes progress. Partitions are read in request (or session) order.
//   - Long poll: the answer is immediate when max_wait_ms <= 0, when min(min_bytes,
//     max bytes) are available, on a read error (not for partitions the metadata does not
//     know) or a diverging epoch, or when no partition can be read; otherwise the
//     fetch sleeps on a replica Waiter, woken by high-watermark advances (log-end advances
//     for followers) and leadership changes, never by polling, until enough bytes are
//     there or max_wait_ms has passed. A broker shutdown ends the wait at once.
//   - Per partition: UNKNOWN_TOPIC_OR_PARTITION, NOT_LEADER_OR_FOLLOWER (from v12 with
//     CurrentLeader, from v16 with the leader's NodeEndpoints on this listener),
//     FENCED_LEADER_EPOCH / UNKNOWN_LEADER_EPOCH (current_leader_epoch, v9+),
//     OFFSET_OUT_OF_RANGE, a diverging epoch from last_fetched_epoch (v12+),
//     UNSUPPORTED_COMPRESSION_TYPE for v<10 fetches of a compression.type=zstd topic,
//     KAFKA_STORAGE_ERROR (NOT_LEADER_OR_FOLLOWER for v<=5). An errored partition reports
//     high watermark, last stable offset and log start offset -1.
//   - preferred_read_replica is -1 (no rack-aware replica selector); aborted_transactions
//     is null for read_uncommitted and empty for read_committed.
//
// Differences from Kafka:
//   - Kafka answers NOT_LEADER_OR_FOLLOWER with CurrentLeader only from v16; Sluice fills
//     CurrentLeader from v12, where the field exists (NodeEndpoints from v16 as Kafka).
//   - A follower's broker epoch (ReplicaState.ReplicaEpoch, KIP-903) is not checked yet.
//   - Throttle time is always 0 (no quotas); no ACL checks yet (CLUSTER_ACTION for
//     followers, READ for consumers); rack_id is ignored (no KIP-392 replica selection).
//   - Without sendfile (no OS file behind a segment: tests on an in-memory file system) the
//     region is read into memory instead.

package server

import (
	"context"
	"sync"
	"time"

	"github.com/sluicehq/sluice/internal/metadata"
	"github.com/sluicehq/sluice/internal/protocol/kerr"
	"github.com/sluicehq/sluice/internal/protocol/message"
	"github.com/sluicehq/sluice/internal/protocol/wire"
	"github.com/sluicehq/sluice/internal/replica"
	"github.com/sluicehq/sluice/internal/storage"
)

func (s *Server) fetchHandler() Handler {
	return Handler{
		Versions:      Versions{Min: 4, Max: 17},
		Fn:            Handle(s.fetch),
		ErrorResponse: fetchErrorResponse,
	}
}

// fetchItem is one partition of a fetch being served.
type fetchItem struct {
	tp   replica.TopicPartition
	part *replica.Partition // nil: err is the answer
	err  error              // lookup error, fixed for the request
	// The latest read (rereads replace it after releasing its region).
	read    replica.ReadResult
	readErr error
}

// fetchScratch is what a fetch needs while it runs; pooled, and returned when the handler
// returns (the regions it read are handed to a fetchRelease first).
type fetchScratch struct {
	sessParts []FetchPartition
	forgotten []FetchKey
	items     []fetchItem
	results   []FetchResult
}

// maxPooledFetchPartitions bounds what the pools keep.
const maxPooledFetchPartitions = 1024

var fetchScratchPool = sync.Pool{New: func() any { return new(fetchScratch) }}

func (sc *fetchScratch) put() {
	if cap(sc.items) > maxPooledFetchPartitions || cap(sc.sessParts) > maxPooledFetchPartitions ||
		cap(sc.forgotten) > maxPooledFetchPartitions || cap(sc.results) > maxPooledFetchPartitions {
		return
	}
	clear(sc.sessParts[:cap(sc.sessParts)])
	clear(sc.forgotten[:cap(sc.forgotten)])
	clear(sc.items[:cap(sc.items)])
	sc.sessParts, sc.forgotten, sc.items, sc.results = sc.sessParts[:0], sc.forgotten[:0], sc.items[:0], sc.results[:0]
	fetchScratchPool.Put(sc)
}

// fetchRelease holds the segment regions a fetch response sends, until the pipeline has
// written (or dropped) the response. Pooled; fn is its release method, bound once.
type fetchRelease struct {
	regions []storage.Region
	fn      func()
}

// fetchReleasePool's New is set in init: it refers to release, which puts back into the pool.
var fetchReleasePool sync.Pool

func init() {
	fetchReleasePool.New = func() any {
		fr := &fetchRelease{}
		fr.fn = fr.release
		return fr
	}
}

func (fr *fetchRelease) release() {
	for i := range fr.regions {
		fr.regions[i].Release()
	}
	clear(fr.regions)
	if cap(fr.regions) > maxPooledFetchPartitions {
		fr.regions = nil
	}
	fr.regions = fr.regions[:0]
	fetchReleasePool.Put(fr)
}

// emptyRecords is the non-null empty record set of partitions without data.
var emptyRecords = []byte{}

// fetchParams are the request-wide parameters of a fetch.
type fetchParams struct {
	replicaID int32
	follower  bool
	isolation replica.IsolationLevel
	// maxBytes bounds the response's record bytes; minBytes is what ends a long poll.
	maxBytes int64
	minBytes int64
}

func (s *Server) fetch(ctx context.Context, r *Request, req *message.FetchRequest) (message.Response, error) {
	start := time.Now()
	fp := fetchParams{replicaID: req.ReplicaId, isolation: replica.ReadUncommitted}
	if r.Version >= 15 {
		fp.replicaID = req.ReplicaState.ReplicaId
	}
	fp.follower = fp.replicaID >= 0
	if req.IsolationLevel == 1 {
		fp.isolation = replica.ReadCommitted
	}
	fp.maxBytes = max(int64(req.MaxBytes), 0)
	if limit := s.cfg.Load().FetchMaxBytes; limit > 0 {
		fp.maxBytes = min(fp.maxBytes, limit)
	}
	fp.minBytes = min(int64(req.MinBytes), fp.maxBytes)

	sc := fetchScratchPool.Get().(*fetchScratch)
	defer sc.put()
	byID := r.Version >= 13
	for ti := range req.Topics {
		t := &req.Topics[ti]
		for pi := range t.Partitions {
			p := &t.Partitions[pi]
			key := FetchKey{Partition: p.Partition}
			if byID {
				key.TopicID = t.TopicId
			} else {
				key.Topic = t.Topic
			}
			sc.sessParts = append(sc.sessParts, FetchPartition{
				Key: key, FetchOffset: p.FetchOffset, LogStartOffset: p.LogStartOffset,
				MaxBytes: p.PartitionMaxBytes, CurrentLeaderEpoch: p.CurrentLeaderEpoch,
				LastFetchedEpoch: p.LastFetchedEpoch,
			})
		}
	}
	for ti := range req.ForgottenTopicsData {
		t := &req.ForgottenTopicsData[ti]
		for _, p := range t.Partitions {
			key := FetchKey{Partition: p}
			if byID {
				key.TopicID = t.TopicId
			} else {
				key.Topic = t.Topic
			}
			sc.forgotten = append(sc.forgotten, key)
		}
	}
	fc := s.fetchSessions.NewContext(FetchSessionRequest{
		Version: r.Version, SessionID: req.SessionId, Epoch: req.SessionEpoch,
		Privileged: fp.follower, Partitions: sc.sessParts, Forgotten: sc.forgotten,
	})
	if fc.Kind == FetchSessionError {
		resp := message.NewFetchResponse()
		resp.ErrorCode = fc.ErrorCode
		return resp, nil
	}

	im := s.dataImage()
	sc.items = growSlice(sc.items, len(fc.Partitions))
	for i := range fc.Partitions {
		sc.items[i] = s.resolveFetchPartition(im, r.Version, &fc.Partitions[i])
	}

	bytes, immediate := s.fetchRound(sc.items, fc.Partitions, &fp)
	if req.MaxWaitMs > 0 && len(sc.items) > 0 && bytes < fp.minBytes && !immediate {
		if err := s.fetchWait(ctx, r, sc.items, fc.Partitions, &fp, start.Add(time.Duration(req.MaxWaitMs)*time.Millisecond)); err != nil {
			releaseFetchItems(sc.items)
			return nil, err
		}
	}

	sc.results = growSlice(sc.results, len(sc.items))
	for i := range sc.items {
		sc.results[i] = fetchResultOf(r, &sc.items[i])
	}
	out := fc.Finish(sc.results)
	resp := message.NewFetchResponse()
	resp.SessionId = out.SessionID
	if out.ErrorCode != 0 {
		releaseFetchItems(sc.items)
		resp.ErrorCode = out.ErrorCode
		resp.SessionId = 0
		return resp, nil
	}
	s.buildFetchResponse(r, im, resp, sc, fc.Partitions, out.Include, fp.isolation)
	return resp, nil
}

// resolveFetchPartition finds the replica a fetch partition names, or the partition's error.
func (s *Server) resolveFetchPartition(im *metadata.Image, version int16, p *FetchPartition) fetchItem {
	it := fetchItem{tp: replica.TopicPartition{Topic: p.Key.Topic, Partition: p.Key.Partition}}
	if version >= 13 {
		var t *metadata.Topic
		ok := false
		if im != nil {
			t, ok = im.TopicByID(metadata.UUID(p.Key.TopicID))
		}
		if !ok {
			it.err = kerr.UnknownTopicID
			return it
		}
		it.tp.Topic = t.Name
	}
	part, err := s.hostedPartition(im, it.tp)
	if err != nil {
		it.err = err
		return it
	}
	if version >= 13 && part.TopicID() != storage.TopicID(p.Key.TopicID) {
		it.err = kerr.InconsistentTopicID
		return it
	}
	if version < 10 && part.Config().CompressionType == replica.CompressionZstd {
		// Kafka refuses to send zstd batches to fetchers older than v10, which predate zstd.
		it.err = kerr.UnsupportedCompressionType
		return it
	}
	it.part = part
	return it
}

// fetchRound reads every partition once, with Kafka's size rules, and reports the record
// bytes read and whether the fetch must be answered now (a read error, a diverging epoch, or
// no partition that can be read).
// Regions of a previous round must have been released.
func (s *Server) fetchRound(items []fetchItem, parts []FetchPartition, fp *fetchParams) (bytes int64, immediate bool) {
	limit := fp.maxBytes
	minOne := true
	readable := 0
	for i := range items {
		it := &items[i]
		it.read, it.readErr = replica.ReadResult{}, nil
		if it.part == nil {
			// As in Kafka, partitions the metadata does not know are answered without being
			// read and do not cut a long poll short; other lookup errors are read errors.
			if !isUnknownPartition(it.err) {
				immediate = true
			}
			continue
		}
		readable++
		p := &parts[i]
		res, err := it.part.Read(replica.ReadOptions{
			Offset:                 p.FetchOffset,
			MaxBytes:               max(min(int64(p.MaxBytes), limit), 0),
			MinOneMessage:          minOne,
			Isolation:              fp.isolation,
			CurrentLeaderEpoch:     p.CurrentLeaderEpoch,
			LastFetchedEpoch:       p.LastFetchedEpoch,
			ReplicaID:              fp.replicaID,
			FollowerLogStartOffset: p.LogStartOffset,
		})
		if err != nil {
			it.readErr = err
			immediate = true
			continue
		}
		it.read = res
		if n := res.Region.Length; n > 0 {
			minOne = false
			limit = max(limit-n, 0)
			bytes += n
		}
		if res.DivergingEpoch != nil {
			immediate = true
		}
	}
	if readable == 0 {
		immediate = true // nothing to wait for
	}
	return bytes, immediate
}

// isUnknownPartition reports whether a lookup error means the metadata does not have the
// partition (Kafka sorts those out before reading).
func isUnknownPartition(err error) bool {
	code, _ := ErrorCode(err)
	return code == kerr.UnknownTopicID.Code || code == kerr.UnknownTopicOrPartition.Code
}

// fetchWait is the long poll: it watches every partition, then rereads and sleeps until
// enough bytes are there, an error shows, the deadline passes or the broker shuts down. It
// returns an error only when ctx (the connection) ends; the items then still hold regions.
func (s *Server) fetchWait(ctx context.Context, r *Request, items []fetchItem, parts []FetchPartition, fp *fetchParams, deadline time.Time) error {
	stopping := r.ShuttingDown()
	select {
	case <-stopping:
		return nil
	default:
	}
	m := s.opts.Deps.Replicas
	if m == nil {
		return nil
	}
	w := m.NewWaiter()
	defer w.Close()
	for i := range items {
		if items[i].part == nil {
			continue
		}
		var err error
		if fp.follower {
			err = w.WatchLogEnd(items[i].part)
		} else {
			err = w.Watch(items[i].part)
		}
		if err != nil {
			// Too many waiters broker-wide: answer with what there is rather than sleep blind.
			return nil
		}
	}
	waitCtx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	if stopping != nil {
		done := make(chan struct{})
		go func() {
			defer close(done)
			select {
			case <-stopping:
				cancel()
			case <-waitCtx.Done():
			}
		}()
		defer func() {
			cancel()
			<-done
		}()
	}
	last := false
	for {
		// Watching began after the first read: reread so that no wake is lost in between.
		releaseFetchItems(items)
		bytes, immediate := s.fetchRound(items, parts, fp)
		if last || immediate || bytes >= fp.minBytes {
			return nil
		}
		if err := w.Wait(waitCtx); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			// Deadline, shutdown or a closed replica manager: one last read, then answer.
			last = true
		}
	}
}

// releaseFetchItems releases the regions the items hold.
func releaseFetchItems(items []fetchItem) {
	for i := range items {
		items[i].read.Region.Release()
		items[i].read.Region = storage.Region{}
	}
}

// fetchErr is the error a fetch item answers, if any.
func (it *fetchItem) fetchErr() error {
	if it.err != nil {
		return it.err
	}
	return it.readErr
}

// fetchErrorCode maps a partition's error, as Kafka does for old fetchers that do not know
// KAFKA_STORAGE_ERROR.
func fetchErrorCode(r *Request, err error) int16 {
	code := r.ErrorCode(err)
	if code == kerr.KafkaStorageError.Code && r.Version <= 5 {
		return kerr.NotLeaderOrFollower.Code
	}
	return code
}

// fetchResultOf is what the session compares for one partition.
func fetchResultOf(r *Request, it *fetchItem) FetchResult {
	if err := it.fetchErr(); err != nil {
		return FetchResult{ErrorCode: fetchErrorCode(r, err), HighWatermark: -1, LastStableOffset: -1, LogStartOffset: -1, PreferredReadReplica: -1}
	}
	return FetchResult{
		HighWatermark:        it.read.HighWatermark,
		LastStableOffset:     it.read.LastStableOffset,
		LogStartOffset:       it.read.LogStartOffset,
		RecordsBytes:         it.read.Region.Length,
		PreferredReadReplica: -1,
		DivergingEpoch:       it.read.DivergingEpoch != nil,
	}
}

// buildFetchResponse fills resp with the included partitions, grouped into topics in order,
// and hands their regions to the pipeline for release after the send.
func (s *Server) buildFetchResponse(r *Request, im *metadata.Image, resp *message.FetchResponse, sc *fetchScratch,
	parts []FetchPartition, include []bool, isolation replica.IsolationLevel) {
	n, nTopics := 0, 0
	var prev *FetchPartition
	for i := range parts {
		if include[i] {
			if prev == nil || !sameFetchTopic(&parts[i], prev) {
				nTopics++
			}
			prev = &parts[i]
			n++
		}
	}
	// Included partitions fill pds in order, so each topic's partitions are one run of it.
	pds := make([]message.FetchResponsePartitionData, n)
	topics := make([]message.FetchResponseFetchableTopicResponse, 0, nTopics)
	chunks := make([]wire.Chunk, 0, n) // one per partition with data, allocated together
	var fr *fetchRelease
	prev = nil
	k, topicStart := 0, 0
	for i := range parts {
		it := &sc.items[i]
		if !include[i] {
			// Not sent (nothing changed in an incremental session): nothing to keep.
			it.read.Region.Release()
			it.read.Region = storage.Region{}
			continue
		}
		p := &parts[i]
		if prev == nil || !sameFetchTopic(p, prev) {
			t := message.FetchResponseFetchableTopicResponse{}
			if r.Version >= 13 {
				t.TopicId = p.Key.TopicID
			} else {
				t.Topic = p.Key.Topic
			}
			topics = append(topics, t)
			topicStart = k
		}
		prev = p
		pd := &pds[k]
		k++
		topics[len(topics)-1].Partitions = pds[topicStart:k]
		pd.Default()
		pd.PartitionIndex = p.Key.Partition
		pd.Records = wire.RecordBytes(emptyRecords)

		if err := it.fetchErr(); err != nil {
			code := fetchErrorCode(r, err)
			pd.ErrorCode = code
			pd.HighWatermark = -1
			if r.Version >= 12 && (code == kerr.NotLeaderOrFollower.Code || code == kerr.FencedLeaderEpoch.Code) {
				h := currentLeader(im, it.tp.Topic, it.tp.Partition, r.Listener)
				pd.CurrentLeader.LeaderId, pd.CurrentLeader.LeaderEpoch = h.LeaderID, h.LeaderEpoch
				if r.Version >= 16 && h.HasEndpoint && !hasFetchNode(resp.NodeEndpoints, h.LeaderID) {
					resp.NodeEndpoints = append(resp.NodeEndpoints, message.FetchResponseNodeEndpoint{
						NodeId: h.LeaderID, Host: h.Host, Port: h.Port, Rack: nullableRack(h.Rack),
					})
				}
			}
			continue
		}
		rd := &it.read
		pd.HighWatermark = rd.HighWatermark
		pd.LastStableOffset = rd.LastStableOffset
		pd.LogStartOffset = rd.LogStartOffset
		if isolation == replica.ReadCommitted {
			pd.AbortedTransactions = abortedTransactions(rd.AbortedTransactions)
		} else {
			pd.AbortedTransactions = nil
		}
		if rd.DivergingEpoch != nil && r.Version >= 12 {
			pd.DivergingEpoch.Epoch, pd.DivergingEpoch.EndOffset = rd.DivergingEpoch.LeaderEpoch, rd.DivergingEpoch.EndOffset
		}
		if rd.Region.Length == 0 {
			continue
		}
		if osf, ok := rd.Region.File.(storage.OSFile); ok {
			chunks = append(chunks, wire.Chunk{Region: wire.FileRegion{File: osf.OSFile(), Offset: rd.Region.Position, Length: rd.Region.Length}})
			pd.Records = wire.RecordChunks(chunks[len(chunks)-1 : len(chunks) : len(chunks)])
			if fr == nil {
				fr = fetchReleasePool.Get().(*fetchRelease)
			}
			fr.regions = append(fr.regions, rd.Region)
			rd.Region = storage.Region{}
			continue
		}
		// No descriptor to sendfile from (an in-memory file system): copy the bytes.
		b, err := rd.Region.Bytes()
		rd.Region.Release()
		rd.Region = storage.Region{}
		if err != nil {
			r.Logger().Error("fetch: reading a segment region failed", "partition", it.tp.String(), "err", err)
			pd.ErrorCode = kerr.KafkaStorageError.Code
			if r.Version <= 5 {
				pd.ErrorCode = kerr.NotLeaderOrFollower.Code
			}
			pd.HighWatermark, pd.LastStableOffset, pd.LogStartOffset = -1, -1, -1
			continue
		}
		pd.Records = wire.RecordBytes(b)
	}
	if fr != nil {
		r.AfterSend(fr.fn)
	}
	resp.Responses = topics
}

func sameFetchTopic(a, b *FetchPartition) bool {
	return a.Key.TopicID == b.Key.TopicID && a.Key.Topic == b.Key.Topic
}

func hasFetchNode(nodes []message.FetchResponseNodeEndpoint, id int32) bool {
	for i := range nodes {
		if nodes[i].NodeId == id {
			return true
		}
	}
	return false
}

// abortedTransactions converts a read_committed list (empty, not null, when there is none).
func abortedTransactions(in []replica.AbortedTransaction) []message.FetchResponseAbortedTransaction {
	if len(in) == 0 {
		return []message.FetchResponseAbortedTransaction{}
	}
	out := make([]message.FetchResponseAbortedTransaction, len(in))
	for i, a := range in {
		out[i] = message.FetchResponseAbortedTransaction{ProducerId: a.ProducerID, FirstOffset: a.FirstOffset}
	}
	return out
}

// fetchErrorResponse answers a fetch whose handler failed: the top-level error, no session,
// no partitions (Kafka's FetchRequest.getErrorResponse).
func fetchErrorResponse(_ *Request, code int16) message.Response {
	resp := message.NewFetchResponse()
	resp.ErrorCode = code
	return resp
}
