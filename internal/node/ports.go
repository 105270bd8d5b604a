package node

import (
	"fmt"
	"net"
	"slices"

	"github.com/sluicehq/sluice/internal/config"
)

// resolvePorts gives every listener configured with port 0 a concrete free port, and
// carries it into the advertised listeners and this node's controller.quorum.voters entry.
//
// Why: the broker must be registered with its advertised endpoints, and unfenced, before the
// server takes its first request (a client must never see a cluster without this broker), and
// the server opens and serves a listener in one step. So the port is chosen first: the OS
// picks a free one for a probe socket, which is closed, and the server binds that port later
// in Start. Another process can take the port in between only by binding it explicitly or
// by exhausting the ephemeral range (Linux hands out odd ports to bind(0) and even ones to
// connect), in which case Start fails with "address already in use" and can be retried.
// Listeners with a fixed port (every real deployment) are not touched.
func resolvePorts(cfg *config.Broker) (*config.Broker, map[string]int, error) {
	ports := map[string]int{}
	for _, l := range cfg.Listeners {
		if l.Port != 0 {
			continue
		}
		ln, err := net.Listen("tcp", l.Addr())
		if err != nil {
			return nil, nil, fmt.Errorf("%w: listener %s: %w", ErrStartup, l, err)
		}
		ports[l.Name] = ln.Addr().(*net.TCPAddr).Port
		ln.Close()
	}
	if len(ports) == 0 {
		return cfg, ports, nil
	}
	return withPorts(cfg, ports), ports, nil
}

// withPorts returns a copy of cfg whose port-0 listeners, advertised listeners and own voter
// entry carry the resolved ports. cfg itself is never modified (config.Broker is immutable).
func withPorts(cfg *config.Broker, ports map[string]int) *config.Broker {
	if len(ports) == 0 {
		return cfg
	}
	c := *cfg
	fix := func(ls []config.Listener) []config.Listener {
		ls = slices.Clone(ls)
		for i := range ls {
			if p, ok := ports[ls[i].Name]; ok && ls[i].Port == 0 {
				ls[i].Port = p
			}
		}
		return ls
	}
	c.Listeners = fix(cfg.Listeners)
	c.AdvertisedListeners = fix(cfg.AdvertisedListeners)
	c.ControllerListeners = fix(cfg.ControllerListeners)
	c.Quorum.Voters = slices.Clone(cfg.Quorum.Voters)
	for i, v := range c.Quorum.Voters {
		if v.ID != cfg.NodeID || v.Port != 0 || len(cfg.ControllerListenerNames) == 0 {
			continue
		}
		if p, ok := ports[cfg.ControllerListenerNames[0]]; ok {
			c.Quorum.Voters[i].Port = p
		}
	}
	return &c
}
