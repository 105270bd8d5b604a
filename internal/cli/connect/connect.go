// Package connect holds the connection flags every client command shares (-b/--brokers, and
// later TLS and SASL) and turns them into franz-go client options. A command registers the
// flags on its cobra flag set and calls Opts when it builds its clients, so a new security
// flag reaches every command at once.
//
// The environment is read by the caller (cmd), not here: Register takes a lookup function,
// which keeps tests hermetic and the package free of process-global state.
package connect

import (
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/spf13/pflag"
	"github.com/twmb/franz-go/pkg/kgo"
)

// EnvBrokers names the environment variable that sets the default of --brokers.
const EnvBrokers = "SLUICE_BROKERS"

// DefaultBrokers is the bootstrap list when neither --brokers nor SLUICE_BROKERS is set:
// where `sluice serve` listens with no flags.
const DefaultBrokers = "localhost:9092"

// ErrNoBrokers is returned when the bootstrap list is empty.
var ErrNoBrokers = errors.New("connect: no brokers given")

// ErrBadBroker is returned for a bootstrap address that is not host:port.
var ErrBadBroker = errors.New("connect: broker address must be host:port")

// Flags are the connection settings of one command line.
type Flags struct {
	// Brokers are the bootstrap addresses, host:port.
	Brokers []string
	// ClientID is sent in every request header (Kafka's client.id).
	ClientID string
}

// Register adds the connection flags to fs. getenv looks environment variables up
// (os.Getenv in the binary; nil reads nothing). SLUICE_BROKERS, a comma-separated list,
// replaces the default of --brokers; the flag still wins.
func (f *Flags) Register(fs *pflag.FlagSet, getenv func(string) string) {
	def := DefaultBrokers
	if getenv != nil {
		if v := strings.TrimSpace(getenv(EnvBrokers)); v != "" {
			def = v
		}
	}
	fs.StringSliceVarP(&f.Brokers, "brokers", "b", splitList(def),
		"bootstrap brokers, host:port, comma-separated (env "+EnvBrokers+")")
	fs.StringVar(&f.ClientID, "client-id", "sluice", "client.id sent to the brokers")
}

// Validate checks the bootstrap list.
func (f *Flags) Validate() error {
	var n int
	for _, b := range f.Brokers {
		b = strings.TrimSpace(b)
		if b == "" {
			continue
		}
		if _, port, err := net.SplitHostPort(b); err != nil || port == "" {
			return fmt.Errorf("%w: %q", ErrBadBroker, b)
		}
		n++
	}
	if n == 0 {
		return ErrNoBrokers
	}
	return nil
}

// Opts returns the franz-go options that connect a client as the flags say.
func (f *Flags) Opts() ([]kgo.Opt, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	var seeds []string
	for _, b := range f.Brokers {
		if b = strings.TrimSpace(b); b != "" {
			seeds = append(seeds, b)
		}
	}
	opts := []kgo.Opt{kgo.SeedBrokers(seeds...)}
	if f.ClientID != "" {
		opts = append(opts, kgo.ClientID(f.ClientID))
	}
	return opts, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
