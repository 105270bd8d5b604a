package fill

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/sluicehq/sluice/internal/protocol/wire"
)

// Versioned is what every generated top-level type offers beyond wire.Message.
type Versioned interface {
	wire.Message
	MinVersion() int16
	MaxVersion() int16
	IsFlexible(int16) bool
}

// RoundTrip fills fresh messages from newMsg with random values at every version and
// checks encode -> decode -> encode reproduces the bytes. It returns the versions checked.
func RoundTrip(t *testing.T, name string, iterations int, newMsg func() Versioned) int {
	t.Helper()
	proto := newMsg()
	n := 0
	for v := proto.MinVersion(); v <= proto.MaxVersion(); v++ {
		n++
		for i := 0; i < iterations; i++ {
			rng := rand.New(rand.NewPCG(uint64(v), uint64(i)))
			m := newMsg()
			Sluice(m, v, m.IsFlexible(v), rng)
			w := wire.NewWriter(nil)
			if err := m.Encode(w, v); err != nil {
				t.Fatalf("%s v%d: encode: %v", name, v, err)
			}
			want := bytes.Clone(w.Buffer())
			back := newMsg()
			r := wire.NewReader(want)
			if err := back.Decode(&r, v); err != nil {
				t.Fatalf("%s v%d: decode: %v\nbytes %x", name, v, err, want)
			}
			if err := r.Complete(); err != nil {
				t.Fatalf("%s v%d: %v", name, v, err)
			}
			w.Reset()
			if err := back.Encode(w, v); err != nil {
				t.Fatalf("%s v%d: re-encode: %v", name, v, err)
			}
			if !bytes.Equal(w.Buffer(), want) {
				t.Fatalf("%s v%d: round trip differs\nfirst  %x\nsecond %x", name, v, want, w.Buffer())
			}
		}
	}
	return n
}
