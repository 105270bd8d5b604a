package config

import "testing"

func TestJoinHostPortBracketsIPv6(t *testing.T) {
	for _, c := range []struct {
		host string
		port int
		want string
	}{
		{"localhost", 9092, "localhost:9092"},
		{"10.0.0.1", 1, "10.0.0.1:1"},
		{"::1", 9093, "[::1]:9093"},
		{"", 9092, ":9092"},
	} {
		if got := joinHostPort(c.host, c.port); got != c.want {
			t.Errorf("joinHostPort(%q, %d) = %q, want %q", c.host, c.port, got, c.want)
		}
	}
}

func TestParseIPUnspecified(t *testing.T) {
	for _, c := range []struct {
		host              string
		isIP, unspecified bool
	}{
		{"0.0.0.0", true, true},
		{"::", true, true},
		{"::ffff:0.0.0.0", true, true}, // a v4-mapped 0.0.0.0 is still "all interfaces"
		{"127.0.0.1", true, false},
		{"fe80::1%eth0", false, false}, // zones are not host literals Kafka accepts
		{"broker-1.example", false, false},
	} {
		ip, ok := parseIP(c.host)
		if ok != c.isIP || (ok && ip.IsUnspecified() != c.unspecified) {
			t.Errorf("parseIP(%q) = %v, %v; want ip=%v unspecified=%v", c.host, ip, ok, c.isIP, c.unspecified)
		}
	}
}
