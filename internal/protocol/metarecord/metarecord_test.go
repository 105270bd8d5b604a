package metarecord_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/sluicehq/sluice/internal/protocol/internal/fill"
	"github.com/sluicehq/sluice/internal/protocol/metarecord"
	"github.com/sluicehq/sluice/internal/protocol/wire"
)

// kmsg has no metadata records, so these are checked by round trips and by hand-built
// frames.
func TestRoundTrip(t *testing.T) {
	types, versions := 0, 0
	for typ := int16(0); typ < 200; typ++ {
		if metarecord.NewRecord(typ) == nil {
			continue
		}
		types++
		versions += fill.RoundTrip(t, "record type", 20, func() fill.Versioned { return metarecord.NewRecord(typ) })
	}
	if types != 25 {
		t.Errorf("%d record types, want the 25 metadata specs", types)
	}
	t.Logf("%d record types, %d versions", types, versions)
}

func TestFrame(t *testing.T) {
	rec := metarecord.NewTopicRecord()
	rec.Name = "orders"
	rec.TopicId = wire.UUID{0xaa, 15: 0xbb}
	b, err := metarecord.AppendFrame(nil, 0, rec)
	if err != nil {
		t.Fatal(err)
	}
	want := append([]byte{1, 2, 0, 7, 'o', 'r', 'd', 'e', 'r', 's'}, rec.TopicId[:]...)
	want = append(want, 0) // no tagged fields
	if !bytes.Equal(b, want) {
		t.Fatalf("frame %x, want %x", b, want)
	}
	got, v, err := metarecord.DecodeFrame(b)
	if err != nil || v != 0 {
		t.Fatalf("decode: %v (v%d)", err, v)
	}
	if tr, ok := got.(*metarecord.TopicRecord); !ok || tr.Name != "orders" || tr.TopicId != rec.TopicId {
		t.Fatalf("decoded %#v", got)
	}
	for name, bad := range map[string][]byte{
		"frame version 0": append([]byte{0}, b[1:]...),
		"unknown type":    {1, 99, 0},
		"trailing bytes":  append(bytes.Clone(b), 0),
		"truncated":       b[:5],
	} {
		if _, _, err := metarecord.DecodeFrame(bad); err == nil {
			t.Errorf("%s: decoded", name)
		} else if name != "truncated" && !errors.Is(err, metarecord.ErrFrame) {
			t.Errorf("%s: %v is not ErrFrame", name, err)
		}
	}
}
