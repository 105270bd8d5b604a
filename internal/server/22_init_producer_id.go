// InitProducerId (key 22): versions 0–5.
//
// Idempotent producers (null transactional id) get a new producer id from
// DataDeps.ProducerIDs (blocks allocated by the controller) with epoch 0. As in Kafka, an
// existing producer id and epoch in the request (v3+, KIP-360: a producer resetting after
// an error) do not change that: without a transactional id Kafka's coordinator always hands
// out a fresh id, and the idempotent producer bumps its epoch on its own. Exactly one of the
// two being -1 is INVALID_REQUEST.
//
// Transactional ids: an empty one is INVALID_REQUEST and a transaction timeout outside
// (0, transaction.max.timeout.ms] INVALID_TRANSACTION_TIMEOUT, as in Kafka; any other
// transactional id is answered NOT_COORDINATOR, as a broker that is not the transaction
// coordinator for it answers. The transaction coordinator is a later piece of work; until
// then transactional producers cannot start.
//
// When no producer id is at hand (the first block from the controller has not arrived) the
// request waits for it up to initProducerIDWait and then answers COORDINATOR_LOAD_IN_PROGRESS,
// which clients retry (Kafka answers that at once). Without a ProducerIDs allocator (a node
// not wired for it) the answer is COORDINATOR_NOT_AVAILABLE.
//
// Differences from Kafka: throttle time is always 0; no ACL checks yet (IDEMPOTENT_WRITE,
// TRANSACTIONAL_ID WRITE).

package server

import (
	"context"
	"fmt"
	"time"

	"github.com/sluicehq/sluice/internal/protocol/kerr"
	"github.com/sluicehq/sluice/internal/protocol/message"
)

// initProducerIDWait bounds how long InitProducerId waits for a producer-id block in flight.
const initProducerIDWait = 5 * time.Second

func (s *Server) initProducerIDHandler() Handler {
	return Handler{
		Versions:      Versions{Min: 0, Max: 5},
		Fn:            Handle(s.initProducerID),
		ErrorResponse: initProducerIDErrorResponse,
	}
}

func (s *Server) initProducerID(ctx context.Context, r *Request, req *message.InitProducerIdRequest) (message.Response, error) {
	resp := message.NewInitProducerIdResponse()
	resp.ProducerId, resp.ProducerEpoch = -1, -1
	id, err := s.newProducerID(ctx, req)
	if err != nil {
		resp.ErrorCode = r.ErrorCode(err)
		return resp, nil
	}
	resp.ProducerId, resp.ProducerEpoch = id, 0
	return resp, nil
}

func (s *Server) newProducerID(ctx context.Context, req *message.InitProducerIdRequest) (int64, error) {
	if (req.ProducerId == -1) != (req.ProducerEpoch == -1) {
		return -1, fmt.Errorf("%w: producer id %d with epoch %d", kerr.InvalidRequest, req.ProducerId, req.ProducerEpoch)
	}
	if tid := req.TransactionalId; tid != nil {
		switch {
		case *tid == "":
			return -1, fmt.Errorf("%w: empty transactional id", kerr.InvalidRequest)
		case req.TransactionTimeoutMs <= 0 || time.Duration(req.TransactionTimeoutMs)*time.Millisecond > s.cfg.Load().Txn.MaxTimeout:
			return -1, fmt.Errorf("%w: %d ms (transaction.max.timeout.ms is %d)", kerr.InvalidTransactionTimeout,
				req.TransactionTimeoutMs, s.cfg.Load().Txn.MaxTimeout.Milliseconds())
		}
		return -1, fmt.Errorf("%w: this broker is not the transaction coordinator for %q", kerr.NotCoordinator, *tid)
	}
	ids := s.opts.Deps.ProducerIDs
	if ids == nil {
		return -1, fmt.Errorf("%w: this node does not allocate producer ids", kerr.CoordinatorNotAvailable)
	}
	ctx, cancel := context.WithTimeout(ctx, initProducerIDWait)
	defer cancel()
	return ids.Next(ctx)
}

func initProducerIDErrorResponse(_ *Request, code int16) message.Response {
	resp := message.NewInitProducerIdResponse()
	resp.ErrorCode, resp.ProducerId, resp.ProducerEpoch = code, -1, -1
	return resp
}
