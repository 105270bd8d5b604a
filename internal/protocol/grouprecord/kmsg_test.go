package grouprecord_test

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluicehq/sluice/internal/protocol/grouprecord"
	"github.com/sluicehq/sluice/internal/protocol/internal/fill"
	"github.com/sluicehq/sluice/internal/protocol/wire"
)

// TestDifferentialKmsg compares the __consumer_offsets schemas kmsg also has (the classic
// offset and group records) at every version the spec defines. kmsg has no KIP-848 or
// share-group records; those are covered by TestRoundTrip.
func TestDifferentialKmsg(t *testing.T) {
	type schema struct {
		name      string
		versions  []int16
		flexFrom  int16 // first flexible version, or -1
		newSluice func() wire.Message
		newKmsg   func() fill.KmsgVersioned
	}
	schemas := []schema{
		{"OffsetCommitKey", []int16{0, 1}, -1,
			func() wire.Message { return grouprecord.NewOffsetCommitKey() },
			func() fill.KmsgVersioned { v := kmsg.NewOffsetCommitKey(); return &v }},
		{"OffsetCommitValue", []int16{0, 1, 2, 3, 4}, 4,
			func() wire.Message { return grouprecord.NewOffsetCommitValue() },
			func() fill.KmsgVersioned { v := kmsg.NewOffsetCommitValue(); return &v }},
		{"GroupMetadataKey", []int16{2}, -1,
			func() wire.Message { return grouprecord.NewGroupMetadataKey() },
			func() fill.KmsgVersioned { v := kmsg.NewGroupMetadataKey(); return &v }},
		{"GroupMetadataValue", []int16{0, 1, 2, 3, 4}, 4,
			func() wire.Message { return grouprecord.NewGroupMetadataValue() },
			func() fill.KmsgVersioned { v := kmsg.NewGroupMetadataValue(); return &v }},
	}
	n := 0
	for _, s := range schemas {
		for _, v := range s.versions {
			n += fill.VersionedDifferential(t, s.name, v, s.flexFrom >= 0 && v >= s.flexFrom, 20, s.newSluice, s.newKmsg)
		}
	}
	t.Logf("%d random records compared", n)
}
