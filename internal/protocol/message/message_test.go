package message_test

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluicehq/sluice/internal/protocol/internal/fill"
	"github.com/sluicehq/sluice/internal/protocol/message"
	"github.com/sluicehq/sluice/internal/protocol/wire"
)

// TestRequestFramesKmsg frames random kmsg requests (size, header with and without a client
// id, body) with kmsg's own formatter for every key and version, decodes them with
// DecodeRequest and re-frames them with EncodeRequest: the bytes must be identical. This
// covers request headers v1 and v2 (and v0 for ControlledShutdown v0).
func TestRequestFramesKmsg(t *testing.T) {
	cases := 0
	for _, info := range message.APIs() {
		k := kmsg.RequestForKey(info.Key)
		maxV := min(info.MaxVersion, k.MaxVersion())
		for v := info.MinVersion; v <= maxV; v++ {
			if _, ok := skipReason("request", info.Name, v); ok {
				continue
			}
			if info.Key == message.KeyControlledShutdown && v == 0 {
				// kmsg's formatter writes ControlledShutdown v0 as a bare header with no body
				// and no size; it is covered by the body differential test instead.
				continue
			}
			for i, clientID := range []*string{nil, wire.Ptr("sluice-test")} {
				rng := rand.New(rand.NewPCG(uint64(info.Key), uint64(v)<<1|uint64(i)))
				req := kmsg.RequestForKey(info.Key)
				fill.Kmsg(req, rng)
				req.SetVersion(v)
				var opts []kmsg.RequestFormatterOpt
				if clientID != nil {
					opts = append(opts, kmsg.FormatterClientID(*clientID))
				}
				frame := kmsg.NewRequestFormatter(opts...).AppendRequest(nil, req, int32(rng.Uint32()))
				hdr, got, err := message.DecodeRequest(frame[4:])
				if err != nil {
					t.Fatalf("%s v%d: %v\n%x", info.Name, v, err, frame)
				}
				if hdr.RequestApiKey != info.Key || hdr.RequestApiVersion != v {
					t.Fatalf("%s v%d: header says key %d v%d", info.Name, v, hdr.RequestApiKey, hdr.RequestApiVersion)
				}
				if (hdr.ClientId == nil) != (clientID == nil) || (clientID != nil && *hdr.ClientId != *clientID) {
					t.Fatalf("%s v%d: client id %v", info.Name, v, hdr.ClientId)
				}
				w := wire.NewWriter(nil)
				if err := message.EncodeRequest(w, &hdr, got); err != nil {
					t.Fatalf("%s v%d: %v", info.Name, v, err)
				}
				if !bytes.Equal(w.Buffer(), frame) {
					t.Fatalf("%s v%d: frame differs\nkmsg   %x\nsluice %x", info.Name, v, frame, w.Buffer())
				}
				cases++
			}
		}
	}
	t.Logf("%d request frames compared", cases)
}

// TestDataSchemasKmsg compares the "data" schemas of the message specs that kmsg has.
func TestDataSchemasKmsg(t *testing.T) {
	type schema struct {
		name      string
		lo, hi    int16
		newSluice func() fill.Versioned
		newKmsg   func() fill.KmsgVersioned
	}
	for _, s := range []schema{
		{"ConsumerProtocolSubscription", 0, 3,
			func() fill.Versioned { return message.NewConsumerProtocolSubscription() },
			func() fill.KmsgVersioned { v := kmsg.NewConsumerMemberMetadata(); return &v }},
		{"ConsumerProtocolAssignment", 0, 3,
			func() fill.Versioned { return message.NewConsumerProtocolAssignment() },
			func() fill.KmsgVersioned { v := kmsg.NewConsumerMemberAssignment(); return &v }},
		{"DefaultPrincipalData", 0, 0,
			func() fill.Versioned { return message.NewDefaultPrincipalData() },
			func() fill.KmsgVersioned { v := kmsg.NewDefaultPrincipalData(); return &v }},
	} {
		for v := s.lo; v <= s.hi; v++ {
			flexible := s.newSluice().IsFlexible(v)
			fill.VersionedDifferential(t, s.name, v, flexible, 20,
				func() wire.Message { return s.newSluice() }, s.newKmsg)
		}
	}
	// LeaderChangeMessage carries its version as its own first field; kmsg knows v0 only.
	fill.InlineVersionDifferential(t, "LeaderChangeMessage", 0, true, 20,
		func() wire.Message { return message.NewLeaderChangeMessage() },
		func() fill.KmsgVersioned { v := kmsg.NewLeaderChangeMessage(); return &v })
	for _, m := range []func() fill.Versioned{
		func() fill.Versioned { return message.NewLeaderChangeMessage() },
		func() fill.Versioned { return message.NewSnapshotHeaderRecord() },
		func() fill.Versioned { return message.NewSnapshotFooterRecord() },
		func() fill.Versioned { return message.NewVotersRecord() },
		func() fill.Versioned { return message.NewKRaftVersionRecord() },
		func() fill.Versioned { return message.NewRequestHeader() },
		func() fill.Versioned { return message.NewResponseHeader() },
	} {
		fill.RoundTrip(t, "data", 20, m)
	}
}

func TestHeaderVersions(t *testing.T) {
	for _, tc := range []struct {
		key, version, req, resp int16
	}{
		{message.KeyProduce, 8, 1, 0},
		{message.KeyProduce, 9, 2, 1},
		{message.KeyApiVersions, 3, 2, 0}, // ApiVersions responses always use header v0
		{message.KeyApiVersions, 99, 2, 0},
		{message.KeyControlledShutdown, 0, 0, 0},
		{message.KeyControlledShutdown, 1, 1, 0},
		{message.KeyMetadata, 9, 2, 1},
		{-5, 0, -1, -1},
	} {
		if got := message.RequestHeaderVersion(tc.key, tc.version); got != tc.req {
			t.Errorf("request header for key %d v%d: %d, want %d", tc.key, tc.version, got, tc.req)
		}
		if got := message.ResponseHeaderVersion(tc.key, tc.version); got != tc.resp {
			t.Errorf("response header for key %d v%d: %d, want %d", tc.key, tc.version, got, tc.resp)
		}
	}
	info, ok := message.LookupAPI(message.KeyProduce)
	if !ok || info.Name != "Produce" || info.MinVersion != 0 || info.MaxVersion != 11 || info.FlexibleVersion != 9 {
		t.Fatalf("Produce: %+v", info)
	}
	for _, a := range message.APIs() {
		if message.NewRequest(a.Key).APIKey() != a.Key || message.NewResponse(a.Key).APIKey() != a.Key {
			t.Fatalf("constructors disagree with the table for key %d", a.Key)
		}
	}
	if message.NewRequest(-1) != nil || message.NewResponse(30000) != nil {
		t.Fatal("unknown keys must give nil")
	}
}

func TestEncodeResponseFrame(t *testing.T) {
	resp := message.NewApiVersionsResponse()
	resp.ApiKeys = []message.ApiVersionsResponseApiVersion{{ApiKey: 0, MinVersion: 0, MaxVersion: 11}}
	w := wire.NewWriter(nil)
	if err := message.EncodeResponse(w, 77, 3, resp); err != nil {
		t.Fatal(err)
	}
	b := w.Buffer()
	// size, correlation id, then the body: header v0 has no tagged-field byte.
	if got := b[4:8]; !bytes.Equal(got, []byte{0, 0, 0, 77}) {
		t.Fatalf("correlation id bytes %x", got)
	}
	k := kmsg.NewPtrApiVersionsResponse()
	k.SetVersion(3)
	if err := k.ReadFrom(b[8:]); err != nil || len(k.ApiKeys) != 1 || k.ApiKeys[0].MaxVersion != 11 {
		t.Fatalf("kmsg read: %v %+v", err, k)
	}
	if size := int(b[0])<<24 | int(b[1])<<16 | int(b[2])<<8 | int(b[3]); size != len(b)-4 {
		t.Fatalf("size prefix %d, frame %d", size, len(b)-4)
	}

	// A flexible Metadata response uses header v1: correlation id then an empty tag section.
	w.Reset()
	if err := message.EncodeResponse(w, 5, 12, message.NewMetadataResponse()); err != nil {
		t.Fatal(err)
	}
	if got := w.Buffer()[4:9]; !bytes.Equal(got, []byte{0, 0, 0, 5, 0}) {
		t.Fatalf("header v1 bytes %x", got)
	}
}

func TestControlledShutdownV0Header(t *testing.T) {
	// Request header v0: key, version, correlation id; the client id keeps its default ("").
	hdr, req, err := message.DecodeRequest([]byte{0, 7, 0, 0, 0, 0, 0, 9, 0, 0, 0, 3})
	if err != nil || hdr.CorrelationId != 9 || hdr.ClientId == nil || *hdr.ClientId != "" {
		t.Fatalf("%+v %v", hdr, err)
	}
	if cs := req.(*message.ControlledShutdownRequest); cs.BrokerId != 3 {
		t.Fatalf("broker id %d", cs.BrokerId)
	}
}

func TestDecodeRequestErrors(t *testing.T) {
	// ApiVersions v99 from a newer client: the header is readable, the body is not.
	frame := []byte{0, 18, 0, 99, 0, 0, 0, 42, 0, 1, 'c', 0}
	hdr, req, err := message.DecodeRequest(frame)
	if !errors.Is(err, wire.ErrUnsupportedVersion) || req != nil || hdr.CorrelationId != 42 || *hdr.ClientId != "c" {
		t.Fatalf("got %+v %v %v", hdr, req, err)
	}
	_, _, err = message.DecodeRequest([]byte{0x7f, 0, 0, 0, 0, 0, 0, 1, 0xff, 0xff})
	if !errors.Is(err, wire.ErrUnknownAPIKey) {
		t.Fatalf("unknown key: %v", err)
	}
	// A valid DescribeCluster v0 request with one byte too many.
	frame = []byte{0, 60, 0, 0, 0, 0, 0, 1, 0xff, 0xff, 0, 1, 0, 0}
	if _, _, err := message.DecodeRequest(frame[:len(frame)-1]); err != nil {
		t.Fatalf("valid request: %v", err)
	}
	if _, _, err := message.DecodeRequest(frame); !errors.Is(err, wire.ErrTrailingBytes) {
		t.Fatalf("trailing byte: %v", err)
	}
}

// TestHostileRequests feeds tiny request bodies that claim huge counts to the generated
// decoders: they must fail at once without allocating for the claim.
func TestHostileRequests(t *testing.T) {
	cases := []struct {
		name    string
		version int16
		msg     func() wire.Message
		body    []byte
	}{
		// DescribeCluster v0 (flexible): a bool, then 2^32-1 tagged fields, in 6 bytes.
		{"tagged fields", 0, func() wire.Message { return message.NewDescribeClusterRequest() },
			[]byte{0x01, 0xff, 0xff, 0xff, 0xff, 0x0f}},
		// Produce v3: null transactional id, acks, timeout, then 2^31-1 topics.
		{"classic array", 3, func() wire.Message { return message.NewProduceRequest() },
			[]byte{0xff, 0xff, 0, 1, 0, 0, 0, 1, 0x7f, 0xff, 0xff, 0xff, 0, 0}},
		// Fetch v12 (flexible): fixed fields, then a compact array claiming 2^31 topics.
		{"compact array", 12, func() wire.Message { return message.NewFetchRequest() },
			append(make([]byte, 4+4+4+4+1+4+4), 0x81, 0x80, 0x80, 0x80, 0x08, 0)},
		// Metadata v1: 2^31-1 topics of at least 2 bytes each.
		{"array of strings", 1, func() wire.Message { return message.NewMetadataRequest() },
			[]byte{0x7f, 0xff, 0xff, 0xff, 0, 1}},
	}
	for _, tc := range cases {
		start := time.Now()
		r := wire.NewReader(tc.body)
		err := tc.msg().Decode(&r, tc.version)
		if elapsed := time.Since(start); elapsed > 50*time.Millisecond {
			t.Errorf("%s: took %v", tc.name, elapsed)
		}
		if !errors.Is(err, wire.ErrInvalidLength) {
			t.Errorf("%s: got %v, want ErrInvalidLength", tc.name, err)
			continue
		}
		m := tc.msg()
		allocs := testing.AllocsPerRun(50, func() {
			r := wire.NewReader(tc.body)
			m.Decode(&r, tc.version)
		})
		if allocs > 10 {
			t.Errorf("%s: %.0f allocations", tc.name, allocs)
		}
	}
}

func TestEncodeRejects(t *testing.T) {
	w := wire.NewWriter(nil)
	// Not nullable before v10: a null topic name in Metadata v9 is refused.
	req := message.NewMetadataRequest()
	req.Topics = []message.MetadataRequestTopic{{Name: nil}}
	if err := req.Encode(w, 9); !errors.Is(err, wire.ErrNullNotAllowed) {
		t.Fatalf("null in non-nullable version: %v", err)
	}
	if err := req.Encode(w, 10); err != nil {
		t.Fatalf("null where nullable: %v", err)
	}
	// validateOnly does not exist in CreateTopics v0 and is not ignorable.
	ct := message.NewCreateTopicsRequest()
	ct.ValidateOnly = true
	if err := ct.Encode(w, 0); !errors.Is(err, wire.ErrFieldNotInVersion) {
		t.Fatalf("absent non-ignorable field: %v", err)
	}
	if err := ct.Encode(w, 1); err != nil {
		t.Fatal(err)
	}
	// An ignorable field is dropped silently (Produce v0 has no transactional id and the
	// spec does not call it ignorable, so use Fetch's ignorable rack id instead).
	f := message.NewFetchRequest()
	f.RackId = "rack-1"
	if err := f.Encode(w, 10); err != nil {
		t.Fatalf("ignorable field: %v", err)
	}
	if err := message.NewProduceRequest().Encode(w, 12); !errors.Is(err, wire.ErrUnsupportedVersion) {
		t.Fatalf("version out of range: %v", err)
	}
}

// TestUnknownTagsKept checks that tagged fields unknown to Sluice survive decode and
// re-encode, merged in tag order with the known ones.
func TestUnknownTagsKept(t *testing.T) {
	// ApiVersions v3 request: two compact strings, then tags 0 (unknown here) and 5.
	body := []byte{0x02, 'a', 0x02, '1', 0x02, 0x00, 0x01, 0xaa, 0x05, 0x02, 0xbb, 0xcc}
	m := message.NewApiVersionsRequest()
	r := wire.NewReader(body)
	if err := m.Decode(&r, 3); err != nil {
		t.Fatal(err)
	}
	if len(m.UnknownTags) != 2 || m.UnknownTags[1].Tag != 5 {
		t.Fatalf("unknown tags %+v", m.UnknownTags)
	}
	w := wire.NewWriter(nil)
	if err := m.Encode(w, 3); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(w.Buffer(), body) {
		t.Fatalf("re-encoded %x, want %x", w.Buffer(), body)
	}
}
