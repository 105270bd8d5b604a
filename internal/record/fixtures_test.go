package record

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// The fixtures under testdata were produced by a real Kafka client (franz-go) into franz-go's
// in-memory broker and fetched back raw; testdata/genfixtures.go regenerates them.

type fixtureHeader struct {
	Key   string `json:"key"`
	Value []byte `json:"value"`
}

type fixtureRecord struct {
	Offset    int64           `json:"offset"`
	Timestamp int64           `json:"timestamp"`
	Key       []byte          `json:"key"`
	Value     []byte          `json:"value"`
	Headers   []fixtureHeader `json:"headers"`
}

var fixtureCodecs = []struct {
	name  string
	codec Compression
}{
	{"none", CompressionNone},
	{"gzip", CompressionGzip},
	{"snappy", CompressionSnappy},
	{"lz4", CompressionLZ4},
	{"zstd", CompressionZstd},
}

func readFixture(t testing.TB, name string) ([]byte, []fixtureRecord) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name+".batches"))
	if err != nil {
		t.Fatal(err)
	}
	js, err := os.ReadFile(filepath.Join("testdata", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var want []fixtureRecord
	if err := json.Unmarshal(js, &want); err != nil {
		t.Fatal(err)
	}
	return raw, want
}

// parseAll parses every batch of a record set, failing the test on any error.
func parseAll(t testing.TB, raw []byte) []Batch {
	t.Helper()
	var out []Batch
	for rest := raw; len(rest) > 0; {
		b, next, err := Parse(rest, 0)
		if err != nil {
			t.Fatalf("batch %d at byte %d: %v", len(out), len(raw)-len(rest), err)
		}
		out = append(out, b)
		rest = next
	}
	return out
}

func checkRecord(t *testing.T, b Batch, r *Record, want fixtureRecord) {
	t.Helper()
	if got := r.Offset(b); got != want.Offset {
		t.Errorf("offset %d, want %d", got, want.Offset)
	}
	if got := r.Timestamp(b); got != want.Timestamp {
		t.Errorf("offset %d: timestamp %d, want %d", want.Offset, got, want.Timestamp)
	}
	if (r.Key == nil) != (want.Key == nil) || !bytes.Equal(r.Key, want.Key) {
		t.Errorf("offset %d: key %q, want %q", want.Offset, r.Key, want.Key)
	}
	if (r.Value == nil) != (want.Value == nil) || !bytes.Equal(r.Value, want.Value) {
		t.Errorf("offset %d: value of %d bytes (nil %v), want %d (nil %v)", want.Offset, len(r.Value), r.Value == nil, len(want.Value), want.Value == nil)
	}
	if r.Headers.Len() != len(want.Headers) {
		t.Fatalf("offset %d: %d headers, want %d", want.Offset, r.Headers.Len(), len(want.Headers))
	}
	hi := r.Headers.Iter()
	for i, wh := range want.Headers {
		h, ok := hi.Next()
		if !ok {
			t.Fatalf("offset %d: header %d missing", want.Offset, i)
		}
		if string(h.Key) != wh.Key || (h.Value == nil) != (wh.Value == nil) || !bytes.Equal(h.Value, wh.Value) {
			t.Errorf("offset %d: header %d = %q:%q, want %q:%q", want.Offset, i, h.Key, h.Value, wh.Key, wh.Value)
		}
	}
	if _, ok := hi.Next(); ok {
		t.Errorf("offset %d: extra header", want.Offset)
	}
	if r.Sequence(b) != IncrementSequence(b.BaseSequence(), r.OffsetDelta) && b.BaseSequence() >= 0 {
		t.Errorf("offset %d: sequence %d", want.Offset, r.Sequence(b))
	}
}

func TestFranzFixtures(t *testing.T) {
	for _, fc := range fixtureCodecs {
		t.Run(fc.name, func(t *testing.T) {
			raw, want := readFixture(t, "franz-"+fc.name)
			batches := parseAll(t, raw)
			if len(batches) != 2 {
				t.Fatalf("%d batches, want 2 (one per ProduceSync)", len(batches))
			}
			var scratch []byte
			i := 0
			for _, b := range batches {
				if b.Compression() != fc.codec {
					t.Fatalf("codec %s, want %s", b.Compression(), fc.codec)
				}
				if !b.HasProducerID() || b.BaseSequence() < 0 || b.ProducerEpoch() < 0 {
					t.Errorf("idempotent producer fields missing: %v", b)
				}
				if err := b.ValidateProducer(); err != nil {
					t.Error(err)
				}
				recs, err := Decompress(scratch, b, 1<<20)
				if err != nil {
					t.Fatal(err)
				}
				if fc.codec == CompressionNone && &recs[0] != &b.Records()[0] {
					t.Error("uncompressed Decompress copied the records")
				}
				it := NewRecordIter(recs, b.RecordCount())
				for it.Next() {
					if i >= len(want) {
						t.Fatalf("more records than the %d expected", len(want))
					}
					checkRecord(t, b, it.Record(), want[i])
					i++
				}
				if err := it.Err(); err != nil {
					t.Fatal(err)
				}
				// A client batch as the produce path sees it.
				info, err := ValidateProduce(b, &ProduceRules{NowMs: 1700000000000,
					TimestampBeforeMaxMs: 1 << 40, TimestampAfterMaxMs: 1 << 40, DecompressLimitBytes: 1 << 20})
				if err != nil {
					t.Fatalf("ValidateProduce: %v", err)
				}
				if info.MaxTimestamp != b.MaxTimestamp() {
					t.Errorf("validated max timestamp %d, batch says %d", info.MaxTimestamp, b.MaxTimestamp())
				}
				if fc.codec != CompressionNone {
					scratch = recs[:0]
				}
			}
			if i != len(want) {
				t.Fatalf("%d records, want %d", i, len(want))
			}
		})
	}
}

func TestTxnFixture(t *testing.T) {
	raw, want := readFixture(t, "txn")
	batches := parseAll(t, raw)
	var data, markers []Batch
	for _, b := range batches {
		if !b.IsTransactional() {
			t.Errorf("non-transactional batch in the transactional topic: %v", b)
		}
		if b.IsControl() {
			markers = append(markers, b)
		} else {
			data = append(data, b)
		}
	}
	if len(data) != 2 || len(markers) != 2 {
		t.Fatalf("%d data and %d marker batches, want 2 and 2", len(data), len(markers))
	}
	for i, b := range data {
		it := NewRecordIter(b.Records(), b.RecordCount())
		if !it.Next() {
			t.Fatal(it.Err())
		}
		checkRecord(t, b, it.Record(), want[i])
	}
	for i, b := range markers {
		m, err := ReadEndTxnMarker(b)
		if err != nil {
			t.Fatal(err)
		}
		if m.Commit != (i == 0) {
			t.Errorf("marker %d: commit %v", i, m.Commit)
		}
		if m.ProducerID != data[i].ProducerID() || m.ProducerEpoch != data[i].ProducerEpoch() {
			t.Errorf("marker %d: producer %d/%d, data batch %d/%d", i, m.ProducerID, m.ProducerEpoch, data[i].ProducerID(), data[i].ProducerEpoch())
		}
		if m.BaseOffset <= data[i].LastOffset() {
			t.Errorf("marker %d at offset %d, not after its data at %d", i, m.BaseOffset, data[i].LastOffset())
		}
		// Clients may not write control batches.
		if _, err := ValidateProduce(b, &ProduceRules{DecompressLimitBytes: 1 << 20}); !errorsIs(err, ErrControlBatch) {
			t.Errorf("ValidateProduce(marker) = %v, want ErrControlBatch", err)
		}
		// Our own marker with the same fields decodes to the same marker.
		ours := AppendEndTxnMarker(nil, m)
		got, err := ReadEndTxnMarker(Batch(ours))
		if err != nil || got != m {
			t.Errorf("round trip: %+v, %v; want %+v", got, err, m)
		}
	}
}
