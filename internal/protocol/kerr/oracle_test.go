package kerr

import (
	"testing"

	fkerr "github.com/twmb/franz-go/pkg/kerr"
)

// TestAgainstFranzGo compares names and codes with franz-go's table, the client Sluice is
// tested with. Retriable bits follow Kafka's exception classes, which franz-go departs from
// in a few places; those are listed here so a change on either side is noticed.
func TestAgainstFranzGo(t *testing.T) {
	renamed := map[int16]string{6: "NOT_LEADER_FOR_PARTITION"} // Kafka renamed it in 2.6
	retriableDiffers := map[int16]bool{8: true, 51: true, 122: true, 123: true}
	for _, e := range All() {
		f, ok := fkerr.ErrorForCode(e.Code).(*fkerr.Error)
		if !ok {
			t.Errorf("franz-go does not know code %d (%s)", e.Code, e.Name)
			continue
		}
		want := e.Name
		if r, ok := renamed[e.Code]; ok {
			want = r
		}
		if f.Message != want {
			t.Errorf("code %d: name %s, franz-go %s", e.Code, e.Name, f.Message)
		}
		if (e.Retriable != f.Retriable) != retriableDiffers[e.Code] {
			t.Errorf("code %d (%s): retriable %v, franz-go %v", e.Code, e.Name, e.Retriable, f.Retriable)
		}
	}
}
