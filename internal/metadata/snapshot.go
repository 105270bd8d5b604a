package metadata

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"slices"

	"github.com/sluicehq/sluice/internal/protocol/metarecord"
	"github.com/sluicehq/sluice/internal/protocol/wire"
)

// Snapshot layout (raft's snapshot store adds its own CRC over the whole file):
//
//	8 bytes  magic "SLMDSNAP"
//	uint16   format version (1), big endian
//	uint64   offset: raft index of the last entry the image reflects
//	uint64   epoch: that entry's raft term
//	repeat:  uvarint length | framed record (as in log entries)
//	uvarint  0 (end)
//
// The records recreate the image in dependency order: features (metadata.version first),
// brokers, topics each followed by its partitions, configs, the producer-id block.
var snapshotMagic = []byte("SLMDSNAP")

const (
	snapshotVersion = 1
	// maxSnapshotRecordBytes bounds one record read back, against a damaged length.
	maxSnapshotRecordBytes = 16 << 20
)

// WriteSnapshot writes the records that recreate im.
func WriteSnapshot(w io.Writer, im *Image) (int64, error) {
	bw := bufio.NewWriter(w)
	cw := &countingWriter{w: bw}
	var hdr []byte
	hdr = append(hdr, snapshotMagic...)
	hdr = binary.BigEndian.AppendUint16(hdr, snapshotVersion)
	hdr = binary.BigEndian.AppendUint64(hdr, im.Offset)
	hdr = binary.BigEndian.AppendUint64(hdr, im.Epoch)
	if _, err := cw.Write(hdr); err != nil {
		return cw.n, err
	}
	var frame, lenBuf []byte
	emit := func(r metarecord.Record) error {
		var err error
		frame, err = metarecord.AppendFrame(frame[:0], WriteVersion(r.APIKey()), r)
		if err != nil {
			return err
		}
		lenBuf = binary.AppendUvarint(lenBuf[:0], uint64(len(frame)))
		if _, err := cw.Write(lenBuf); err != nil {
			return err
		}
		_, err = cw.Write(frame)
		return err
	}
	for _, rec := range im.Records() {
		if err := emit(rec); err != nil {
			return cw.n, err
		}
	}
	if _, err := cw.Write([]byte{0}); err != nil {
		return cw.n, err
	}
	return cw.n, bw.Flush()
}

// Records returns records that, applied to the empty image, recreate im (without its
// offset and epoch).
func (im *Image) Records() []metarecord.Record {
	var out []metarecord.Record
	features := make([]string, 0, len(im.features))
	for name := range im.features {
		features = append(features, name)
	}
	slices.SortFunc(features, func(a, b string) int {
		// metadata.version first: it decides how everything after it reads.
		switch {
		case a == b:
			return 0
		case a == MetadataVersionFeature:
			return -1
		case b == MetadataVersionFeature:
			return 1
		case a < b:
			return -1
		}
		return 1
	})
	for _, name := range features {
		out = append(out, &metarecord.FeatureLevelRecord{Name: name, FeatureLevel: im.features[name]})
	}
	for _, b := range im.Brokers() {
		out = append(out, BrokerRecord(b))
	}
	for _, t := range im.Topics() {
		out = append(out, &metarecord.TopicRecord{Name: t.Name, TopicId: wire.UUID(t.ID)})
		for _, p := range t.Partitions {
			out = append(out, PartitionRecordOf(t.ID, p))
		}
	}
	for _, res := range im.ConfigResources() {
		cfg := im.configs[res]
		keys := make([]string, 0, len(cfg))
		for k := range cfg {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			v := cfg[k]
			out = append(out, &metarecord.ConfigRecord{ResourceType: res.Type, ResourceName: res.Name, Name: k, Value: &v})
		}
	}
	if im.NextProducerID > 0 {
		out = append(out, &metarecord.ProducerIdsRecord{BrokerId: -1, BrokerEpoch: -1, NextProducerId: im.NextProducerID})
	}
	return out
}

// BrokerRecord returns the RegisterBrokerRecord that recreates b.
func BrokerRecord(b *Broker) *metarecord.RegisterBrokerRecord {
	r := metarecord.NewRegisterBrokerRecord()
	r.BrokerId = b.ID
	r.IncarnationId = wire.UUID(b.IncarnationID)
	r.BrokerEpoch = b.Epoch
	r.Fenced = b.Fenced
	r.InControlledShutdown = b.InControlledShutdown
	if b.Rack != "" {
		rack := b.Rack
		r.Rack = &rack
	}
	for _, e := range b.Endpoints {
		r.EndPoints = append(r.EndPoints, metarecord.RegisterBrokerRecordBrokerEndpoint{Name: e.Name, Host: e.Host, Port: e.Port, SecurityProtocol: e.SecurityProtocol})
	}
	for _, f := range b.Features {
		r.Features = append(r.Features, metarecord.RegisterBrokerRecordBrokerFeature{Name: f.Name, MinSupportedVersion: f.Min, MaxSupportedVersion: f.Max})
	}
	return r
}

// PartitionRecordOf returns the PartitionRecord that recreates p.
func PartitionRecordOf(topic UUID, p *Partition) *metarecord.PartitionRecord {
	r := metarecord.NewPartitionRecord()
	r.PartitionId = p.ID
	r.TopicId = wire.UUID(topic)
	r.Replicas = nonNil(p.Replicas)
	r.Isr = nonNil(p.ISR)
	r.RemovingReplicas = nonNil(p.RemovingReplicas)
	r.AddingReplicas = nonNil(p.AddingReplicas)
	r.Leader = p.Leader
	r.LeaderRecoveryState = p.LeaderRecoveryState
	r.LeaderEpoch = p.LeaderEpoch
	r.PartitionEpoch = p.PartitionEpoch
	r.EligibleLeaderReplicas = p.EligibleLeaderReplicas
	r.LastKnownElr = p.LastKnownELR
	return r
}

func nonNil(s []int32) []int32 {
	if s == nil {
		return []int32{}
	}
	return s
}

// ReadSnapshot reads a snapshot WriteSnapshot wrote and rebuilds the image.
func ReadSnapshot(r io.Reader, clusterID string) (*Image, error) {
	br := bufio.NewReader(r)
	hdr := make([]byte, len(snapshotMagic)+2+8+8)
	if _, err := io.ReadFull(br, hdr); err != nil {
		return nil, fmt.Errorf("%w: snapshot header: %w", ErrCorrupt, err)
	}
	if !bytes.Equal(hdr[:8], snapshotMagic) {
		return nil, fmt.Errorf("%w: not a metadata snapshot", ErrCorrupt)
	}
	if v := binary.BigEndian.Uint16(hdr[8:]); v != snapshotVersion {
		return nil, fmt.Errorf("%w: snapshot format version %d", ErrCorrupt, v)
	}
	offset := binary.BigEndian.Uint64(hdr[10:])
	epoch := binary.BigEndian.Uint64(hdr[18:])
	b := newBuilder(Empty(clusterID), offset)
	var buf []byte
	for {
		n, err := binary.ReadUvarint(br)
		if err != nil {
			return nil, fmt.Errorf("%w: snapshot record length: %w", ErrCorrupt, err)
		}
		if n == 0 {
			break
		}
		if n > maxSnapshotRecordBytes {
			return nil, fmt.Errorf("%w: snapshot record of %d bytes", ErrCorrupt, n)
		}
		buf = slices.Grow(buf[:0], int(n))[:n]
		if _, err := io.ReadFull(br, buf); err != nil {
			return nil, fmt.Errorf("%w: snapshot record: %w", ErrCorrupt, err)
		}
		rec, _, err := metarecord.DecodeFrame(buf)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
		}
		if err := b.apply(rec); err != nil {
			return nil, fmt.Errorf("%w: snapshot: %w", ErrCorrupt, err)
		}
	}
	b.next.Offset, b.next.Epoch = offset, epoch
	return b.next, nil
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
