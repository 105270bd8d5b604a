package replica

import (
	"context"
	"errors"
	"testing"
)

func TestWaiterWokenByAppend(t *testing.T) {
	for _, policy := range []FlushPolicy{FlushNone, FlushGroupCommit} {
		t.Run(string(policy), func(t *testing.T) {
			e := newEnv(t, withPolicy(policy))
			a := e.leader("a", 0, DefaultConfig())
			b := e.leader("b", 0, DefaultConfig())
			w := e.m.NewWaiter()
			defer w.Close()
			for _, p := range []*Partition{a, b} {
				if err := w.Watch(p); err != nil {
					t.Fatal(err)
				}
			}
			go func() {
				_, _ = b.Append(context.Background(), batch(t, plain(1, e.clock.ms.Load())), AppendOptions{RequiredAcks: 0, SingleBatch: true})
			}()
			ctx, cancel := context.WithTimeout(context.Background(), testWait)
			defer cancel()
			for b.HighWatermark() == 0 {
				if err := w.Wait(ctx); err != nil {
					t.Fatalf("not woken by the append: %v", err)
				}
			}
		})
	}
}

func TestWaiterTimesOut(t *testing.T) {
	e := newEnv(t)
	p := e.leader("t", 0, DefaultConfig())
	w := e.m.NewWaiter()
	defer w.Close()
	if err := w.Watch(p); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the fetch's max_wait_ms is over
	if err := w.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want the context's", err)
	}
}

// TestWaiterLogEndOnly: an append that does not move the high watermark (a follower has not
// fetched it) wakes follower waiters, not consumers.
func TestWaiterLogEndOnly(t *testing.T) {
	e := newEnv(t)
	st := PartitionState{LeaderEpoch: 0, PartitionEpoch: 0, Replicas: []int32{self, 2}, ISR: []int32{self, 2}}
	p := e.leaderWith("t", st, DefaultConfig())
	consumer, follower := e.m.NewWaiter(), e.m.NewWaiter()
	defer consumer.Close()
	defer follower.Close()
	if err := consumer.Watch(p); err != nil {
		t.Fatal(err)
	}
	if err := follower.WatchLogEnd(p); err != nil {
		t.Fatal(err)
	}
	mustAppend(t, p, batch(t, plain(1, e.clock.ms.Load())), acks1)
	// Wakes happen inside Append: both channels are settled when it returns.
	done, cancel := context.WithCancel(context.Background())
	cancel()
	if err := follower.Wait(done); err != nil {
		t.Fatalf("follower waiter not woken: %v", err)
	}
	if err := consumer.Wait(done); err == nil {
		t.Fatal("consumer woken although the high watermark did not move")
	}
}

func TestWaiterWokenByLeadershipChange(t *testing.T) {
	e := newEnv(t)
	p := e.leader("t", 0, DefaultConfig())
	w := e.m.NewWaiter()
	defer w.Close()
	if err := w.Watch(p); err != nil {
		t.Fatal(err)
	}
	if _, err := e.m.MakeFollower(context.Background(), tpOf("t"), testTopicID,
		PartitionState{Leader: 2, LeaderEpoch: 1, PartitionEpoch: 1, Replicas: []int32{2, self}, ISR: []int32{2, self}}, DefaultConfig()); err != nil {
		t.Fatal(err)
	}
	done, cancel := context.WithCancel(context.Background())
	cancel()
	if err := w.Wait(done); err != nil {
		t.Fatalf("not woken by the leadership change: %v", err)
	}
}

func TestWaiterManagerClose(t *testing.T) {
	e := newEnv(t)
	p := e.leader("t", 0, DefaultConfig())
	w := e.m.NewWaiter()
	defer w.Close()
	if err := w.Watch(p); err != nil {
		t.Fatal(err)
	}
	if err := e.m.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	err := w.Wait(context.Background())
	if err == nil { // the wake of the partition's removal came first
		err = w.Wait(context.Background())
	}
	if !errors.Is(err, ErrClosed) {
		t.Fatalf("err %v, want ErrClosed", err)
	}
}

func TestWaiterRegistrationsBounded(t *testing.T) {
	e := newEnv(t, withMaxWaiters(2))
	a, b, c := e.leader("a", 0, DefaultConfig()), e.leader("b", 0, DefaultConfig()), e.leader("c", 0, DefaultConfig())
	w1, w2 := e.m.NewWaiter(), e.m.NewWaiter()
	if err := w1.Watch(a); err != nil {
		t.Fatal(err)
	}
	if err := w1.Watch(a); err != nil { // twice: one registration
		t.Fatal(err)
	}
	if err := w1.Watch(b); err != nil {
		t.Fatal(err)
	}
	if err := w2.Watch(c); !errors.Is(err, ErrTooManyWaiters) {
		t.Fatalf("err %v, want ErrTooManyWaiters", err)
	}
	w1.Close()
	if err := w2.Watch(c); err != nil {
		t.Fatalf("after Close freed registrations: %v", err)
	}
	w2.Close()
	if a.waiters.n.Load() != 0 || c.waiters.n.Load() != 0 {
		t.Fatal("registrations left behind")
	}
}
