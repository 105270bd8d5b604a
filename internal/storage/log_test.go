package storage

import (
	"context"
	"errors"
	"testing"

	"github.com/sluicehq/sluice/internal/record"

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

// TestLookupTimestamp answers at record level inside batches of every codec, with the
// leader epoch of the batch holding the record, as Kafka's ListOffsets does. Timestamps are
// not monotonic inside a batch, so the time index may point past the answer.
func TestLookupTimestamp(t *testing.T) {
	codecs := []record.Compression{record.CompressionNone, record.CompressionGzip, record.CompressionSnappy,
		record.CompressionLZ4, record.CompressionZstd}
	for _, codec := range codecs {
		t.Run(codec.String(), func(t *testing.T) {
			cfg := testConfig()
			cfg.IndexIntervalBytes = 0 // an index entry at every batch
			l := openTestLog(t, NewMemFS(), &fakeClock{ms: 1}, cfg, false, 0)
			defer l.Close(context.Background())
			add := func(epoch int32, lat int64, tss ...int64) {
				o := noProducer(l.LogEndOffset())
				o.Compression, o.PartitionLeaderEpoch = codec, epoch
				if lat > 0 {
					o.LogAppendTime, o.LogAppendTimeMs = true, lat
				}
				var recs []trec
				for _, ts := range tss {
					recs = append(recs, trec{key: []byte("k"), value: []byte("v"), ts: ts})
				}
				if _, err := l.Append(buildBatch(t, o, recs)); err != nil {
					t.Fatal(err)
				}
			}
			add(1, 0, 10, 30, 20)    // 0-2
			add(1, 0, 100, 500, 200) // 3-5
			add(2, 0, 300)           // 6
			add(-1, 0, 600, 50)      // 7-8: no leader epoch
			add(3, 900, 1, 2, 3)     // 9-11: LogAppendTime 900
			cases := []struct {
				ts    int64
				want  TimestampOffset
				found bool
			}{
				{0, TimestampOffset{0, 10, 1}, true},
				{25, TimestampOffset{1, 30, 1}, true},
				{31, TimestampOffset{3, 100, 1}, true},
				{500, TimestampOffset{4, 500, 1}, true},
				{250, TimestampOffset{4, 500, 1}, true},
				{501, TimestampOffset{7, 600, -1}, true},
				{601, TimestampOffset{9, 900, 3}, true},
				{901, TimestampOffset{}, false},
			}
			for _, c := range cases {
				got, found, err := l.LookupTimestamp(c.ts)
				if err != nil || found != c.found || (found && got != c.want) {
					t.Errorf("ts %d: %+v %v %v, want %+v %v", c.ts, got, found, err, c.want, c.found)
				}
			}
			if got, found, err := l.LookupMaxTimestamp(); err != nil || !found || got != (TimestampOffset{9, 900, 3}) {
				t.Errorf("max timestamp: %+v %v %v", got, found, err)
			}
			// The log start inside a batch: records below it are not answers.
			if err := l.AdvanceLogStartOffset(5); err != nil {
				t.Fatal(err)
			}
			if got, found, _ := l.LookupTimestamp(250); !found || got != (TimestampOffset{6, 300, 2}) {
				t.Errorf("after log start 5, ts 250: %+v %v", got, found)
			}
		})
	}
}

// TestLookupTimestampOverBound: a batch that decompresses past the bound is answered at
// batch level rather than failing.
func TestLookupTimestampOverBound(t *testing.T) {
	l, err := OpenLog(context.Background(), LogOptions{Dir: "/data/t-0", TopicPartition: TopicPartition{"t", 0},
		Config: testConfig(), FS: NewMemFS(), Logger: quietLogger(), Now: (&fakeClock{ms: 1}).now,
		MaxDecompressedBatchBytes: 100})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close(context.Background())
	o := noProducer(0)
	o.Compression, o.PartitionLeaderEpoch = record.CompressionGzip, 4
	big := make([]byte, 300)
	l.Append(buildBatch(t, o, []trec{{value: big, ts: 10}, {value: big, ts: 50}, {value: big, ts: 20}}))
	got, found, err := l.LookupTimestamp(40)
	if err != nil || !found || got != (TimestampOffset{0, 50, 4}) {
		t.Fatalf("%+v %v %v", got, found, err)
	}
}
