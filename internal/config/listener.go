package config

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"
)

// SecurityProtocol is a Kafka security protocol, the transport a listener speaks.
type SecurityProtocol string

// The security protocols Kafka defines.
const (
	Plaintext     SecurityProtocol = "PLAINTEXT"
	SSL           SecurityProtocol = "SSL"
	SASLPlaintext SecurityProtocol = "SASL_PLAINTEXT"
	SASLSSL       SecurityProtocol = "SASL_SSL"
)

var securityProtocols = []SecurityProtocol{Plaintext, SSL, SASLPlaintext, SASLSSL}

func parseSecurityProtocol(s string) (SecurityProtocol, bool) {
	// Kafka's SecurityProtocol.forName upper-cases its argument.
	u := SecurityProtocol(strings.ToUpper(s))
	for _, p := range securityProtocols {
		if u == p {
			return p, true
		}
	}
	return "", false
}

// Listener is one entry of listeners or advertised.listeners: NAME://host:port.
type Listener struct {
	// Name is upper-cased, as Kafka normalises listener names.
	Name string
	// Host is "" for "all interfaces" in listeners. In advertised listeners an empty host
	// means "this machine's name", which the server fills in (config reads no environment).
	Host string
	Port int
	// SecurityProtocol is resolved through listener.security.protocol.map.
	SecurityProtocol SecurityProtocol
}

// Addr returns host:port for net.Listen or for clients, bracketing IPv6 literals.
func (l Listener) Addr() string { return joinHostPort(l.Host, l.Port) }

// String returns the listener in Kafka syntax.
func (l Listener) String() string { return l.Name + "://" + l.Addr() }

// HostPort is a host and port, as in controller.quorum.bootstrap.servers.
type HostPort struct {
	Host string
	Port int
}

// Addr returns host:port, bracketing IPv6 literals.
func (h HostPort) Addr() string { return joinHostPort(h.Host, h.Port) }

// Voter is one entry of controller.quorum.voters: id@host:port.
type Voter struct {
	ID   int32
	Host string
	Port int
}

// Addr returns the voter's host:port.
func (v Voter) Addr() string { return joinHostPort(v.Host, v.Port) }

// joinHostPort is net.JoinHostPort without importing net: config is imported by packages
// that must not depend on the network stack (metadata, controller; see DESIGN §4).
func joinHostPort(host string, port int) string {
	if strings.Contains(host, ":") {
		return "[" + host + "]:" + strconv.Itoa(port)
	}
	return host + ":" + strconv.Itoa(port)
}

// parseIP parses an IP literal (no zone), reporting whether it is one; host names are not.
func parseIP(host string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(host)
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

// String returns the voter in Kafka syntax.
func (v Voter) String() string { return strconv.Itoa(int(v.ID)) + "@" + v.Addr() }

// validHost reports whether every character of h is one Kafka allows in a host (letters,
// digits, '-', '%', '.', '_' and ':' for IPv6).
func validHost(h string) bool {
	for _, c := range h {
		switch {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case c == '-', c == '%', c == '.', c == '_', c == ':':
		default:
			return false
		}
	}
	return true
}

// splitHostPort splits "host:port" or "[v6]:port" at the last colon, as Kafka's patterns do.
// The host may be empty.
func splitHostPort(s string) (host string, port int, err error) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return "", 0, fmt.Errorf("%q has no port", s)
	}
	host, ps := s[:i], s[i+1:]
	if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		host = host[1 : len(host)-1]
	}
	if !validHost(host) {
		return "", 0, fmt.Errorf("%q is not a valid host", host)
	}
	p, perr := strconv.Atoi(ps)
	if perr != nil || !isDecimal(ps) || p < 0 || p > 65535 {
		return "", 0, fmt.Errorf("%q is not a port number (0-65535)", ps)
	}
	return host, p, nil
}

func parseHostPort(s string) (HostPort, error) {
	h, p, err := splitHostPort(s)
	if err != nil {
		return HostPort{}, err
	}
	if h == "" {
		return HostPort{}, fmt.Errorf("%q has no host", s)
	}
	return HostPort{Host: h, Port: p}, nil
}

// parseListeners parses a listeners value. protocols maps listener names to security
// protocols; when nil only the syntax is checked and SecurityProtocol is left empty.
// Like Kafka, names must be distinct, and so must ports unless the two listeners sharing a
// port are an IPv4 and an IPv6 address (port 0, "any free port", may repeat).
func parseListeners(s string, protocols map[string]SecurityProtocol) ([]Listener, error) {
	return parseListenersOpt(s, protocols, true)
}

func parseListenersOpt(s string, protocols map[string]SecurityProtocol, distinctPorts bool) ([]Listener, error) {
	var out []Listener
	for _, e := range splitList(javaTrim(s)) {
		if e == "" {
			continue // Kafka's CSV parsing drops empty entries
		}
		name, rest, ok := strings.Cut(e, "://")
		if !ok || name == "" || strings.ContainsAny(name, " \t,") {
			return nil, fmt.Errorf("%q is not NAME://host:port", e)
		}
		host, port, err := splitHostPort(rest)
		if err != nil {
			return nil, fmt.Errorf("listener %q: %w", e, err)
		}
		l := Listener{Name: strings.ToUpper(name), Host: host, Port: port}
		if protocols != nil {
			p, ok := protocols[l.Name]
			if !ok {
				return nil, fmt.Errorf("no security protocol for listener %s in listener.security.protocol.map", l.Name)
			}
			l.SecurityProtocol = p
		}
		for _, o := range out {
			if o.Name == l.Name {
				return nil, fmt.Errorf("listener name %s appears twice", l.Name)
			}
		}
		out = append(out, l)
	}
	if distinctPorts {
		if err := checkListenerPorts(out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func checkListenerPorts(ls []Listener) error {
	byPort := map[int][]Listener{}
	for _, l := range ls {
		if l.Port != 0 {
			byPort[l.Port] = append(byPort[l.Port], l)
		}
	}
	for port, same := range byPort {
		if len(same) < 2 {
			continue
		}
		if len(same) == 2 {
			a, aok := parseIP(same[0].Host)
			b, bok := parseIP(same[1].Host)
			if aok && bok && a.Is4() != b.Is4() {
				continue
			}
		}
		return fmt.Errorf("listeners %s and %s share port %d (only an IPv4 and an IPv6 address may share a port)",
			same[0].Name, same[1].Name, port)
	}
	return nil
}

// parseVoters parses controller.quorum.voters entries (id@host:port). Unlike Kafka, which
// keeps the last of two entries with the same id, a repeated id is an error: it is always a
// typo, and picking one silently splits the quorum. 0.0.0.0 is refused as Kafka refuses it
// when it connects: a voter address must be routable.
func parseVoters(entries []string) ([]Voter, error) {
	var out []Voter
	seen := map[int32]bool{}
	for _, e := range entries {
		idStr, addr, ok := strings.Cut(e, "@")
		if !ok || strings.Contains(addr, "@") {
			return nil, fmt.Errorf("%q is not id@host:port", e)
		}
		id, err := strconv.ParseInt(idStr, 10, 32)
		if err != nil || id < 0 {
			return nil, fmt.Errorf("voter %q: %q is not a node id", e, idStr)
		}
		hp, err := parseHostPort(addr)
		if err != nil {
			return nil, fmt.Errorf("voter %q: %w", e, err)
		}
		if hp.Host == "0.0.0.0" {
			return nil, fmt.Errorf("voter %q: 0.0.0.0 is not a routable address", e)
		}
		if seen[int32(id)] {
			return nil, fmt.Errorf("voter id %d appears twice", id)
		}
		seen[int32(id)] = true
		out = append(out, Voter{ID: int32(id), Host: hp.Host, Port: hp.Port})
	}
	return out, nil
}

// defaultProtocolMap is Kafka's default listener.security.protocol.map: each security
// protocol is also a listener name mapping to itself.
const defaultProtocolMap = "PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL"

// parseProtocolMap parses NAME:PROTOCOL pairs. Names are upper-cased like listener names.
func parseProtocolMap(s string) (map[string]SecurityProtocol, error) {
	m := map[string]SecurityProtocol{}
	for _, e := range splitList(javaTrim(s)) {
		if e == "" {
			continue
		}
		name, proto, ok := strings.Cut(e, ":")
		name, proto = strings.TrimSpace(name), strings.TrimSpace(proto)
		if !ok || name == "" {
			return nil, fmt.Errorf("%q is not NAME:PROTOCOL", e)
		}
		p, ok := parseSecurityProtocol(proto)
		if !ok {
			return nil, fmt.Errorf("%q is not a security protocol", proto)
		}
		m[strings.ToUpper(name)] = p
	}
	return m, nil
}

// parseConnectionOverrides parses max.connections.per.ip.overrides: host:count pairs.
func parseConnectionOverrides(s string) (map[string]int, error) {
	m := map[string]int{}
	for _, e := range splitList(javaTrim(s)) {
		if e == "" {
			continue
		}
		i := strings.LastIndexByte(e, ':')
		if i <= 0 {
			return nil, fmt.Errorf("%q is not host:count", e)
		}
		host, ns := strings.TrimSpace(e[:i]), strings.TrimSpace(e[i+1:])
		n, err := strconv.ParseInt(ns, 10, 32)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("%q: %q is not a connection count", e, ns)
		}
		if !validHost(host) {
			return nil, fmt.Errorf("%q is not a valid host", host)
		}
		m[host] = int(n)
	}
	return m, nil
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
