package fill

import (
	"bytes"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/sluicehq/sluice/internal/protocol/wire"
)

// KmsgVersioned is a kmsg type that carries its own int16 version prefix (the
// __consumer_offsets / __transaction_state keys and values, the consumer protocol, …).
type KmsgVersioned interface {
	AppendTo([]byte) []byte
	ReadFrom([]byte) error
}

// VersionedDifferential checks one version-prefixed schema against its kmsg twin at
// version, in both directions, for iterations random values: kmsg encodes, Sluice decodes
// and re-encodes the same bytes; Sluice encodes, kmsg decodes and re-encodes the same bytes.
// It returns the number of cases run. A schema whose first field is its own Version (the
// KRaft LeaderChangeMessage) has no separate prefix: set inline.
func VersionedDifferential(t *testing.T, name string, version int16, flexible bool, iterations int,
	newSluice func() wire.Message, newKmsg func() KmsgVersioned) int {
	return differential(t, name, version, flexible, iterations, false, newSluice, newKmsg)
}

// InlineVersionDifferential is VersionedDifferential for schemas that carry their version
// as their own first field.
func InlineVersionDifferential(t *testing.T, name string, version int16, flexible bool, iterations int,
	newSluice func() wire.Message, newKmsg func() KmsgVersioned) int {
	return differential(t, name, version, flexible, iterations, true, newSluice, newKmsg)
}

func differential(t *testing.T, name string, version int16, flexible bool, iterations int, inline bool,
	newSluice func() wire.Message, newKmsg func() KmsgVersioned) int {
	encode := func(m wire.Message) ([]byte, error) {
		if inline {
			w := wire.NewWriter(nil)
			err := m.Encode(w, version)
			return w.Buffer(), err
		}
		return wire.AppendVersioned(nil, version, m)
	}
	decode := func(b []byte) (int16, wire.Message, error) {
		if inline {
			m := newSluice()
			r := wire.NewReader(b)
			if err := m.Decode(&r, version); err != nil {
				return 0, nil, err
			}
			return version, m, r.Complete()
		}
		return wire.DecodeVersioned(b, func(int16) wire.Message { return newSluice() })
	}
	t.Helper()
	for i := 0; i < iterations; i++ {
		rng := rand.New(rand.NewPCG(uint64(version)<<16|uint64(i), 7))
		k := newKmsg()
		Kmsg(k, rng)
		reflect.ValueOf(k).Elem().FieldByName("Version").SetInt(int64(version))
		want := k.AppendTo(nil)
		v, s, err := decode(want)
		if err != nil || v != version {
			t.Fatalf("%s v%d: kmsg->sluice decode: version %d, %v\nbytes %x", name, version, v, err, want)
		}
		got, err := encode(s)
		if err != nil {
			t.Fatalf("%s v%d: kmsg->sluice re-encode: %v", name, version, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("%s v%d: kmsg->sluice bytes differ\nkmsg   %x\nsluice %x", name, version, want, got)
		}

		s = newSluice()
		Sluice(s, version, flexible, rng)
		if inline {
			reflect.ValueOf(s).Elem().FieldByName("Version").SetInt(int64(version))
		}
		want, err = encode(s)
		if err != nil {
			t.Fatalf("%s v%d: sluice encode: %v", name, version, err)
		}
		k = newKmsg()
		if err := k.ReadFrom(want); err != nil {
			t.Fatalf("%s v%d: sluice->kmsg decode: %v\nbytes %x", name, version, err, want)
		}
		if got := k.AppendTo(nil); !bytes.Equal(got, want) {
			t.Fatalf("%s v%d: sluice->kmsg bytes differ\nsluice %x\nkmsg   %x", name, version, want, got)
		}
	}
	return iterations
}
