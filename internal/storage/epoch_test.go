package storage

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
)

// crashReopen kills the process (or the machine, with powerLoss) under l and opens the log
// again with the recovery point and log start a Manager would have checkpointed.
func crashReopen(t *testing.T, l *testLog, cfg Config, powerLoss bool) *testLog {
	t.Helper()
	rp, start := l.DurableOffset(), l.LogStartOffset()
	after := l.fs.Crash(powerLoss)
	l.Close(context.Background())
	return openTestLogAt(t, after, l.clock, cfg, false, rp, start)
}

func appendEpoch(t *testing.T, l *testLog, base int64, n int, epoch int32) {
	t.Helper()
	if _, err := l.Append(tb{base: base, n: n, ts: l.clock.ms, valueSize: 10, leaderEpoch: epoch}.encode()); err != nil {
		t.Fatal(err)
	}
}

// TestEpochsAfterUncleanOpen: after a process crash the leader epoch cache is what it was
// (less what any reopen drops, as Kafka's load does), although its checkpoint is written
// lazily. Each case is a history an open can only get right from the checkpoint, not from
// the batches it rescans.
func TestEpochsAfterUncleanOpen(t *testing.T) {
	cases := []struct {
		name string
		run  func(t *testing.T, l *testLog) *testLog
		want string
	}{
		{
			// The log start advances into a gap and deletes the segment holding every batch of
			// epoch 1: where epoch 1 begins (the log start) is known only to the cache.
			name: "epoch begun below the log start",
			run: func(t *testing.T, l *testLog) *testLog {
				appendEpoch(t, l, 0, 2, 1) // 0-1
				if err := l.Roll(); err != nil {
					t.Fatal(err)
				}
				appendEpoch(t, l, 3, 2, 2) // 3-4, after a gap at 2
				if err := l.AdvanceLogStartOffset(2); err != nil {
					t.Fatal(err)
				}
				return l
			},
			want: "[{1 2} {2 3}]",
		},
		{
			// A reopen drops the entry that a log start advance moved to the log end (an epoch
			// without data); a crash later must not bring it back from the checkpoint the
			// clean shutdown wrote.
			name: "entry dropped by a reopen",
			run: func(t *testing.T, l *testLog) *testLog {
				appendEpoch(t, l, 0, 3, 2) // 0-2
				if err := l.AdvanceLogStartOffset(3); err != nil {
					t.Fatal(err)
				}
				if err := l.Close(context.Background()); err != nil {
					t.Fatal(err)
				}
				l = openTestLogAt(t, l.fs, l.clock, l.Config(), true, 3, 3)
				appendEpoch(t, l, 4, 3, 4) // 4-6, after a gap at 3
				return l
			},
			want: "[{4 4}]",
		},
		{
			// A truncation removes epoch 2, then the same epoch resumes past a gap (a follower
			// fetching a compacted leader): the checkpoint written before the truncation still
			// has epoch 2 at 5.
			name: "epoch truncated, then resumed after a gap",
			run: func(t *testing.T, l *testLog) *testLog {
				appendEpoch(t, l, 0, 5, 1) // 0-4
				appendEpoch(t, l, 5, 5, 2) // 5-9
				if err := l.Flush(context.Background()); err != nil {
					t.Fatal(err)
				}
				if err := l.TruncateTo(5); err != nil {
					t.Fatal(err)
				}
				appendEpoch(t, l, 7, 3, 2) // 7-9
				return l
			},
			want: "[{1 0} {2 7}]",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig()
			l := openTestLog(t, NewMemFS(), &fakeClock{ms: 1}, cfg, false, 0)
			l = tc.run(t, l)
			if got := fmt.Sprint(l.EpochEntries()); got != tc.want {
				t.Fatalf("before the crash: %s, want %s", got, tc.want)
			}
			l = crashReopen(t, l, cfg, false)
			defer l.Close(context.Background())
			if got := fmt.Sprint(l.EpochEntries()); got != tc.want {
				t.Fatalf("after the crash: %s, want %s", got, tc.want)
			}
		})
	}
}

// TestUnreadableEpochCheckpointRebuilt: a leader-epoch-checkpoint that does not parse is
// rebuilt from every batch of the log, not only from those past the recovery point (Kafka
// refuses to load such a log).
func TestUnreadableEpochCheckpointRebuilt(t *testing.T) {
	for _, clean := range []bool{true, false} {
		t.Run(fmt.Sprintf("clean=%v", clean), func(t *testing.T) {
			cfg := testConfig()
			fsys := NewMemFS()
			l := openTestLog(t, fsys, &fakeClock{ms: 1}, cfg, false, 0)
			appendEpoch(t, l, 0, 3, 1)
			appendEpoch(t, l, 3, 3, 4)
			appendEpoch(t, l, 6, 3, 5)
			if err := l.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
			fsys.WriteAll(filepath.Join("/data/t-0", leaderEpochCheckpointFile), []byte("0\n2\n4 x\n"))
			l = openTestLogAt(t, fsys, l.clock, cfg, clean, 9, 0)
			defer l.Close(context.Background())
			if got := fmt.Sprint(l.EpochEntries()); got != "[{1 0} {4 3} {5 6}]" {
				t.Fatalf("epochs %s", got)
			}
		})
	}
}

// TestTruncationSurvivesPowerLoss: a Flush after TruncateTo makes the cut durable, although
// nothing was appended since: a power loss must not bring the removed batches back (they are
// whole and valid, and recovery would keep them).
func TestTruncationSurvivesPowerLoss(t *testing.T) {
	cases := []struct {
		name string
		to   int64
		roll bool // the removed batches are in a segment of their own
	}{
		{"inside the active segment", 4, false},
		{"a whole segment", 4, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig()
			l := openTestLog(t, NewMemFS(), &fakeClock{ms: 1}, cfg, false, 0)
			appendEpoch(t, l, 0, 4, 1) // 0-3
			if tc.roll {
				if err := l.Roll(); err != nil {
					t.Fatal(err)
				}
			}
			appendEpoch(t, l, 4, 4, 1) // 4-7
			appendEpoch(t, l, 8, 4, 2) // 8-11
			if err := l.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			if err := l.TruncateTo(tc.to); err != nil {
				t.Fatal(err)
			}
			if err := l.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			l = crashReopen(t, l, cfg, true)
			defer l.Close(context.Background())
			if l.LogEndOffset() != tc.to || offsetsOf(l.readAll(0)) != "[0-3]" || fmt.Sprint(l.EpochEntries()) != "[{1 0}]" {
				t.Fatalf("log end %d, batches %s, epochs %v", l.LogEndOffset(), offsetsOf(l.readAll(0)), l.EpochEntries())
			}
		})
	}
}

// TestTruncateToEnds: where the log ends after TruncateTo, and that a reopen finds the same.
func TestTruncateToEnds(t *testing.T) {
	cases := []struct {
		name      string
		build     func(t *testing.T, l *testLog)
		to        int64
		wantStart int64
		wantEnd   int64
		wantData  string
		wantEpoch string
	}{
		{
			name:  "batch boundary",
			build: func(t *testing.T, l *testLog) { appendEpoch(t, l, 0, 3, 1); appendEpoch(t, l, 3, 3, 2) },
			to:    3, wantStart: 0, wantEnd: 3, wantData: "[0-2]", wantEpoch: "[{1 0}]",
		},
		{
			name:  "inside a batch: the batch goes whole",
			build: func(t *testing.T, l *testLog) { appendEpoch(t, l, 0, 3, 1); appendEpoch(t, l, 3, 3, 2) },
			to:    4, wantStart: 0, wantEnd: 3, wantData: "[0-2]", wantEpoch: "[{1 0}]",
		},
		{
			name:  "in a gap: the log ends where the kept data ends",
			build: func(t *testing.T, l *testLog) { appendEpoch(t, l, 0, 3, 1); appendEpoch(t, l, 6, 3, 2) },
			to:    5, wantStart: 0, wantEnd: 3, wantData: "[0-2]", wantEpoch: "[{1 0}]",
		},
		{
			// The segment holding the offset began in a gap and keeps nothing: the one before
			// becomes the active segment again.
			name: "segment emptied",
			build: func(t *testing.T, l *testLog) {
				appendEpoch(t, l, 0, 3, 1)
				if err := l.Roll(); err != nil {
					t.Fatal(err)
				}
				appendEpoch(t, l, 5, 3, 2)
			},
			to: 6, wantStart: 0, wantEnd: 3, wantData: "[0-2]", wantEpoch: "[{1 0}]",
		},
		{
			// Nothing at or above the log start stays: the log restarts at the offset.
			name: "nothing visible left",
			build: func(t *testing.T, l *testLog) {
				appendEpoch(t, l, 0, 3, 1)
				appendEpoch(t, l, 5, 3, 2)
				if err := l.AdvanceLogStartOffset(4); err != nil {
					t.Fatal(err)
				}
			},
			to: 6, wantStart: 6, wantEnd: 6, wantData: "", wantEpoch: "[]",
		},
		{
			name:  "below the log start",
			build: func(t *testing.T, l *testLog) { appendEpoch(t, l, 0, 6, 1); l.AdvanceLogStartOffset(4) },
			to:    2, wantStart: 2, wantEnd: 2, wantData: "", wantEpoch: "[]",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig()
			l := openTestLog(t, NewMemFS(), &fakeClock{ms: 1}, cfg, false, 0)
			tc.build(t, l)
			if err := l.TruncateTo(tc.to); err != nil {
				t.Fatal(err)
			}
			check := func(when string) {
				t.Helper()
				if l.LogStartOffset() != tc.wantStart || l.LogEndOffset() != tc.wantEnd ||
					offsetsOf(l.readAll(l.LogStartOffset())) != tc.wantData || fmt.Sprint(l.EpochEntries()) != tc.wantEpoch {
					t.Fatalf("%s: start %d end %d data %s epochs %v; want %d %d %s %s", when, l.LogStartOffset(), l.LogEndOffset(),
						offsetsOf(l.readAll(l.LogStartOffset())), l.EpochEntries(), tc.wantStart, tc.wantEnd, tc.wantData, tc.wantEpoch)
				}
			}
			check("after the truncation")
			if err := l.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
			l = openTestLogAt(t, l.fs, l.clock, cfg, true, tc.wantEnd, tc.wantStart)
			defer l.Close(context.Background())
			check("after a reopen")
			// The next append goes where the log ends.
			appendEpoch(t, l, tc.wantEnd, 2, 3)
		})
	}
}
