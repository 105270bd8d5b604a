package replica

import (
	"context"
	"testing"
	"time"
)

func TestPartitionStats(t *testing.T) {
	e := newEnv(t)
	p := e.leader("t", 0, DefaultConfig())
	ts := e.clock.ms.Load()
	b1 := batch(t, idem(7, 0, 0, 3, ts))
	b2 := batch(t, plain(2, ts))
	size := int64(len(b1) + len(b2))
	mustAppend(t, p, b1, acks1)
	mustAppend(t, p, b2, acks1)
	// An idempotent retry appends nothing and counts nothing.
	mustAppend(t, p, batch(t, idem(7, 0, 0, 3, ts)), acks1)
	if got, want := p.Stats(), (PartitionStats{BytesIn: size, RecordsIn: 5}); got != want {
		t.Fatalf("after produce: %+v, want %+v", got, want)
	}
	res, err := p.Read(consumerRead(0))
	if err != nil {
		t.Fatal(err)
	}
	res.Region.Release()
	if got := p.Stats().BytesOut; got != size || res.Region.Length != size {
		t.Fatalf("bytes out %d after a consumer read of %d, want %d", got, res.Region.Length, size)
	}
}

func TestWaiting(t *testing.T) {
	e := newEnv(t)
	st := PartitionState{LeaderEpoch: 1, PartitionEpoch: 1, Replicas: []int32{self, 2}, ISR: []int32{self, 2}}
	p := e.leaderWith("t", st, DefaultConfig())

	// A fetch in its long poll, and an acks=all append waiting for the follower.
	fetchCtx, stopFetch := context.WithCancel(context.Background())
	fetchDone := make(chan error, 1)
	w := e.m.NewWaiter()
	defer w.Close()
	if err := w.Watch(p); err != nil {
		t.Fatal(err)
	}
	go func() { fetchDone <- w.Wait(fetchCtx) }()
	prodCtx, stopProduce := context.WithCancel(context.Background())
	prodDone := make(chan error, 1)
	go func() {
		_, err := p.Append(prodCtx, batch(t, plain(1, e.clock.ms.Load())), AppendOptions{RequiredAcks: -1, SingleBatch: true})
		prodDone <- err
	}()
	want := Waiting{Produce: 1, Fetch: 1}
	deadline := time.Now().Add(testWait)
	for e.m.Waiting() != want {
		if time.Now().After(deadline) {
			t.Fatalf("waiting %+v, want %+v", e.m.Waiting(), want)
		}
		time.Sleep(time.Millisecond)
	}
	stopFetch()
	stopProduce()
	<-fetchDone
	<-prodDone
	if got := e.m.Waiting(); got != (Waiting{}) {
		t.Fatalf("waiting %+v after both ended, want none", got)
	}
}
