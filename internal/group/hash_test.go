package group

import "testing"

// Placement must agree with Kafka's (Java's String.hashCode over UTF-16, Utils.abs), so
// that tools computing coordinators find ours. Expected values computed with Java's rules.
func TestPartitionForMatchesJava(t *testing.T) {
	tests := []struct {
		group string
		hash  int32
		p50   int32
	}{
		{"", 0, 0},
		{"a", 97, 47},
		{"hello", 99162322, 22},
		{"my-group", -1906497762, 12},
		{"polygenelubricants", -2147483648, 0}, // Integer.MIN_VALUE: Utils.abs gives 0
		{"grüppe", -1233264812, 12},
		{"\U0001F600g", 54959972, 22}, // a surrogate pair counts as two code units
	}
	for _, tt := range tests {
		if got := javaStringHashCode(tt.group); got != tt.hash {
			t.Errorf("hashCode(%q) = %d, want %d", tt.group, got, tt.hash)
		}
		if got := partitionFor(tt.group, 50); got != tt.p50 {
			t.Errorf("partitionFor(%q, 50) = %d, want %d", tt.group, got, tt.p50)
		}
	}
}

func TestParseSubscriptionTopicsHostile(t *testing.T) {
	good := []byte{0, 1, 0, 0, 0, 2, 0, 1, 'a', 0, 2, 'b', 'c', 0xff} // v1, [a, bc], trailing
	if ts, ok := parseSubscriptionTopics(good); !ok || len(ts) != 2 || ts[0] != "a" || ts[1] != "bc" {
		t.Fatalf("got %v %v", ts, ok)
	}
	for _, b := range [][]byte{nil, {0}, {0, 0, 0x7f, 0xff, 0xff, 0xff}, {0, 0, 0, 0, 0, 1, 0, 9, 'x'}, {0xff, 0xff, 0, 0, 0, 0}} {
		if _, ok := parseSubscriptionTopics(b); ok {
			t.Errorf("%x parsed", b)
		}
	}
}

func FuzzParseSubscriptionTopics(f *testing.F) {
	f.Add([]byte{0, 1, 0, 0, 0, 1, 0, 1, 'a'})
	f.Fuzz(func(t *testing.T, b []byte) {
		ts, ok := parseSubscriptionTopics(b)
		if ok && len(ts) > len(b) {
			t.Fatalf("%d topics from %d bytes", len(ts), len(b))
		}
	})
}
