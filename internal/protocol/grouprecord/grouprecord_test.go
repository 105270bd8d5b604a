package grouprecord_test

import (
	"bytes"
	"testing"

	"github.com/sluicehq/sluice/internal/protocol/grouprecord"
	"github.com/sluicehq/sluice/internal/protocol/internal/fill"
)

func TestRoundTrip(t *testing.T) {
	keys := 0
	for kv := int16(0); kv < 100; kv++ {
		if grouprecord.NewKey(kv) == nil {
			continue
		}
		keys++
		fill.RoundTrip(t, "key", 10, func() fill.Versioned { return grouprecord.NewKey(kv).(fill.Versioned) })
		fill.RoundTrip(t, "value", 10, func() fill.Versioned { return grouprecord.NewValue(kv).(fill.Versioned) })
	}
	if keys != 16 {
		t.Errorf("%d key versions, want 16 (0-15)", keys)
	}
}

func TestKeyDispatch(t *testing.T) {
	k := grouprecord.NewOffsetCommitKey()
	k.Group, k.Topic, k.Partition = "g", "t", 3
	b, err := grouprecord.AppendKey(nil, 1, k)
	if err != nil {
		t.Fatal(err)
	}
	if want := []byte{0, 1, 0, 1, 'g', 0, 1, 't', 0, 0, 0, 3}; !bytes.Equal(b, want) {
		t.Fatalf("key %x, want %x", b, want)
	}
	v, m, err := grouprecord.DecodeKey(b)
	if err != nil || v != 1 {
		t.Fatal(v, err)
	}
	if got, ok := m.(*grouprecord.OffsetCommitKey); !ok || *got != *k {
		t.Fatalf("decoded %#v", m)
	}
	gk := grouprecord.NewGroupMetadataKey()
	gk.Group = "g"
	b, _ = grouprecord.AppendKey(nil, grouprecord.KeyVersionGroupMetadataV2, gk)
	if _, m, err := grouprecord.DecodeKey(b); err != nil {
		t.Fatal(err)
	} else if _, ok := m.(*grouprecord.GroupMetadataKey); !ok {
		t.Fatalf("key version 2 decoded as %T", m)
	}
	if _, m, err := grouprecord.DecodeValue(2, nil); err != nil || m != nil {
		t.Fatalf("tombstone: %v %v", m, err)
	}
	if _, _, err := grouprecord.DecodeKey([]byte{0x7f, 0}); err == nil {
		t.Fatal("unknown key version decoded")
	}
}
