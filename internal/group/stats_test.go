package group

import (
	"context"
	"testing"
)

// Stats counts the led shards, groups by type and state, and members.
func TestStats(t *testing.T) {
	e := newEnv(t, withDelay)
	e.stableGroup("g-stats", 2)
	e.commit(2, "g-simple", "", nil, -1, map[string]map[int32]int64{"t": {0: 1}}, "")
	st := e.c.Stats(ctx(t))
	if st.Shards != 3 || st.Loading != 0 {
		t.Fatalf("shards %d loading %d, want 3 and 0", st.Shards, st.Loading)
	}
	if st.Members != 2 {
		t.Fatalf("members %d, want 2", st.Members)
	}
	if n := st.Groups[StatsKey{Type: "classic", State: "Stable"}]; n != 1 {
		t.Fatalf("stable classic groups %d, want 1 (%v)", n, st.Groups)
	}
	if n := st.Groups[StatsKey{Type: "classic", State: "Empty"}]; n != 1 {
		t.Fatalf("empty classic groups %d, want 1 (%v)", n, st.Groups)
	}
	// A context already ended skips every shard rather than waiting.
	done, cancel := context.WithCancel(context.Background())
	cancel()
	if st := e.c.Stats(done); st.Shards != 3 {
		t.Fatalf("shards %d with an ended context, want 3", st.Shards)
	}
}
