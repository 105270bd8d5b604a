package server

import (
	"math"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/protocol/kerr"
	"github.com/sluicehq/sluice/internal/protocol/wire"
)

// fakeClock is a settable clock for eviction tests.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) set(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = time.Unix(1_000_000, 0).Add(d)
}

func newTestSessions(max int) (*FetchSessions, *fakeClock) {
	clk := &fakeClock{}
	clk.set(0)
	return NewFetchSessions(FetchSessionOptions{MaxSessions: max, Now: clk.Now}), clk
}

func byName(topic string, p int32) FetchKey { return FetchKey{Topic: topic, Partition: p} }

func byID(id byte, p int32) FetchKey { return FetchKey{TopicID: wire.UUID{id}, Partition: p} }

func parts(keys ...FetchKey) []FetchPartition {
	out := make([]FetchPartition, len(keys))
	for i, k := range keys {
		out[i] = FetchPartition{Key: k, FetchOffset: int64(i), LogStartOffset: -1, MaxBytes: 1 << 20, CurrentLeaderEpoch: -1, LastFetchedEpoch: -1}
	}
	return out
}

// steady is a result with nothing new: what a partition reports when nothing changed.
func steady(hw int64) FetchResult {
	return FetchResult{HighWatermark: hw, LastStableOffset: hw, LogStartOffset: 0, PreferredReadReplica: -1}
}

func steadyAll(n int, hw int64) []FetchResult {
	out := make([]FetchResult, n)
	for i := range out {
		out[i] = steady(hw)
	}
	return out
}

func keysOf(ps []FetchPartition) []FetchKey {
	out := make([]FetchKey, len(ps))
	for i, p := range ps {
		out[i] = p.Key
	}
	return out
}

// createSession runs a full fetch and returns the new session id.
func createSession(t *testing.T, c *FetchSessions, version int16, privileged bool, keys ...FetchKey) int32 {
	t.Helper()
	fc := c.NewContext(FetchSessionRequest{Version: version, SessionID: 0, Epoch: 0, Privileged: privileged, Partitions: parts(keys...)})
	if fc.Kind != FetchFull {
		t.Fatalf("kind %d, want full", fc.Kind)
	}
	out := fc.Finish(steadyAll(len(keys), 10))
	if out.ErrorCode != 0 || len(out.Include) != len(keys) || slices.Contains(out.Include, false) {
		t.Fatalf("full fetch outcome %+v", out)
	}
	return out.SessionID
}

func TestFetchSessionsSessionless(t *testing.T) {
	c, _ := newTestSessions(10)
	for _, req := range []FetchSessionRequest{
		{Version: 4, SessionID: 0, Epoch: -1, Partitions: parts(byName("a", 0), byName("a", 1))}, // Fetch < v7 defaults
		{Version: 12, SessionID: 0, Epoch: -1, Partitions: parts(byName("a", 0), byName("a", 1))},
	} {
		fc := c.NewContext(req)
		if fc.Kind != FetchSessionless || len(fc.Partitions) != 2 {
			t.Fatalf("%+v", fc)
		}
		out := fc.Finish(steadyAll(2, 5))
		if out.SessionID != 0 || out.ErrorCode != 0 || !slices.Equal(out.Include, []bool{true, true}) {
			t.Fatalf("%+v", out)
		}
	}
	if n, _, _ := c.Stats(); n != 0 {
		t.Fatalf("%d sessions", n)
	}
}

func TestFetchSessionsIncremental(t *testing.T) {
	c, _ := newTestSessions(10)
	a0, a1, b0 := byID(1, 0), byID(1, 1), byID(2, 0)
	id := createSession(t, c, 13, false, a0, a1)
	if id <= 0 {
		t.Fatalf("session id %d", id)
	}
	if n, p, _ := c.Stats(); n != 1 || p != 2 {
		t.Fatalf("stats %d sessions %d partitions", n, p)
	}

	// Epoch 1: nothing new anywhere, so nothing is sent; a new partition is added at the end
	// and an existing one's fetch offset changes.
	upd := parts(b0, a1)
	upd[1].FetchOffset = 500
	fc := c.NewContext(FetchSessionRequest{Version: 13, SessionID: id, Epoch: 1, Partitions: upd})
	if fc.Kind != FetchIncremental {
		t.Fatalf("kind %d error %d", fc.Kind, fc.ErrorCode)
	}
	if got := keysOf(fc.Partitions); !slices.Equal(got, []FetchKey{a0, a1, b0}) {
		t.Fatalf("partitions %v", got)
	}
	if fc.Partitions[1].FetchOffset != 500 {
		t.Fatalf("fetch offset not updated: %+v", fc.Partitions[1])
	}
	res := steadyAll(3, 10)
	res[2] = steady(0) // b0 is new: everything differs from "never sent"
	out := fc.Finish(res)
	if out.SessionID != id || out.ErrorCode != 0 || !slices.Equal(out.Include, []bool{false, false, true}) {
		t.Fatalf("epoch 1 outcome %+v", out)
	}

	// Epoch 2: each reason to include a partition, one at a time.
	tests := []struct {
		name   string
		change func(*FetchResult)
	}{
		{"records", func(r *FetchResult) { r.RecordsBytes = 100 }},
		{"high watermark", func(r *FetchResult) { r.HighWatermark++ }},
		{"last stable offset", func(r *FetchResult) { r.LastStableOffset-- }},
		{"log start offset", func(r *FetchResult) { r.LogStartOffset = 3 }},
		{"preferred read replica", func(r *FetchResult) { r.PreferredReadReplica = 2 }},
		{"diverging epoch", func(r *FetchResult) { r.DivergingEpoch = true }},
		{"error", func(r *FetchResult) { r.ErrorCode = kerr.NotLeaderOrFollower.Code }},
	}
	epoch := int32(2)
	for _, tt := range tests {
		fc := c.NewContext(FetchSessionRequest{Version: 13, SessionID: id, Epoch: epoch})
		epoch++
		if fc.Kind != FetchIncremental {
			t.Fatalf("%s: kind %d error %d", tt.name, fc.Kind, fc.ErrorCode)
		}
		// a0 changes; the others report what they reported last.
		res := make([]FetchResult, len(fc.Partitions))
		for i, p := range fc.Partitions {
			res[i] = steady(10)
			if p.Key == b0 {
				res[i] = steady(0)
			}
			if p.Key == a0 {
				tt.change(&res[i])
			}
		}
		out := fc.Finish(res)
		for i, p := range fc.Partitions {
			if out.Include[i] != (p.Key == a0) {
				t.Errorf("%s: partition %v included=%v", tt.name, p.Key, out.Include[i])
			}
		}
		// Undo the change (report steady values again): a0 is sent once more when its
		// values move back, then not at all.
		fc = c.NewContext(FetchSessionRequest{Version: 13, SessionID: id, Epoch: epoch})
		epoch++
		res = res[:0]
		for _, p := range fc.Partitions {
			if p.Key == b0 {
				res = append(res, steady(0))
			} else {
				res = append(res, steady(10))
			}
		}
		fc.Finish(res)
	}

	// A partition that returned records moves to the end of the session's order.
	fc = c.NewContext(FetchSessionRequest{Version: 13, SessionID: id, Epoch: epoch})
	epoch++
	res = res[:0]
	for _, p := range fc.Partitions {
		r := steady(10)
		if p.Key == b0 {
			r = steady(0)
		}
		if p.Key == a1 {
			r.RecordsBytes = 1
		}
		res = append(res, r)
	}
	before := keysOf(fc.Partitions)
	fc.Finish(res)
	fc = c.NewContext(FetchSessionRequest{Version: 13, SessionID: id, Epoch: epoch})
	epoch++
	after := keysOf(fc.Partitions)
	if after[len(after)-1] != a1 || len(after) != len(before) {
		t.Errorf("order %v then %v: the partition with records did not move to the end", before, after)
	}
	fc.Finish(steadyAll(len(fc.Partitions), 10))

	// Forgetting partitions; forgetting all of them ends the session.
	fc = c.NewContext(FetchSessionRequest{Version: 13, SessionID: id, Epoch: epoch, Forgotten: []FetchKey{a0, byID(9, 9)}})
	epoch++
	if got := keysOf(fc.Partitions); len(got) != 2 || slices.Contains(got, a0) {
		t.Fatalf("after forgetting a0: %v", got)
	}
	if _, p, _ := c.Stats(); p != 2 {
		t.Fatalf("%d partitions cached", p)
	}
	fc.Finish(steadyAll(2, 10))
	fc = c.NewContext(FetchSessionRequest{Version: 13, SessionID: id, Epoch: epoch, Forgotten: []FetchKey{a1, b0}})
	if fc.Kind != FetchSessionless {
		t.Fatalf("kind %d after forgetting everything", fc.Kind)
	}
	if n, p, _ := c.Stats(); n != 0 || p != 0 {
		t.Fatalf("stats %d sessions %d partitions", n, p)
	}
}

func TestFetchSessionsErrorClearsResend(t *testing.T) {
	c, _ := newTestSessions(10)
	k := byName("t", 0)
	id := createSession(t, c, 12, false, k)
	run := func(epoch int32, r FetchResult) bool {
		fc := c.NewContext(FetchSessionRequest{Version: 12, SessionID: id, Epoch: epoch})
		return fc.Finish([]FetchResult{r}).Include[0]
	}
	if run(1, steady(10)) {
		t.Fatal("unchanged partition sent")
	}
	failed := steady(10)
	failed.ErrorCode = kerr.UnknownLeaderEpoch.Code
	if !run(2, failed) || !run(3, failed) {
		t.Fatal("partition with an error not sent")
	}
	// Same high watermark as before the error, yet sent: the client must learn the error
	// cleared.
	if !run(4, steady(10)) {
		t.Fatal("partition not sent after its error cleared")
	}
	if run(5, steady(10)) {
		t.Fatal("unchanged partition sent")
	}
}

func TestFetchSessionsErrors(t *testing.T) {
	c, _ := newTestSessions(10)
	nameID := createSession(t, c, 12, false, byName("t", 0))
	idID := createSession(t, c, 13, false, byID(1, 0))
	tests := []struct {
		name string
		req  FetchSessionRequest
		code int16
	}{
		{"unknown session", FetchSessionRequest{Version: 13, SessionID: 12345, Epoch: 1}, kerr.FetchSessionIDNotFound.Code},
		{"no session id", FetchSessionRequest{Version: 13, SessionID: 0, Epoch: 3}, kerr.FetchSessionIDNotFound.Code},
		{"epoch behind", FetchSessionRequest{Version: 13, SessionID: idID, Epoch: 5}, kerr.InvalidFetchSessionEpoch.Code},
		{"names session at v13", FetchSessionRequest{Version: 13, SessionID: nameID, Epoch: 1}, kerr.FetchSessionTopicIDError.Code},
		{"ids session at v12", FetchSessionRequest{Version: 12, SessionID: idID, Epoch: 1}, kerr.FetchSessionTopicIDError.Code},
	}
	for _, tt := range tests {
		fc := c.NewContext(tt.req)
		if fc.Kind != FetchSessionError || fc.ErrorCode != tt.code {
			t.Errorf("%s: kind %d code %d, want error %d", tt.name, fc.Kind, fc.ErrorCode, tt.code)
			continue
		}
		if out := fc.Finish(nil); out.SessionID != 0 || out.ErrorCode != tt.code || len(out.Include) != 0 {
			t.Errorf("%s: outcome %+v", tt.name, out)
		}
	}
	// The failed requests did not advance the sessions: epoch 1 still works.
	if fc := c.NewContext(FetchSessionRequest{Version: 13, SessionID: idID, Epoch: 1}); fc.Kind != FetchIncremental {
		t.Fatalf("kind %d code %d", fc.Kind, fc.ErrorCode)
	}
}

func TestFetchSessionsConcurrentSameEpoch(t *testing.T) {
	c, _ := newTestSessions(10)
	id := createSession(t, c, 13, false, byID(1, 0))
	first := c.NewContext(FetchSessionRequest{Version: 13, SessionID: id, Epoch: 1})
	// A duplicate of the same request (a retry) is refused at once...
	if dup := c.NewContext(FetchSessionRequest{Version: 13, SessionID: id, Epoch: 1}); dup.ErrorCode != kerr.InvalidFetchSessionEpoch.Code {
		t.Fatalf("duplicate: %+v", dup)
	}
	// ...and if the next epoch starts before the first finishes, the first one loses.
	second := c.NewContext(FetchSessionRequest{Version: 13, SessionID: id, Epoch: 2})
	if second.Kind != FetchIncremental {
		t.Fatal(second.ErrorCode)
	}
	if out := first.Finish([]FetchResult{steady(1)}); out.ErrorCode != kerr.InvalidFetchSessionEpoch.Code || out.SessionID != id || len(out.Include) != 0 {
		t.Fatalf("stale finish %+v", out)
	}
	if out := second.Finish([]FetchResult{steady(1)}); out.ErrorCode != 0 || !out.Include[0] {
		t.Fatalf("current finish %+v", out)
	}
}

func TestFetchSessionsCloseAndReplace(t *testing.T) {
	c, _ := newTestSessions(10)
	id := createSession(t, c, 13, false, byID(1, 0))
	// Epoch 0 with an id: close it and start another.
	fc := c.NewContext(FetchSessionRequest{Version: 13, SessionID: id, Epoch: 0, Partitions: parts(byID(2, 0))})
	if fc.Kind != FetchFull {
		t.Fatal(fc.Kind)
	}
	newID := fc.Finish(steadyAll(1, 1)).SessionID
	if newID == 0 || newID == id {
		t.Fatalf("new id %d (old %d)", newID, id)
	}
	if fc := c.NewContext(FetchSessionRequest{Version: 13, SessionID: id, Epoch: 1}); fc.ErrorCode != kerr.FetchSessionIDNotFound.Code {
		t.Fatal("old session still there")
	}
	// Epoch -1 with an id: close it, no new one.
	fc = c.NewContext(FetchSessionRequest{Version: 13, SessionID: newID, Epoch: -1, Partitions: parts(byID(2, 0))})
	if fc.Kind != FetchSessionless || fc.Finish(steadyAll(1, 1)).SessionID != 0 {
		t.Fatal("final epoch did not end the session")
	}
	if n, p, _ := c.Stats(); n != 0 || p != 0 {
		t.Fatalf("stats %d %d", n, p)
	}
	// Remove by id.
	id = createSession(t, c, 13, false, byID(3, 0))
	c.Remove(id)
	if n, _, _ := c.Stats(); n != 0 {
		t.Fatal("Remove left the session")
	}
}

func TestFetchSessionsDisabled(t *testing.T) {
	c, _ := newTestSessions(0)
	fc := c.NewContext(FetchSessionRequest{Version: 13, Epoch: 0, Partitions: parts(byID(1, 0))})
	if out := fc.Finish(steadyAll(1, 1)); out.SessionID != 0 || !out.Include[0] {
		t.Fatalf("%+v", out)
	}
}

func TestFetchSessionsEviction(t *testing.T) {
	c, clk := newTestSessions(2)
	try := func(privileged bool, n int) int32 {
		keys := make([]FetchKey, n)
		for i := range keys {
			keys[i] = byID(7, int32(i))
		}
		fc := c.NewContext(FetchSessionRequest{Version: 13, Epoch: 0, Privileged: privileged, Partitions: parts(keys...)})
		return fc.Finish(steadyAll(n, 1)).SessionID
	}
	exists := func(id int32) bool {
		return c.NewContext(FetchSessionRequest{Version: 13, SessionID: id, Epoch: 99}).ErrorCode != kerr.FetchSessionIDNotFound.Code
	}
	a := try(false, 3)
	b := try(false, 1)
	clk.set(time.Second)
	// Full of young sessions: an unprivileged newcomer, even a bigger one, gets nothing.
	if id := try(false, 5); id != 0 {
		t.Fatalf("young sessions evicted by an unprivileged newcomer (%d)", id)
	}
	// A privileged (follower) newcomer evicts the least valuable unprivileged one: b.
	d := try(true, 1)
	if d == 0 || exists(b) || !exists(a) {
		t.Fatalf("privileged newcomer: d=%d b exists %v a exists %v", d, exists(b), exists(a))
	}
	// Keep d in use.
	clk.set(100 * time.Second)
	if fc := c.NewContext(FetchSessionRequest{Version: 13, SessionID: d, Epoch: 1}); fc.Kind != FetchIncremental {
		t.Fatal(fc.ErrorCode)
	} else {
		fc.Finish(steadyAll(1, 1))
	}
	// a has been unused for more than 120 s: stale, evicted by anyone.
	clk.set(121 * time.Second)
	e := try(false, 1)
	if e == 0 || exists(a) {
		t.Fatalf("stale session not evicted: e=%d", e)
	}
	// Now d is old but privileged and in use, e is young: an unprivileged newcomer cannot
	// evict either, however big.
	clk.set(150 * time.Second)
	if id := try(false, 50); id != 0 {
		t.Fatal("unprivileged newcomer evicted a privileged or young session")
	}
	// A privileged newcomer evicts the unprivileged e before the privileged d.
	g := try(true, 10)
	if g == 0 || exists(e) || !exists(d) {
		t.Fatalf("g=%d e exists %v d exists %v", g, exists(e), exists(d))
	}
	// Old sessions of equal privilege: only a bigger newcomer wins.
	clk.set(400 * time.Second)
	for _, id := range []int32{d, g} { // touch both so neither is stale
		if fc := c.NewContext(FetchSessionRequest{Version: 13, SessionID: id, Epoch: 1}); fc.Kind == FetchIncremental {
			fc.Finish(steadyAll(len(fc.Partitions), 1))
		} else if fc := c.NewContext(FetchSessionRequest{Version: 13, SessionID: id, Epoch: 2}); fc.Kind == FetchIncremental {
			fc.Finish(steadyAll(len(fc.Partitions), 1))
		}
	}
	clk.set(401 * time.Second)
	if id := try(true, 1); id != 0 {
		t.Fatal("an equal-sized privileged newcomer evicted an old privileged session")
	}
	if h := try(true, 2); h == 0 || exists(d) || !exists(g) {
		t.Fatalf("bigger privileged newcomer: d exists %v g exists %v", exists(d), exists(g))
	}
	if _, _, ev := c.Stats(); ev != 4 { // b, a, e, d
		t.Errorf("%d evictions, want 4", ev)
	}
}

func TestNextFetchEpoch(t *testing.T) {
	for in, want := range map[int32]int32{-1: -1, -7: -1, 0: 1, 1: 2, math.MaxInt32: 1} {
		if got := nextFetchEpoch(in); got != want {
			t.Errorf("next(%d) = %d, want %d", in, got, want)
		}
	}
}

// TestFetchSessionsConcurrentUse drives many sessions from many goroutines (run with -race).
func TestFetchSessionsConcurrentUse(t *testing.T) {
	c, _ := newTestSessions(8)
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			keys := []FetchKey{byID(byte(g), 0), byID(byte(g), 1)}
			fc := c.NewContext(FetchSessionRequest{Version: 13, Epoch: 0, Partitions: parts(keys...)})
			id := fc.Finish(steadyAll(2, 1)).SessionID
			epoch := int32(1)
			for i := range 200 {
				if id == 0 {
					return
				}
				fc := c.NewContext(FetchSessionRequest{Version: 13, SessionID: id, Epoch: epoch})
				if fc.Kind != FetchIncremental {
					return // evicted by another goroutine's session
				}
				epoch++
				fc.Finish(steadyAll(len(fc.Partitions), int64(i)))
			}
		}()
	}
	wg.Wait()
	n, p, _ := c.Stats()
	if n > 8 || p != 2*n {
		t.Fatalf("%d sessions, %d partitions", n, p)
	}
}
