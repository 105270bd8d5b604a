package metadata

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/protocol/metarecord"
	"github.com/sluicehq/sluice/internal/protocol/wire"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestUUID(t *testing.T) {
	for range 100 {
		u := RandomUUID()
		s := u.String()
		if len(s) != 22 || s[0] == '-' {
			t.Fatalf("bad text form %q", s)
		}
		if u[6]>>4 != 4 || u[8]>>6 != 2 {
			t.Fatalf("not a v4 UUID: %x", u)
		}
		back, err := ParseUUID(s)
		if err != nil || back != u {
			t.Fatalf("round trip %q: %v %v", s, back, err)
		}
	}
	// Kafka's text of its reserved metadata topic id.
	if metadataTopicID.String() != "AAAAAAAAAAAAAAAAAAAAAQ" {
		t.Fatal(metadataTopicID.String())
	}
	for _, bad := range []string{"", "abc", "AAAAAAAAAAAAAAAAAAAAAQ==", "AAAAAAAAAAAAAAAAAAAA*Q"} {
		if _, err := ParseUUID(bad); !errors.Is(err, ErrBadUUID) {
			t.Errorf("ParseUUID(%q) = %v", bad, err)
		}
	}
}

func str(s string) *string { return &s }

// sampleRecords builds a small cluster: metadata.version, two brokers, a topic with two
// partitions and a config, a broker config and a producer-id block.
func sampleRecords(topic UUID) []metarecord.Record {
	b1 := metarecord.NewRegisterBrokerRecord()
	b1.BrokerId, b1.BrokerEpoch, b1.Fenced, b1.Rack = 1, -1, true, str("r1")
	b1.EndPoints = []metarecord.RegisterBrokerRecordBrokerEndpoint{{Name: "PLAINTEXT", Host: "h1", Port: 9092}}
	b1.Features = []metarecord.RegisterBrokerRecordBrokerFeature{{Name: MetadataVersionFeature, MinSupportedVersion: 1, MaxSupportedVersion: 21}}
	b2 := metarecord.NewRegisterBrokerRecord()
	b2.BrokerId, b2.BrokerEpoch, b2.Fenced = 2, 7, false
	p0 := metarecord.NewPartitionRecord()
	p0.PartitionId, p0.TopicId, p0.Replicas, p0.Isr, p0.Leader, p0.LeaderEpoch, p0.PartitionEpoch = 0, wire.UUID(topic), []int32{1, 2}, []int32{1, 2}, 1, 0, 0
	p1 := metarecord.NewPartitionRecord()
	p1.PartitionId, p1.TopicId, p1.Replicas, p1.Isr, p1.Leader, p1.LeaderEpoch, p1.PartitionEpoch = 1, wire.UUID(topic), []int32{2, 1}, []int32{2, 1}, 2, 0, 0
	return []metarecord.Record{
		&metarecord.FeatureLevelRecord{Name: MetadataVersionFeature, FeatureLevel: MetadataVersionLevel},
		b1, b2,
		&metarecord.TopicRecord{Name: "orders", TopicId: wire.UUID(topic)},
		p0, p1,
		&metarecord.ConfigRecord{ResourceType: ResourceTopic, ResourceName: "orders", Name: "retention.ms", Value: str("1000")},
		&metarecord.ConfigRecord{ResourceType: ResourceBroker, ResourceName: "", Name: "log.cleaner.threads", Value: str("2")},
		&metarecord.ProducerIdsRecord{BrokerId: 1, BrokerEpoch: 5, NextProducerId: 1000},
		&metarecord.NoOpRecord{},
	}
}

func mustEntry(t *testing.T, recs ...metarecord.Record) []byte {
	t.Helper()
	b, err := EncodeEntry(recs...)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestApplyAndLookups(t *testing.T) {
	topic := RandomUUID()
	im, err := Empty("c").Apply(5, 2, sampleRecords(topic))
	if err != nil {
		t.Fatal(err)
	}
	if im.Offset != 5 || im.Epoch != 2 || im.MetadataVersion() != MetadataVersionLevel || im.NextProducerID != 1000 {
		t.Fatalf("image header %+v", im)
	}
	b1, _ := im.Broker(1)
	if b1.Epoch != 5 || !b1.Fenced || b1.Rack != "r1" || len(b1.Endpoints) != 1 {
		t.Fatalf("broker 1 %+v (epoch -1 must become the entry's index)", b1)
	}
	if b2, _ := im.Broker(2); b2.Epoch != 7 {
		t.Fatalf("explicit epoch lost: %+v", b2)
	}
	if got := im.AliveBrokers(); len(got) != 1 || got[0].ID != 2 {
		t.Fatalf("alive %v", got)
	}
	tp, ok := im.TopicByName("orders")
	if !ok || tp.ID != topic || len(tp.Partitions) != 2 {
		t.Fatalf("topic %+v", tp)
	}
	if byID, _ := im.TopicByID(topic); byID != tp {
		t.Fatal("by id and by name differ")
	}
	if p, ok := im.Partition("orders", 1); !ok || p.Leader != 2 {
		t.Fatalf("partition %+v", p)
	}
	if _, ok := im.Partition("orders", 2); ok {
		t.Fatal("partition 2 exists")
	}
	if im.TopicConfig("orders")["retention.ms"] != "1000" || im.ClusterConfig()["log.cleaner.threads"] != "2" {
		t.Fatal("configs")
	}

	// PartitionChangeRecord: partition epoch always advances, leader epoch when a leader is
	// named; absent fields keep their value.
	ch := metarecord.NewPartitionChangeRecord()
	ch.TopicId, ch.PartitionId, ch.Isr = wire.UUID(topic), 0, []int32{1}
	ch2 := metarecord.NewPartitionChangeRecord()
	ch2.TopicId, ch2.PartitionId, ch2.Leader = wire.UUID(topic), 0, 2
	im2, err := im.Apply(6, 2, []metarecord.Record{ch, ch2})
	if err != nil {
		t.Fatal(err)
	}
	p0, _ := im2.Partition("orders", 0)
	if !reflect.DeepEqual(p0.ISR, []int32{1}) || p0.Leader != 2 || p0.LeaderEpoch != 1 || p0.PartitionEpoch != 2 || !reflect.DeepEqual(p0.Replicas, []int32{1, 2}) {
		t.Fatalf("after change %+v", p0)
	}
	// Copy-on-write: the old image is untouched and unchanged parts are shared.
	if old, _ := im.Partition("orders", 0); old.Leader != 1 || old.PartitionEpoch != 0 {
		t.Fatalf("old image modified: %+v", old)
	}
	oldP1, _ := im.Partition("orders", 1)
	newP1, _ := im2.Partition("orders", 1)
	if oldP1 != newP1 {
		t.Fatal("unchanged partition not shared")
	}
	b1old, _ := im.Broker(1)
	b1new, _ := im2.Broker(1)
	if b1old != b1new {
		t.Fatal("unchanged broker not shared")
	}

	d := Diff(im, im2)
	if len(d.ChangedPartitions) != 1 || d.ChangedPartitions[0] != (PartitionRef{topic, 0}) || len(d.CreatedTopics) != 0 || len(d.ChangedBrokers) != 0 {
		t.Fatalf("delta %+v", d)
	}

	// Unfence, then remove the topic: its configs go with it.
	im3, err := im2.Apply(7, 3, []metarecord.Record{
		&metarecord.UnfenceBrokerRecord{Id: 1, Epoch: 5},
		&metarecord.RemoveTopicRecord{TopicId: wire.UUID(topic)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := im3.TopicByName("orders"); ok || len(im3.TopicConfig("orders")) != 0 {
		t.Fatal("topic or its config survived removal")
	}
	d = Diff(im2, im3)
	if len(d.DeletedTopics) != 1 || d.DeletedTopics[0].Name != "orders" || !reflect.DeepEqual(d.ChangedBrokers, []int32{1}) ||
		len(d.ChangedConfigs) != 1 || d.ChangedConfigs[0] != (ConfigResource{ResourceTopic, "orders"}) {
		t.Fatalf("delta %+v", d)
	}
	if got := Diff(Empty("c"), im); len(got.CreatedTopics) != 1 || len(got.ChangedPartitions) != 2 || !got.FeaturesChanged || !got.ProducerIDsChanged {
		t.Fatalf("full delta %+v", got)
	}
}

func TestApplyRejectsWholeBatch(t *testing.T) {
	topic := RandomUUID()
	im, err := Empty("c").Apply(1, 1, sampleRecords(topic))
	if err != nil {
		t.Fatal(err)
	}
	good := &metarecord.TopicRecord{Name: "new", TopicId: wire.UUID(RandomUUID())}
	tests := []struct {
		name string
		bad  metarecord.Record
	}{
		{"duplicate topic name", &metarecord.TopicRecord{Name: "orders", TopicId: wire.UUID(RandomUUID())}},
		{"duplicate topic id", &metarecord.TopicRecord{Name: "x", TopicId: wire.UUID(topic)}},
		{"partition of unknown topic", func() metarecord.Record {
			p := metarecord.NewPartitionRecord()
			p.TopicId = wire.UUID(RandomUUID())
			p.PartitionId = 0
			return p
		}()},
		{"partition gap", func() metarecord.Record {
			p := metarecord.NewPartitionRecord()
			p.TopicId, p.PartitionId = wire.UUID(topic), 5
			return p
		}()},
		{"stale broker epoch", &metarecord.FenceBrokerRecord{Id: 2, Epoch: 6}},
		{"unknown broker", &metarecord.UnfenceBrokerRecord{Id: 9, Epoch: 1}},
		{"producer ids going back", &metarecord.ProducerIdsRecord{NextProducerId: 10}},
		{"remove unknown topic", &metarecord.RemoveTopicRecord{TopicId: wire.UUID(RandomUUID())}},
		{"config of unknown topic", &metarecord.ConfigRecord{ResourceType: ResourceTopic, ResourceName: "nope", Name: "a", Value: str("b")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			next, err := im.Apply(2, 1, []metarecord.Record{good, tc.bad})
			if !errors.Is(err, ErrInvalidRecord) {
				t.Fatalf("err %v", err)
			}
			if next != im {
				t.Fatal("image changed")
			}
			if _, ok := im.TopicByName("new"); ok {
				t.Fatal("first record of a rejected batch applied")
			}
		})
	}
}

func TestEntryCodec(t *testing.T) {
	recs := sampleRecords(RandomUUID())
	b := mustEntry(t, recs...)
	got, err := DecodeEntry(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(recs) {
		t.Fatalf("%d records, want %d", len(got), len(recs))
	}
	for _, bad := range [][]byte{nil, {0}, {2}, append([]byte{1}, 200), append(b[:len(b)-1:len(b)-1], 0xff)} {
		if _, err := DecodeEntry(bad); !errors.Is(err, ErrCorrupt) {
			t.Errorf("DecodeEntry(%x) = %v", bad, err)
		}
	}
}

func TestSnapshotRoundTrip(t *testing.T) {
	topic := RandomUUID()
	im, err := Empty("c").Apply(9, 4, sampleRecords(topic))
	if err != nil {
		t.Fatal(err)
	}
	ch := metarecord.NewPartitionChangeRecord()
	ch.TopicId, ch.PartitionId, ch.Leader = wire.UUID(topic), 1, 1
	if im, err = im.Apply(10, 4, []metarecord.Record{ch, &metarecord.FeatureLevelRecord{Name: "group.version", FeatureLevel: 1}}); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := WriteSnapshot(&buf, im); err != nil {
		t.Fatal(err)
	}
	back, err := ReadSnapshot(bytes.NewReader(buf.Bytes()), "c")
	if err != nil {
		t.Fatal(err)
	}
	if back.Offset != 10 || back.Epoch != 4 {
		t.Fatalf("offset/epoch %d/%d", back.Offset, back.Epoch)
	}
	if !reflect.DeepEqual(back, im) {
		t.Fatalf("restored image differs:\n%+v\n%+v", back, im)
	}
	if d := Diff(im, back); !d.Empty() {
		// Diff compares pointers, so a restored image shows everything as changed; compare
		// contents instead.
		for _, r := range d.ChangedPartitions {
			a, _ := im.TopicByID(r.TopicID)
			b, _ := back.TopicByID(r.TopicID)
			if !reflect.DeepEqual(a.Partitions[r.Partition], b.Partitions[r.Partition]) {
				t.Fatalf("partition %v differs", r)
			}
		}
	}
	// Truncations and bit flips are refused, never half-applied.
	raw := buf.Bytes()
	for _, n := range []int{0, 7, 20, 26, len(raw) - 1} {
		if _, err := ReadSnapshot(bytes.NewReader(raw[:n]), "c"); !errors.Is(err, ErrCorrupt) {
			t.Errorf("truncated at %d: %v", n, err)
		}
	}
}

func TestFSMPublishAndWait(t *testing.T) {
	f := NewFSM(FSMOptions{ClusterID: "c"})
	defer f.Close()

	var mu sync.Mutex
	var seen []uint64
	cancel := f.Subscribe(func(prev, next *Image, _ *Delta) {
		mu.Lock()
		defer mu.Unlock()
		if len(seen) > 0 && prev.Offset != seen[len(seen)-1] {
			t.Errorf("prev %d is not the image seen last (%d)", prev.Offset, seen[len(seen)-1])
		}
		if next.Offset <= prev.Offset {
			t.Errorf("offset went from %d to %d", prev.Offset, next.Offset)
		}
		seen = append(seen, next.Offset)
	})
	defer cancel()

	ctx, stop := context.WithTimeout(context.Background(), 10*time.Second)
	defer stop()
	waited := make(chan *Image, 1)
	go func() {
		im, err := f.WaitForOffset(ctx, 3)
		if err != nil {
			t.Error(err)
		}
		waited <- im
	}()

	topic := RandomUUID()
	if err := f.Apply(1, 1, mustEntry(t, sampleRecords(topic)...)); err != nil {
		t.Fatal(err)
	}
	// A bad entry is skipped but advances the offset.
	if err := f.Apply(2, 1, []byte{9, 9}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("bad entry: %v", err)
	}
	if f.Current().Offset != 2 {
		t.Fatal("skipped entry did not advance the offset")
	}
	select {
	case <-waited:
		t.Fatal("WaitForOffset returned early")
	default:
	}
	if err := f.Apply(3, 1, mustEntry(t, &metarecord.RemoveTopicRecord{TopicId: wire.UUID(topic)})); err != nil {
		t.Fatal(err)
	}
	if im := <-waited; im.Offset < 3 {
		t.Fatalf("waited image at %d", im.Offset)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := 0
		if len(seen) > 0 {
			n = int(seen[len(seen)-1])
		}
		mu.Unlock()
		if n == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("publisher stopped at %d", n)
		}
		time.Sleep(5 * time.Millisecond)
	}

	// A late subscriber starts from the empty image and sees the cluster as created.
	got := make(chan *Delta, 1)
	cancel2 := f.Subscribe(func(prev, next *Image, d *Delta) {
		if prev.Offset == 0 {
			select {
			case got <- d:
			default:
			}
		}
	})
	defer cancel2()
	select {
	case d := <-got:
		if !reflect.DeepEqual(d.ChangedBrokers, []int32{1, 2}) || !d.FeaturesChanged {
			t.Fatalf("late subscriber delta %+v", d)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("late subscriber never called")
	}

	// Cancelled and closed waits.
	cctx, ccancel := context.WithCancel(context.Background())
	ccancel()
	if _, err := f.WaitForOffset(cctx, 100); !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	f.Close()
	if _, err := f.WaitForOffset(context.Background(), 100); !errors.Is(err, ErrClosed) {
		t.Fatal(err)
	}
}

func TestFSMSnapshotRestore(t *testing.T) {
	f := NewFSM(FSMOptions{ClusterID: "c"})
	defer f.Close()
	if err := f.Apply(4, 2, mustEntry(t, sampleRecords(RandomUUID())...)); err != nil {
		t.Fatal(err)
	}
	w, err := f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := w.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	g := NewFSM(FSMOptions{ClusterID: "c"})
	defer g.Close()
	if err := g.Restore(&buf); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(f.Current(), g.Current()) {
		t.Fatal("restored FSM differs")
	}
}

func TestMetaProperties(t *testing.T) {
	root := t.TempDir()
	d1, d2 := filepath.Join(root, "a"), filepath.Join(root, "b")
	mp, err := LoadOrFormat([]string{d1, d2}, 3, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseUUID(mp.ClusterID); err != nil || mp.DirectoryIDs[d1] == mp.DirectoryIDs[d2] {
		t.Fatalf("formatted %+v", mp)
	}
	raw, _ := os.ReadFile(filepath.Join(d1, MetaPropertiesFile))
	for _, want := range []string{"version=1\n", "node.id=3\n", "cluster.id=" + mp.ClusterID + "\n", "directory.id=" + mp.DirectoryIDs[d1].String() + "\n"} {
		if !strings.Contains(string(raw), want) {
			t.Fatalf("meta.properties lacks %q:\n%s", want, raw)
		}
	}
	again, err := LoadOrFormat([]string{d1, d2}, 3, mp.ClusterID)
	if err != nil || !reflect.DeepEqual(again, mp) {
		t.Fatalf("reload %+v %v", again, err)
	}
	// A new directory joins the existing cluster id.
	d3 := filepath.Join(root, "c")
	third, err := LoadOrFormat([]string{d1, d3}, 3, "")
	if err != nil || third.ClusterID != mp.ClusterID {
		t.Fatalf("added dir %+v %v", third, err)
	}

	if _, err := LoadOrFormat([]string{d1}, 4, ""); !errors.Is(err, ErrMetaProperties) || !strings.Contains(err.Error(), "node.id 3") {
		t.Fatalf("node id mismatch: %v", err)
	}
	if _, err := LoadOrFormat([]string{d1}, 3, RandomUUID().String()); !errors.Is(err, ErrMetaProperties) {
		t.Fatalf("cluster id mismatch: %v", err)
	}
	other := filepath.Join(root, "other")
	if _, err := LoadOrFormat([]string{other}, 3, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrFormat([]string{d1, other}, 3, ""); !errors.Is(err, ErrMetaProperties) {
		t.Fatalf("directories of two clusters: %v", err)
	}
	v0 := filepath.Join(root, "v0")
	os.MkdirAll(v0, 0o755)
	os.WriteFile(filepath.Join(v0, MetaPropertiesFile), []byte("version=0\nbroker.id=3\ncluster.id=x\n"), 0o644)
	if _, err := LoadOrFormat([]string{v0}, 3, ""); !errors.Is(err, ErrMetaProperties) {
		t.Fatalf("version 0: %v", err)
	}
}
