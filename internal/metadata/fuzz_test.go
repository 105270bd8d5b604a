package metadata

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzDecodeEntry: any bytes either decode or fail with ErrCorrupt (never panic), and what
// decodes applies to an image or is refused whole.
func FuzzDecodeEntry(f *testing.F) {
	good, err := EncodeEntry(sampleRecords(RandomUUID())...)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte{1})
	f.Add([]byte{1, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		recs, err := DecodeEntry(b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		im := Empty("c")
		if next, err := im.Apply(1, 1, recs); err != nil && next != im {
			t.Fatal("a refused entry changed the image")
		}
	})
}

// FuzzReadSnapshot: damaged snapshots fail with ErrCorrupt, never panic.
func FuzzReadSnapshot(f *testing.F) {
	im, err := Empty("c").Apply(3, 1, sampleRecords(RandomUUID()))
	if err != nil {
		f.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := WriteSnapshot(&buf, im); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add(snapshotMagic)
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := ReadSnapshot(bytes.NewReader(b), "c"); err != nil && !errors.Is(err, ErrCorrupt) {
			t.Fatalf("error %v does not wrap ErrCorrupt", err)
		}
	})
}
