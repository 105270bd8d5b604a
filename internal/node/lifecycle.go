package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/controller"
	"github.com/sluicehq/sluice/internal/metadata"
)

// Controller RPC pacing. The heartbeat interval is broker.heartbeat.interval.ms; these are the
// waits between retries of a call the controller could not take (not yet elected, a previous
// incarnation's session still alive) and between heartbeats during controlled shutdown,
// where the broker waits on the controller and nothing else.
const (
	retryBackoff         = 50 * time.Millisecond
	maxRetryBackoff      = time.Second
	shutdownPollInterval = 20 * time.Millisecond
)

// lifecycle is the broker's side of its registration with the controller (Kafka's
// BrokerLifecycleManager): register fenced, heartbeat every broker.heartbeat.interval.ms,
// unfence when ready, controlled shutdown at the end. It owns one goroutine, the heartbeat
// loop, which stop ends and waits for.
type lifecycle struct {
	n           *Node
	cfg         *config.Broker
	incarnation metadata.UUID
	epoch       atomic.Int64

	// wantFence is true until the broker is ready to lead partitions; heartbeats ask the
	// controller to keep it fenced meanwhile.
	wantFence atomic.Bool

	// mu serialises controller calls between the loop, unfence and stop, so that a
	// re-registration and a heartbeat never race on the epoch.
	mu sync.Mutex

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func newLifecycle(n *Node, cfg *config.Broker) *lifecycle {
	l := &lifecycle{n: n, cfg: cfg, incarnation: metadata.RandomUUID()}
	l.wantFence.Store(true)
	return l
}

// endpoints are the advertised (client and inter-broker) listeners, registered with the
// controller and handed to clients in Metadata. An empty host means this machine's name, as
// in Kafka.
func (l *lifecycle) endpoints() ([]metadata.Endpoint, error) {
	var eps []metadata.Endpoint
	for _, a := range l.n.static.AdvertisedListeners {
		host := a.Host
		if host == "" {
			h, err := os.Hostname()
			if err != nil {
				return nil, fmt.Errorf("advertised listener %s has no host and the host name is unknown: %w", a.Name, err)
			}
			host = h
		}
		eps = append(eps, metadata.Endpoint{
			Name: a.Name, Host: host, Port: uint16(a.Port), SecurityProtocol: securityProtocolID(a.SecurityProtocol),
		})
	}
	return eps, nil
}

// register registers this incarnation, retrying while the controller cannot take it yet
// (no leader elected, or the previous incarnation's session still alive after a crash: the
// controller lets it expire, broker.session.timeout.ms, as Kafka's does).
func (l *lifecycle) register(ctx context.Context) error {
	eps, err := l.endpoints()
	if err != nil {
		return err
	}
	reg := controller.Registration{
		BrokerID:      l.cfg.NodeID,
		IncarnationID: l.incarnation,
		Endpoints:     eps,
		Rack:          l.cfg.Rack,
		Features:      supportedFeatures(),
	}
	backoff := retryBackoff
	warned := false
	for {
		epoch, err := l.n.ctrl.RegisterBroker(ctx, reg)
		lastErr := err
		if err == nil {
			l.epoch.Store(epoch)
			l.n.log.Info("broker registered", slog.Int64("broker_epoch", epoch),
				slog.String("incarnation_id", l.incarnation.String()))
			return nil
		}
		retriable := errors.Is(err, controller.ErrNotController) || errors.Is(err, controller.ErrDuplicateBrokerRegistration)
		if !retriable {
			return err
		}
		if errors.Is(err, controller.ErrDuplicateBrokerRegistration) && !warned {
			warned = true
			l.n.log.Warn("a previous incarnation of this broker still holds a session (it did not stop cleanly); waiting for it to expire",
				slog.Duration("broker.session.timeout.ms", l.cfg.Quorum.BrokerSessionTimeout))
		}
		if err := sleep(ctx, backoff); err != nil {
			return fmt.Errorf("%w (last error: %w)", err, lastErr)
		}
		backoff = min(2*backoff, maxRetryBackoff)
	}
}

// start starts the heartbeat loop.
func (l *lifecycle) start() {
	ctx, cancel := context.WithCancel(context.Background())
	l.cancel = cancel
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		l.loop(ctx)
	}()
}

func (l *lifecycle) loop(ctx context.Context) {
	interval := l.cfg.Quorum.BrokerHeartbeatInterval
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := l.heartbeat(ctx, false); err != nil && ctx.Err() == nil {
			l.n.log.Warn("broker heartbeat failed", slog.Any("err", err))
		}
	}
}

// heartbeat sends one heartbeat, re-registering when the controller no longer knows this
// incarnation's epoch (for example after it fenced the broker and a new registration
// replaced it).
func (l *lifecycle) heartbeat(ctx context.Context, wantShutdown bool) (controller.HeartbeatResult, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	res, err := l.n.ctrl.BrokerHeartbeat(ctx, controller.Heartbeat{
		BrokerID:       l.cfg.NodeID,
		BrokerEpoch:    l.epoch.Load(),
		MetadataOffset: int64(l.n.fsm.Current().Offset),
		WantFence:      l.wantFence.Load(),
		WantShutdown:   wantShutdown,
	})
	if errors.Is(err, controller.ErrStaleBrokerEpoch) || errors.Is(err, controller.ErrBrokerIDNotRegistered) {
		l.n.log.Warn("the controller lost this broker's registration; registering again", slog.Any("err", err))
		if rerr := l.register(ctx); rerr != nil {
			return res, rerr
		}
		return res, err
	}
	return res, err
}

// unfence asks to be unfenced and heartbeats until the controller agrees. It returns the
// metadata offset of the change (leaders elected for our partitions) to wait for.
func (l *lifecycle) unfence(ctx context.Context) (uint64, error) {
	l.wantFence.Store(false)
	backoff := retryBackoff
	for {
		res, err := l.heartbeat(ctx, false)
		if err == nil && !res.IsFenced {
			off := max(res.Offset, uint64(l.epoch.Load()))
			l.n.log.Debug("broker unfenced", slog.Uint64("metadata_offset", off))
			return off, nil
		}
		if err != nil && !errors.Is(err, controller.ErrNotController) &&
			!errors.Is(err, controller.ErrStaleBrokerEpoch) && !errors.Is(err, controller.ErrBrokerIDNotRegistered) {
			return 0, err
		}
		if err := sleep(ctx, backoff); err != nil {
			return 0, err
		}
		backoff = min(2*backoff, maxRetryBackoff)
	}
}

// stop performs controlled shutdown (leadership moves away, then the broker asks to be
// fenced, so that the next start's registration is accepted at once) and ends the heartbeat
// loop. If ctx ends first, the broker simply stops heartbeating; the controller fences it
// after broker.session.timeout.ms.
func (l *lifecycle) stop(ctx context.Context) error {
	if l.cancel != nil {
		l.cancel()
		l.wg.Wait()
	}
	if l.epoch.Load() == 0 {
		return nil // never registered
	}
	for {
		res, err := l.heartbeat(ctx, true)
		if err == nil && res.ShouldShutdown {
			break
		}
		if err != nil && (errors.Is(err, controller.ErrClosed) || errors.Is(err, controller.ErrBrokerIDNotRegistered)) {
			return nil
		}
		if err := sleep(ctx, shutdownPollInterval); err != nil {
			return fmt.Errorf("controller did not confirm controlled shutdown: %w", err)
		}
	}
	l.wantFence.Store(true)
	if _, err := l.heartbeat(ctx, true); err != nil {
		return fmt.Errorf("fencing at shutdown: %w", err)
	}
	return nil
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// supportedFeatures are the feature ranges this broker registers and reports in ApiVersions:
// metadata.version from 3.3-IV3 (7, the lowest Kafka 4 runs) to the level Sluice writes.
func supportedFeatures() []metadata.Feature {
	return []metadata.Feature{{Name: metadata.MetadataVersionFeature, Min: 7, Max: metadata.MetadataVersionLevel}}
}

// securityProtocolID is Kafka's SecurityProtocol id.
func securityProtocolID(p config.SecurityProtocol) int16 {
	switch p {
	case config.SSL:
		return 1
	case config.SASLPlaintext:
		return 2
	case config.SASLSSL:
		return 3
	}
	return 0
}
