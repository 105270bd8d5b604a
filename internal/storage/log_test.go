package storage

import (
	"context"
	"errors"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestAppendReadRoll(t *testing.T) {
	fsys, clock := NewMemFS(), &fakeClock{ms: 1_000_000}
	l := openTestLog(t, fsys, clock, testConfig(), false, 0)
	defer l.Close(context.Background())
	var infos []AppendInfo
	for i := 0; i < 100; i++ {
		infos = append(infos, l.appendN(1+i%5, 40))
	}
	if l.NumSegments() < 3 {
		t.Fatalf("expected rolls, have %d segments", l.NumSegments())
	}
	got := l.readAll(0)
	if len(got) != 100 {
		t.Fatalf("read %d batches, want 100", len(got))
	}
	for i, b := range got {
		if b.BaseOffset() != infos[i].FirstOffset || b.LastOffset() != infos[i].LastOffset {
			t.Fatalf("batch %d: %v, want %d..%d", i, b, infos[i].FirstOffset, infos[i].LastOffset)
		}
	}
	// Every offset maps to the batch that holds it.
	for off := int64(0); off < l.LogEndOffset(); off++ {
		r, err := l.Read(off, ReadOptions{MaxBytes: 1, MinOneBatch: true})
		if err != nil {
			t.Fatal(err)
		}
		if r.FirstOffset > off {
			t.Fatalf("read %d starts at %d", off, r.FirstOffset)
		}
		data, _ := r.Bytes()
		r.Release()
		if n, _ := recordBatchSize(data); int64(n) != r.Length {
			t.Fatalf("MaxBytes=1 MinOneBatch should return exactly one batch, got %d of %d", r.Length, n)
		}
	}
}

func recordBatchSize(b []byte) (int, error) {
	if len(b) < 12 {
		return 0, errors.New("short")
	}
	return 12 + int(uint32(b[8])<<24|uint32(b[9])<<16|uint32(b[10])<<8|uint32(b[11])), nil
}

func TestReadBounds(t *testing.T) {
	fsys, clock := NewMemFS(), &fakeClock{ms: 1}
	l := openTestLog(t, fsys, clock, testConfig(), false, 0)
	defer l.Close(context.Background())
	for i := 0; i < 10; i++ {
		l.appendN(2, 100) // offsets 2i, 2i+1
	}
	cases := []struct {
		name      string
		off       int64
		opts      ReadOptions
		wantFirst int64
		wantBytes bool
		wantLast  int64 // last offset of the last batch returned
		wantErr   error
	}{
		{"below start", -1, ReadOptions{MaxBytes: 1000}, 0, false, 0, ErrOffsetOutOfRange},
		{"beyond end", 21, ReadOptions{MaxBytes: 1000}, 0, false, 0, ErrOffsetOutOfRange},
		{"at end", 20, ReadOptions{MaxBytes: 1000}, 20, false, 0, nil},
		{"mid batch", 3, ReadOptions{MaxBytes: 1 << 20}, 2, true, 19, nil},
		{"hw bound", 0, ReadOptions{MaxBytes: 1 << 20, MaxOffset: 6}, 0, true, 5, nil},
		{"hw inside batch", 0, ReadOptions{MaxBytes: 1 << 20, MaxOffset: 5}, 0, true, 3, nil},
		{"at hw", 6, ReadOptions{MaxBytes: 1 << 20, MaxOffset: 6}, 6, false, 0, nil},
		{"too small no min", 0, ReadOptions{MaxBytes: 10}, 0, false, 0, nil},
		{"too small min one", 0, ReadOptions{MaxBytes: 10, MinOneBatch: true}, 0, true, 1, nil},
		{"bytes bound", 0, ReadOptions{MaxBytes: 700}, 0, true, 3, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := l.Read(c.off, c.opts)
			if !errors.Is(err, c.wantErr) {
				t.Fatalf("err %v, want %v", err, c.wantErr)
			}
			if err != nil {
				return
			}
			defer r.Release()
			if (r.Length > 0) != c.wantBytes {
				t.Fatalf("length %d, want data=%v", r.Length, c.wantBytes)
			}
			if !c.wantBytes {
				return
			}
			data, _ := r.Bytes()
			var last int64 = -1
			first := int64(-1)
			for len(data) > 0 {
				n, _ := recordBatchSize(data)
				b := data[:n]
				if first < 0 {
					first = int64(beU64(b))
				}
				last = int64(beU64(b)) + int64(beU32(b[23:]))
				data = data[n:]
			}
			if first != c.wantFirst || last != c.wantLast {
				t.Fatalf("got %d..%d, want %d..%d", first, last, c.wantFirst, c.wantLast)
			}
		})
	}
}

func beU64(b []byte) uint64 {
	return uint64(beU32(b))<<32 | uint64(beU32(b[4:]))
}
func beU32(b []byte) uint32 {
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func TestAppendRejectsOffsetsBelowEnd(t *testing.T) {
	fsys, clock := NewMemFS(), &fakeClock{ms: 1}
	l := openTestLog(t, fsys, clock, testConfig(), false, 0)
	defer l.Close(context.Background())
	l.appendN(3, 10)
	if _, err := l.Append(mkBatch(2, 1, 1, 10)); !errors.Is(err, ErrInvalidOffset) {
		t.Fatalf("err %v", err)
	}
	// A gap (compacted leader) is fine.
	if _, err := l.Append(mkBatch(10, 1, 1, 10)); err != nil {
		t.Fatal(err)
	}
	if l.LogEndOffset() != 11 {
		t.Fatalf("LEO %d", l.LogEndOffset())
	}
	r, err := l.Read(5, ReadOptions{MaxBytes: 1000})
	if err != nil || r.FirstOffset != 10 {
		t.Fatalf("read in gap: %v %+v", err, r)
	}
	r.Release()
}

func TestCleanReopen(t *testing.T) {
	fsys, clock := NewMemFS(), &fakeClock{ms: 1}
	l := openTestLog(t, fsys, clock, testConfig(), false, 0)
	for i := 0; i < 60; i++ {
		l.appendN(3, 50)
		clock.advance(10)
	}
	leo := l.LogEndOffset()
	maxTs, maxOff := l.MaxTimestamp()
	want := offsetsOf(l.readAll(0))
	if err := l.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, clean := range []bool{true, false} {
		l2 := openTestLog(t, fsys, clock, testConfig(), clean, 0)
		if l2.LogEndOffset() != leo {
			t.Fatalf("clean=%v LEO %d want %d", clean, l2.LogEndOffset(), leo)
		}
		if ts, off := l2.MaxTimestamp(); ts != maxTs || off != maxOff {
			t.Fatalf("clean=%v max ts %d@%d want %d@%d", clean, ts, off, maxTs, maxOff)
		}
		if got := offsetsOf(l2.readAll(0)); got != want {
			t.Fatalf("clean=%v\n got %s\nwant %s", clean, got, want)
		}
		l2.appendN(1, 10)
		leo = l2.LogEndOffset()
		maxTs, maxOff = l2.MaxTimestamp()
		want = offsetsOf(l2.readAll(0))
		if err := l2.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

func TestOffsetForTimestamp(t *testing.T) {
	fsys, clock := NewMemFS(), &fakeClock{ms: 1000}
	l := openTestLog(t, fsys, clock, testConfig(), false, 0)
	defer l.Close(context.Background())
	// Batch i has records at timestamps 1000+10i .. 1000+10i+3 (4 records).
	for i := 0; i < 50; i++ {
		if _, err := l.Append(mkBatch(l.LogEndOffset(), 4, 1000+int64(10*i), 30)); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		ts    int64
		off   int64
		found bool
	}{
		{0, 0, true},
		{1000, 0, true},
		{1002, 2, true},
		{1004, 4, true}, // next batch starts at 1010
		{1010, 4, true},
		{1013, 7, true},
		{1490, 196, true},
		{1493, 199, true},
		{1494, 0, false},
	}
	for _, c := range cases {
		off, _, found, err := l.OffsetForTimestamp(c.ts)
		if err != nil || found != c.found || (found && off != c.off) {
			t.Errorf("ts %d: got %d %v %v, want %d %v", c.ts, off, found, err, c.off, c.found)
		}
	}
}
