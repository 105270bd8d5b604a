package metarecord_test

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/sluicehq/sluice/internal/protocol/internal/fill"
	"github.com/sluicehq/sluice/internal/protocol/metarecord"
)

// FuzzDecodeFrame decodes arbitrary bytes as framed metadata records; whatever decodes
// must frame back to bytes that decode and frame identically.
func FuzzDecodeFrame(f *testing.F) {
	for typ := int16(0); typ < 200; typ++ {
		rec := metarecord.NewRecord(typ)
		if rec == nil {
			continue
		}
		v := rec.MaxVersion()
		fill.Sluice(rec, v, rec.IsFlexible(v), rand.New(rand.NewPCG(uint64(typ), 1)))
		b, err := metarecord.AppendFrame(nil, v, rec)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		rec, v, err := metarecord.DecodeFrame(in)
		if err != nil {
			return
		}
		first, err := metarecord.AppendFrame(nil, v, rec)
		if err != nil {
			t.Fatalf("decoded record does not encode: %v", err)
		}
		rec2, v2, err := metarecord.DecodeFrame(first)
		if err != nil || v2 != v {
			t.Fatalf("own frame does not decode: %v", err)
		}
		second, err := metarecord.AppendFrame(nil, v2, rec2)
		if err != nil || !bytes.Equal(first, second) {
			t.Fatalf("re-framing differs: %v", err)
		}
	})
}
