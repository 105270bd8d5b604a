package message_test

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/sluicehq/sluice/internal/protocol/internal/fill"
	"github.com/sluicehq/sluice/internal/protocol/message"
	"github.com/sluicehq/sluice/internal/protocol/wire"
)

// pick maps the first two fuzz bytes to an API and a version of it.
func pick(data []byte) (message.APIInfo, int16, []byte, bool) {
	if len(data) < 2 {
		return message.APIInfo{}, 0, nil, false
	}
	apis := message.APIs()
	info := apis[int(data[0])%len(apis)]
	span := int(info.MaxVersion-info.MinVersion) + 1
	return info, info.MinVersion + int16(int(data[1])%span), data[2:], true
}

// seedBodies adds, for every API at its lowest and highest version, a valid random
// encoding made by newMsg, prefixed with the two selector bytes pick reads.
func seedBodies(f *testing.F, newMsg func(key int16) wire.Message) {
	for i, info := range message.APIs() {
		for _, v := range []int16{info.MinVersion, info.MaxVersion} {
			m := newMsg(info.Key)
			fill.Sluice(m, v, info.IsFlexible(v), rand.New(rand.NewPCG(uint64(i), uint64(v))))
			w := wire.NewWriter(nil)
			if err := m.Encode(w, v); err != nil {
				f.Fatalf("seed %s v%d: %v", info.Name, v, err)
			}
			f.Add(append([]byte{byte(i), byte(v - info.MinVersion)}, w.Buffer()...))
		}
	}
}

// roundTrip checks that a message decoded from arbitrary bytes encodes, and that its
// encoding decodes and encodes again to the same bytes.
func roundTrip(t *testing.T, name string, v int16, m wire.Message, fresh func() wire.Message) {
	w := wire.NewWriter(nil)
	if err := m.Encode(w, v); err != nil {
		t.Fatalf("%s v%d: decoded message does not encode: %v", name, v, err)
	}
	first := bytes.Clone(w.Buffer())
	again := fresh()
	r := wire.NewReader(first)
	if err := again.Decode(&r, v); err != nil {
		t.Fatalf("%s v%d: own encoding does not decode: %v\n%x", name, v, err, first)
	}
	if r.Remaining() != 0 {
		t.Fatalf("%s v%d: own encoding leaves %d bytes", name, v, r.Remaining())
	}
	w.Reset()
	if err := again.Encode(w, v); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first, w.Buffer()) {
		t.Fatalf("%s v%d: re-encoding differs\n%x\n%x", name, v, first, w.Buffer())
	}
}

// FuzzRequestBody decodes arbitrary bytes as every request type at every version.
func FuzzRequestBody(f *testing.F) {
	seedBodies(f, func(k int16) wire.Message { return message.NewRequest(k) })
	f.Fuzz(func(t *testing.T, data []byte) {
		info, v, body, ok := pick(data)
		if !ok {
			return
		}
		m := message.NewRequest(info.Key)
		r := wire.NewReader(body)
		if m.Decode(&r, v) != nil {
			return
		}
		roundTrip(t, info.Name+"Request", v, m, func() wire.Message { return message.NewRequest(info.Key) })
	})
}

// FuzzResponseBody is FuzzRequestBody for responses (the broker decodes responses from
// controllers and other brokers).
func FuzzResponseBody(f *testing.F) {
	seedBodies(f, func(k int16) wire.Message { return message.NewResponse(k) })
	f.Fuzz(func(t *testing.T, data []byte) {
		info, v, body, ok := pick(data)
		if !ok {
			return
		}
		m := message.NewResponse(info.Key)
		r := wire.NewReader(body)
		if m.Decode(&r, v) != nil {
			return
		}
		roundTrip(t, info.Name+"Response", v, m, func() wire.Message { return message.NewResponse(info.Key) })
	})
}

// FuzzDecodeRequest feeds arbitrary frame payloads (request header and body) to
// DecodeRequest, the server's entry point; what decodes must re-frame identically.
func FuzzDecodeRequest(f *testing.F) {
	for i, info := range message.APIs() {
		v := info.MaxVersion
		m := message.NewRequest(info.Key)
		fill.Sluice(m, v, info.IsFlexible(v), rand.New(rand.NewPCG(uint64(i), 9)))
		hdr := message.RequestHeader{RequestApiKey: info.Key, RequestApiVersion: v, CorrelationId: int32(i), ClientId: wire.Ptr("fuzz")}
		w := wire.NewWriter(nil)
		if err := message.EncodeRequest(w, &hdr, m); err != nil {
			f.Fatal(err)
		}
		f.Add(w.Buffer()[4:])
	}
	f.Add([]byte{0, 18, 0, 99, 0, 0, 0, 1, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, frame []byte) {
		hdr, req, err := message.DecodeRequest(frame)
		if err != nil {
			return
		}
		w := wire.NewWriter(nil)
		if err := message.EncodeRequest(w, &hdr, req); err != nil {
			t.Fatalf("decoded request does not encode: %v", err)
		}
		hdr2, req2, err := message.DecodeRequest(w.Buffer()[4:])
		if err != nil {
			t.Fatalf("own frame does not decode: %v", err)
		}
		w2 := wire.NewWriter(nil)
		if err := message.EncodeRequest(w2, &hdr2, req2); err != nil || !bytes.Equal(w.Buffer(), w2.Buffer()) {
			t.Fatalf("re-framing differs: %v", err)
		}
	})
}

// FuzzRequestHeader decodes arbitrary bytes as request headers v0-v2.
func FuzzRequestHeader(f *testing.F) {
	for v := int16(0); v <= 2; v++ {
		h := message.RequestHeader{RequestApiKey: 3, RequestApiVersion: 12, CorrelationId: 7, ClientId: wire.Ptr("client")}
		w := wire.NewWriter(nil)
		if err := h.Encode(w, v); err != nil {
			f.Fatal(err)
		}
		f.Add(append([]byte{byte(v)}, w.Buffer()...))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 1 {
			return
		}
		v := int16(data[0] % 3)
		var h message.RequestHeader
		r := wire.NewReader(data[1:])
		if h.Decode(&r, v) != nil {
			return
		}
		roundTrip(t, "RequestHeader", v, &h, func() wire.Message { return message.NewRequestHeader() })
	})
}
