package server

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"sync"
	"syscall"
	"testing"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/controller"
	"github.com/sluicehq/sluice/internal/protocol/kerr"
	"github.com/sluicehq/sluice/internal/protocol/message"
	"github.com/sluicehq/sluice/internal/record"
	"github.com/sluicehq/sluice/internal/replica"
	"github.com/sluicehq/sluice/internal/storage"
)

func TestErrorCode(t *testing.T) {
	tests := []struct {
		err   error
		code  *kerr.Error
		known bool
	}{
		{record.ErrCorrupt, kerr.CorruptMessage, true},
		{record.ErrShortBatch, kerr.CorruptMessage, true},
		{record.ErrMagic, kerr.InvalidRecord, true},
		{record.ErrTooLarge, kerr.MessageTooLarge, true},
		{record.ErrCompression, kerr.UnsupportedCompressionType, true},
		{record.ErrInvalidTimestamp, kerr.InvalidTimestamp, true},
		{record.ErrMissingKey, kerr.InvalidRecord, true},
		{record.ErrControlBatch, kerr.InvalidRecord, true},
		{record.ErrDecompressLimit, kerr.CorruptMessage, true},
		{storage.ErrOffsetOutOfRange, kerr.OffsetOutOfRange, true},
		{storage.ErrBatchTooLarge, kerr.RecordListTooLarge, true},
		{storage.ErrOutOfOrderSequence, kerr.OutOfOrderSequenceNumber, true},
		{storage.ErrInvalidProducerEpoch, kerr.InvalidProducerEpoch, true},
		{storage.ErrClosed, kerr.NotLeaderOrFollower, true},
		{storage.ErrLogNotFound, kerr.UnknownTopicOrPartition, true},
		{&storage.CorruptionError{Path: "x", Err: errors.New("bad crc")}, kerr.KafkaStorageError, true},
		{&fs.PathError{Op: "write", Path: "/d/0.log", Err: syscall.EIO}, kerr.KafkaStorageError, true},
		{config.ErrInvalidValue, kerr.InvalidConfig, true},
		{config.ErrUnknownTopicConfig, kerr.InvalidConfig, true},
		{config.ErrReadOnly, kerr.InvalidRequest, true},
		{context.DeadlineExceeded, kerr.RequestTimedOut, true},
		{kerr.NotController, kerr.NotController, true},
		{replica.ErrNotLeader, kerr.NotLeaderOrFollower, true},
		{replica.ErrNotEnoughReplicasAfterAppend, kerr.NotEnoughReplicasAfterAppend, true},
		{replica.ErrNotEnoughReplicas, kerr.NotEnoughReplicas, true},
		{replica.ErrTimeout, kerr.RequestTimedOut, true},
		{replica.ErrOffsetOutOfRange, kerr.OffsetOutOfRange, true},
		{replica.ErrClosed, kerr.NotLeaderOrFollower, true},
		// The replica's verdict wins over the record error it wraps.
		{fmt.Errorf("%w: %w", replica.ErrCorruptMessage, record.ErrCompression), kerr.CorruptMessage, true},
		// A timestamp failure in a batch that also has keyless records reports the timestamp.
		{errors.Join(record.ErrInvalidRecord, record.ErrInvalidTimestamp), kerr.InvalidTimestamp, true},
		{&controller.NotControllerError{LeaderID: 2}, kerr.NotController, true},
		{&controller.Error{Kind: controller.ErrTopicExists, Msg: "topic t exists"}, kerr.TopicAlreadyExists, true},
		// A read-only key inside controller's invalid-config error is INVALID_REQUEST.
		{&controller.Error{Kind: controller.ErrInvalidConfig, Msg: "x", Cause: config.ErrReadOnly}, kerr.InvalidRequest, true},
		{&controller.Error{Kind: controller.ErrInvalidConfig, Msg: "x", Cause: config.ErrInvalidValue}, kerr.InvalidConfig, true},
		{replica.ErrTooManyWaiters, kerr.UnknownServerError, false},
		{errors.New("mystery"), kerr.UnknownServerError, false},
	}
	for _, tt := range tests {
		for _, err := range []error{tt.err, fmt.Errorf("partition t-0: %w", tt.err)} {
			code, known := ErrorCode(err)
			if code != tt.code.Code || known != tt.known {
				t.Errorf("ErrorCode(%v) = %d %v, want %s %v", err, code, known, tt.code.Name, tt.known)
			}
		}
	}
	if code, known := ErrorCode(nil); code != 0 || !known {
		t.Errorf("nil: %d %v", code, known)
	}
	// A kerr value wins over the table, even when it wraps a table error.
	if code, _ := ErrorCode(fmt.Errorf("%w: %w", kerr.PolicyViolation, config.ErrInvalidValue)); code != kerr.PolicyViolation.Code {
		t.Errorf("kerr did not win: %d", code)
	}
	if m := ErrorMessage(nil); m != nil {
		t.Error("message for nil")
	}
	if m := ErrorMessage(kerr.InvalidConfig); m == nil || *m != kerr.InvalidConfig.Error() {
		t.Errorf("message %v", m)
	}
}

func TestErrorTableEntriesAreDistinct(t *testing.T) {
	seen := map[error]bool{}
	for _, e := range errorTable {
		if seen[e.err] {
			t.Errorf("%v listed twice", e.err)
		}
		seen[e.err] = true
		if e.code == nil || e.code.Code == 0 {
			t.Errorf("%v maps to no error", e.err)
		}
	}
}

func TestErrorCounts(t *testing.T) {
	resp := message.NewFetchResponse()
	resp.ErrorCode = 0
	resp.Responses = []message.FetchResponseFetchableTopicResponse{
		{Topic: "a", Partitions: []message.FetchResponsePartitionData{{ErrorCode: 6}, {ErrorCode: 0}, {ErrorCode: 6}}},
		{Topic: "b", Partitions: []message.FetchResponsePartitionData{{ErrorCode: 3}}},
	}
	got := ErrorCounts(resp)
	want := map[int16]int{0: 2, 6: 2, 3: 1}
	if len(got) != len(want) {
		t.Fatalf("%v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("%v, want %v", got, want)
		}
	}
	if len(ErrorCounts(nil)) != 0 {
		t.Error("counts for nil")
	}
}

func TestBudgetFIFO(t *testing.T) {
	b := newBudget(10)
	never := make(chan struct{})
	if !b.acquire(8, never, never) {
		t.Fatal("first acquire")
	}
	// A big waiter queues first; a small one that would fit must wait behind it.
	bigDone, smallDone := make(chan struct{}), make(chan struct{})
	go func() { b.acquire(5, never, never); close(bigDone) }()
	waitUntil(t, "big waiter queued", func() bool { b.mu.Lock(); defer b.mu.Unlock(); return len(b.mu.waiters) == 1 })
	go func() { b.acquire(1, never, never); close(smallDone) }()
	waitUntil(t, "small waiter queued", func() bool { b.mu.Lock(); defer b.mu.Unlock(); return len(b.mu.waiters) == 2 })
	select {
	case <-smallDone:
		t.Fatal("small request overtook the big one")
	default:
	}
	b.release(8)
	<-bigDone
	<-smallDone
	if got := b.available(); got != 4 {
		t.Fatalf("available %d, want 4", got)
	}
	b.release(5)
	b.release(1)
	if got := b.available(); got != 10 {
		t.Fatalf("available %d, want 10", got)
	}
}

func TestBudgetCancel(t *testing.T) {
	b := newBudget(10)
	never := make(chan struct{})
	b.acquire(10, never, never)
	cancel := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	var got bool
	go func() { defer wg.Done(); got = b.acquire(3, cancel, never) }()
	waitUntil(t, "waiter queued", func() bool { b.mu.Lock(); defer b.mu.Unlock(); return len(b.mu.waiters) == 1 })
	close(cancel)
	wg.Wait()
	if got {
		t.Fatal("cancelled acquire succeeded")
	}
	b.release(10)
	if b.available() != 10 {
		t.Fatalf("available %d", b.available())
	}
	// Requests above the capacity are clamped so they can still be admitted alone.
	if !b.acquire(50, never, never) || b.available() != 0 {
		t.Fatal("oversized acquire")
	}
	b.release(50)
	if b.available() != 10 {
		t.Fatalf("available %d after oversized release", b.available())
	}
}

func TestFramePool(t *testing.T) {
	for _, tt := range []struct{ n, class int }{{0, 0}, {1, 0}, {1024, 0}, {1025, 1}, {4096, 2}, {1 << 20, 10}, {1<<20 + 1, -1}} {
		if got := sizeClass(tt.n); got != tt.class {
			t.Errorf("sizeClass(%d) = %d, want %d", tt.n, got, tt.class)
		}
	}
	f := getFrame(3000)
	if len(f.buf) != 3000 || cap(f.buf) != 4096 {
		t.Fatalf("len %d cap %d", len(f.buf), cap(f.buf))
	}
	putFrame(f)
	big := getFrame(2 << 20)
	if len(big.buf) != 2<<20 {
		t.Fatal(len(big.buf))
	}
	putFrame(big) // dropped, not pooled
}
