// Produce (key 0): versions 0–11 advertised; 3–11 served.
//
// Each partition's records go to replica.Partition.Append, which validates them as Kafka's
// LogValidator does, enforces idempotence (a retried batch is answered with its original
// offsets) and assigns offsets in place in the request buffer (no copy). When appends wait
// after their write (acks=-1, or acks=1 under group commit), the partitions of one request are
// appended concurrently, by at most maxProduceWorkers goroutines that the handler starts and
// waits for, so that their waits overlap instead of adding up.
//
// As in Kafka:
//   - v0–2 are advertised (librdkafka turns compression off when a broker's minimum Produce
//     version is above 0) but every partition is answered UNSUPPORTED_VERSION, as Kafka 4.0
//     does: they carry message format v0/v1.
//   - Per partition, in Kafka's order: UNKNOWN_TOPIC_OR_PARTITION (not in the metadata),
//     INVALID_RECORD (no batch), INVALID_REQUIRED_ACKS (acks not in -1, 0, 1),
//     INVALID_TOPIC_EXCEPTION (an internal topic, unless the client id is __admin_client),
//     NOT_LEADER_OR_FOLLOWER (known, but not led here; from v10 with CurrentLeader and the
//     leader's NodeEndpoints on this listener, KIP-951), then what Append answers:
//     CORRUPT_MESSAGE, INVALID_RECORD / INVALID_TIMESTAMP with record_errors (v8+),
//     MESSAGE_TOO_LARGE, UNSUPPORTED_COMPRESSION_TYPE (zstd below v7),
//     OUT_OF_ORDER_SEQUENCE_NUMBER, INVALID_PRODUCER_EPOCH, NOT_ENOUGH_REPLICAS(_AFTER_APPEND),
//     REQUEST_TIMED_OUT, KAFKA_STORAGE_ERROR. From v8 every error carries an error message.
//   - acks=0 sends no response; if any partition failed the connection is closed instead, so
//     that the producer notices and refreshes its metadata.
//   - acks=-1 waits at most timeout_ms for the in-sync replicas; a partition whose batch was
//     appended but not acknowledged in time answers REQUEST_TIMED_OUT with its offsets.
//   - Transactional batches: without a transactional id, the whole request fails with
//     TRANSACTIONAL_ID_AUTHORIZATION_FAILED (Kafka's check). With one, the batch's partition
//     is answered INVALID_TXN_STATE ("partition was not added to the transaction"): there is
//     no transaction coordinator yet, InitProducerId refuses transactional ids, so no
//     producer can have begun a transaction here, and that is what Kafka's partition
//     verification (KIP-890) answers for a producer that is not in a transaction.
//
// Differences from Kafka:
//   - Under sluice.log.flush.policy=group-commit (the default) acks=1 also waits for the
//     batch to be on disk (shared fdatasync), bounded by timeout_ms like acks=-1; Kafka's
//     acks=1 never waits. A partition that misses it answers REQUEST_TIMED_OUT.
//   - A duplicate (retried) batch reports a log append time only on LogAppendTime topics.
//   - Throttle time is always 0 (no quotas yet); no ACL checks yet (every principal may write).
//   - An append stuck in the kernel's write (not in a wait) can hold the response beyond
//     timeout_ms: the request buffer it writes from must outlive it.

package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicehq/sluice/internal/metadata"
	"github.com/sluicehq/sluice/internal/protocol/kerr"
	"github.com/sluicehq/sluice/internal/protocol/message"
	"github.com/sluicehq/sluice/internal/record"
	"github.com/sluicehq/sluice/internal/replica"
)

// maxProduceWorkers bounds the goroutines one produce request appends with (the handler's own
// included). Appends spend most of their time waiting for a sync or for followers, not on a
// CPU, so more workers than cores pay off; the bound keeps a request naming thousands of
// partitions from starting thousands of goroutines.
const maxProduceWorkers = 16

func (s *Server) produceHandler() Handler {
	return Handler{
		Versions:      Versions{Min: 0, Max: 11},
		Fn:            Handle(s.produce),
		ErrorResponse: produceErrorResponse,
	}
}

// produceJob is one partition of a produce request on its way through Append.
type produceJob struct {
	tp      replica.TopicPartition
	part    *replica.Partition // nil: err is the answer, nothing to append
	records []byte
	out     int // index of the partition's response
	res     replica.AppendResult
	err     error
}

// produceJobs pools the per-partition work of produce requests (returned when the handler
// returns; the response itself is not pooled, since the pipeline's observer reads it after
// the send), so a steady produce load allocates nothing per partition for it.
var produceJobs = sync.Pool{New: func() any { return new([]produceJob) }}

// maxPooledProduceJobs bounds what the pool keeps: a rare request naming more partitions does
// not pin its large slice.
const maxPooledProduceJobs = 1024

func (s *Server) produce(ctx context.Context, r *Request, req *message.ProduceRequest) (message.Response, error) {
	n := 0
	for i := range req.TopicData {
		n += len(req.TopicData[i].PartitionData)
	}
	pj := produceJobs.Get().(*[]produceJob)
	jobs := growSlice(*pj, n)
	defer func() {
		if cap(jobs) <= maxPooledProduceJobs {
			clear(jobs) // the records alias the request buffer
			*pj = jobs[:0]
			produceJobs.Put(pj)
		}
	}()
	// The response is sized once: jobs refer to parts by index, topics sub-slice parts.
	parts := make([]message.ProduceResponsePartitionProduceResponse, n)
	topics := make([]message.ProduceResponseTopicProduceResponse, len(req.TopicData))
	var nodes []message.ProduceResponseNodeEndpoint

	im := s.dataImage()
	// Kafka refuses transactional records without a transactional id for the whole request.
	var wholeErr error
	switch {
	case req.TransactionalId == nil && hasTransactionalBatch(req):
		wholeErr = fmt.Errorf("%w: transactional records without a transactional id", kerr.TransactionalIDAuthorizationFailed)
	case r.Version < 3:
		wholeErr = fmt.Errorf("%w: produce v%d needs message format v0/v1, which this broker does not support", kerr.UnsupportedVersion, r.Version)
	}
	pending := 0
	k := 0
	for ti := range req.TopicData {
		td := &req.TopicData[ti]
		start := k
		for pi := range td.PartitionData {
			pd := &td.PartitionData[pi]
			out := &parts[k]
			out.Default()
			out.Index = pd.Index
			out.BaseOffset = -1
			j := &jobs[k]
			*j = produceJob{tp: replica.TopicPartition{Topic: td.Name, Partition: pd.Index}, out: k}
			k++
			if wholeErr != nil {
				j.err = wholeErr
				continue
			}
			j.records, _ = pd.Records.Bytes()
			j.part, j.err = s.producePartition(im, r, req, j.tp, j.records)
			if j.part != nil {
				pending++
			}
		}
		topics[ti] = message.ProduceResponseTopicProduceResponse{Name: td.Name, PartitionResponses: parts[start:k]}
	}

	if pending > 0 {
		opts := replica.AppendOptions{
			RequiredAcks: req.Acks,
			Origin:       replica.OriginClient,
			SingleBatch:  true,
			RejectZstd:   r.Version < 7,
		}
		actx := ctx
		// Only acks=-1, and acks=1 under group commit, wait after the write. The others need
		// no deadline (and skip its allocations), nor workers: a write to the page cache is
		// over before a goroutine would have started.
		waits := req.Acks == -1 || req.Acks == 1 && s.opts.Deps.Replicas.FlushPolicy() != replica.FlushNone
		if waits {
			var cancel context.CancelFunc
			actx, cancel = context.WithTimeout(ctx, time.Duration(max(req.TimeoutMs, 0))*time.Millisecond)
			defer cancel()
		}
		workers := 1
		if waits {
			workers = maxProduceWorkers
		}
		s.runAppends(actx, r, jobs, pending, workers, opts)
	}

	failed := false
	for i := range jobs {
		j := &jobs[i]
		if j.err != nil {
			failed = true
		}
		nodes = fillProduceResponse(r, im, j, &parts[j.out], nodes)
	}
	if req.Acks == 0 {
		if failed {
			r.Logger().Info("closing the connection: an acks=0 produce failed", slog.String("partitions", produceErrorSummary(jobs)))
			return nil, ErrCloseConnection
		}
		return nil, ErrNoResponse
	}
	resp := message.NewProduceResponse()
	resp.Responses = topics
	resp.NodeEndpoints = nodes
	return resp, nil
}

// producePartition runs the checks Kafka makes before appending to one partition and returns
// the replica to append to, or the partition's answer.
func (s *Server) producePartition(im *metadata.Image, r *Request, req *message.ProduceRequest, tp replica.TopicPartition, records []byte) (*replica.Partition, error) {
	if im != nil && !knownPartition(im, tp.Topic, tp.Partition) {
		return nil, fmt.Errorf("%w: %s", kerr.UnknownTopicOrPartition, tp)
	}
	if len(records) == 0 {
		return nil, fmt.Errorf("%w: produce v%d must carry exactly one record batch per partition", record.ErrInvalidRecord, r.Version)
	}
	if req.TransactionalId != nil && isTransactionalBatch(records) {
		return nil, fmt.Errorf("%w: partition %s was not added to the transaction (this broker has no transaction coordinator yet)", kerr.InvalidTxnState, tp)
	}
	switch req.Acks {
	case -1, 0, 1:
	default:
		return nil, fmt.Errorf("%w: acks %d (must be -1, 0 or 1)", replica.ErrInvalidRequiredAcks, req.Acks)
	}
	if dataInternalTopic(tp.Topic) && r.ClientID != internalWriterClientID {
		return nil, fmt.Errorf("%w: cannot append to internal topic %s", kerr.InvalidTopicException, tp.Topic)
	}
	return s.hostedPartition(im, tp)
}

// runAppends appends every job that has a partition, with up to maxWorkers goroutines (the
// caller's included), and returns when all are done. Every wait inside Append is bounded by
// ctx, so this returns by the request's timeout unless a write itself hangs.
func (s *Server) runAppends(ctx context.Context, r *Request, jobs []produceJob, pending, maxWorkers int, opts replica.AppendOptions) {
	if pending == 1 || maxWorkers <= 1 {
		for i := range jobs {
			if jobs[i].part != nil {
				appendJob(ctx, r, &jobs[i], opts)
			}
		}
		return
	}
	var next atomic.Int64
	work := func() {
		for {
			i := next.Add(1) - 1
			if i >= int64(len(jobs)) {
				return
			}
			if jobs[i].part != nil {
				appendJob(ctx, r, &jobs[i], opts)
			}
		}
	}
	workers := min(pending, maxWorkers)
	var wg sync.WaitGroup
	wg.Add(workers - 1)
	for range workers - 1 {
		go func() {
			defer wg.Done()
			work()
		}()
	}
	work()
	wg.Wait()
}

// appendJob runs one Append. A panic in it (a bug) fails the partition rather than the
// broker: worker goroutines are not covered by the connection's recover.
func appendJob(ctx context.Context, r *Request, j *produceJob, opts replica.AppendOptions) {
	defer func() {
		if p := recover(); p != nil {
			r.Logger().Error("produce append panicked", slog.String("partition", j.tp.String()), slog.Any("panic", p))
			j.err = fmt.Errorf("server: append to %s panicked", j.tp)
		}
	}()
	j.res, j.err = j.part.Append(ctx, j.records, opts)
}

// fillProduceResponse writes one partition's answer and returns nodes with the leader's
// endpoint added when the answer names one.
func fillProduceResponse(r *Request, im *metadata.Image, j *produceJob, out *message.ProduceResponsePartitionProduceResponse, nodes []message.ProduceResponseNodeEndpoint) []message.ProduceResponseNodeEndpoint {
	if j.err == nil {
		out.BaseOffset = j.res.BaseOffset
		out.LogAppendTimeMs = j.res.LogAppendTime
		out.LogStartOffset = j.res.LogStartOffset
		return nodes
	}
	code := r.ErrorCode(j.err)
	out.ErrorCode = code
	if errors.Is(j.err, replica.ErrTimeout) || errors.Is(j.err, replica.ErrNotEnoughReplicasAfterAppend) {
		// Appended but not acknowledged in time: Kafka still reports where the batch went.
		out.BaseOffset = j.res.BaseOffset
		out.LogAppendTimeMs = j.res.LogAppendTime
		out.LogStartOffset = j.res.LogStartOffset
	}
	if r.Version >= 8 {
		out.ErrorMessage = ErrorMessage(j.err)
		var re *record.RecordErrors
		if errors.As(j.err, &re) {
			out.RecordErrors = make([]message.ProduceResponseBatchIndexAndErrorMessage, len(re.Errors))
			for i, e := range re.Errors {
				out.RecordErrors[i] = message.ProduceResponseBatchIndexAndErrorMessage{
					BatchIndex: int32(e.Index), BatchIndexErrorMessage: ErrorMessage(e.Err),
				}
			}
		}
	}
	if r.Version >= 10 && code == kerr.NotLeaderOrFollower.Code {
		h := currentLeader(im, j.tp.Topic, j.tp.Partition, r.Listener)
		out.CurrentLeader.LeaderId, out.CurrentLeader.LeaderEpoch = h.LeaderID, h.LeaderEpoch
		if h.HasEndpoint && !hasProduceNode(nodes, h.LeaderID) {
			nodes = append(nodes, message.ProduceResponseNodeEndpoint{
				NodeId: h.LeaderID, Host: h.Host, Port: h.Port, Rack: nullableRack(h.Rack),
			})
		}
	}
	return nodes
}

func hasProduceNode(nodes []message.ProduceResponseNodeEndpoint, id int32) bool {
	for i := range nodes {
		if nodes[i].NodeId == id {
			return true
		}
	}
	return false
}

// isTransactionalBatch reports whether records start with a transactional v2 batch. Anything
// shorter or of another magic is left to Append, which refuses it.
func isTransactionalBatch(records []byte) bool {
	if len(records) < record.HeaderSize {
		return false
	}
	b := record.Batch(records)
	return b.Magic() == 2 && b.IsTransactional()
}

// hasTransactionalBatch is Kafka's RequestUtils.hasTransactionalRecords.
func hasTransactionalBatch(req *message.ProduceRequest) bool {
	for i := range req.TopicData {
		for j := range req.TopicData[i].PartitionData {
			if b, ok := req.TopicData[i].PartitionData[j].Records.Bytes(); ok && isTransactionalBatch(b) {
				return true
			}
		}
	}
	return false
}

// produceErrorSummary lists the failed partitions for the acks=0 close log line.
func produceErrorSummary(jobs []produceJob) string {
	var b []byte
	for i := range jobs {
		if jobs[i].err == nil {
			continue
		}
		if len(b) > 0 {
			b = append(b, ", "...)
		}
		code, _ := ErrorCode(jobs[i].err)
		name := "UNKNOWN_SERVER_ERROR"
		if e := kerr.ForCode(code); e != nil {
			name = e.Name
		}
		b = fmt.Appendf(b, "%s: %s", jobs[i].tp, name)
	}
	return string(b)
}

// produceErrorResponse answers every partition of the request with code (used only if the
// handler returns an error, which it does not on purpose).
func produceErrorResponse(r *Request, code int16) message.Response {
	req, _ := r.Body.(*message.ProduceRequest)
	resp := message.NewProduceResponse()
	if req == nil {
		return resp
	}
	for _, td := range req.TopicData {
		t := message.ProduceResponseTopicProduceResponse{Name: td.Name}
		for _, pd := range td.PartitionData {
			var p message.ProduceResponsePartitionProduceResponse
			p.Default()
			p.Index, p.ErrorCode, p.BaseOffset = pd.Index, code, -1
			t.PartitionResponses = append(t.PartitionResponses, p)
		}
		resp.Responses = append(resp.Responses, t)
	}
	return resp
}

// growSlice returns s with length n, reusing its array when large enough.
func growSlice[T any](s []T, n int) []T {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]T, n)
}
