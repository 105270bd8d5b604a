package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/node"
	"github.com/sluicehq/sluice/internal/obs"
)

// defaultShutdownTimeout bounds a graceful stop: requests in flight are answered and the
// logs closed cleanly within it. Past it, connections are cut; the logs are still closed.
const defaultShutdownTimeout = 30 * time.Second

type serveFlags struct {
	configPath      string
	overrides       []string
	shutdownTimeout time.Duration
}

func newServeCmd() *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run a Sluice node (a single-node cluster by default)",
		Long: `Run a Sluice node until SIGTERM or SIGINT.

With no flags it is a complete single-node cluster: broker and controller in one process,
clients on localhost:9092, the controller quorum on localhost:9093, data in ./sluice-data.

--config reads a server.properties file with Apache Kafka's property names; --override
key=value (repeatable) sets one key on top of it (or of the single-node defaults). Unknown
keys are warned about; an invalid value stops the start with exit code 2.

The first SIGTERM or SIGINT stops the node gracefully: it stops accepting connections,
answers the requests already received, hands its partitions back to the controller, and
closes its logs cleanly so that the next start needs no recovery. A second signal exits at
once.`,
		Example: `  sluice serve
  sluice serve --config server.properties
  sluice serve --override listeners=PLAINTEXT://:9092,CONTROLLER://:9093 --override log.dirs=/var/lib/sluice`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return serve(cmd.Context(), f, cmd.ErrOrStderr())
		},
	}
	cmd.Flags().StringVar(&f.configPath, "config", "", "server.properties file (Kafka's property names); default: the single-node defaults")
	cmd.Flags().StringArrayVar(&f.overrides, "override", nil, "set a config key, key=value (repeatable; wins over --config)")
	cmd.Flags().DurationVar(&f.shutdownTimeout, "shutdown-timeout", defaultShutdownTimeout, "how long a graceful stop may take before connections are cut")
	defaultHelp := cmd.HelpFunc()
	cmd.SetHelpFunc(func(c *cobra.Command, args []string) {
		defaultHelp(c, args)
		w := c.OutOrStdout()
		fmt.Fprintln(w, "\nConfiguration keys (server.properties / --override):")
		fmt.Fprintln(w)
		if err := config.RenderText(w); err != nil {
			fmt.Fprintf(c.ErrOrStderr(), "sluice: rendering the config reference: %v\n", err)
		}
	})
	return cmd
}

func serve(parent context.Context, f serveFlags, stderr io.Writer) error {
	cfg, warns, err := config.Load(f.configPath, f.overrides)
	if err != nil {
		return &exitError{code: exitUsage, err: fmt.Errorf("invalid configuration:\n%w", indent(err))}
	}
	level := new(slog.LevelVar)
	level.Set(cfg.LoggerLevel)
	logger, err := obs.NewLogger(stderr, level, cfg.LoggerFormat)
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	for _, w := range warns {
		logger.Warn("config: " + w.String())
	}

	// The first signal cancels startup or begins a graceful stop; the second exits at once.
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sigs)
	if parent == nil {
		parent = context.Background()
	}
	startCtx, cancelStart := context.WithCancel(parent)
	defer cancelStart()
	stopping := make(chan os.Signal, 1)
	done := make(chan struct{})
	defer close(done)
	go func() { // ends when serve returns
		select {
		case first := <-sigs:
			stopping <- first
			cancelStart()
		case <-done:
			return
		}
		select {
		case second := <-sigs:
			logger.Error("second signal: exiting now without a clean shutdown", slog.String("signal", second.String()))
			os.Exit(exitFailed)
		case <-done:
		}
	}()

	n, err := node.Start(startCtx, cfg, node.Options{Logger: logger, LogLevel: level})
	if err != nil {
		if startCtx.Err() != nil && parent.Err() == nil {
			logger.Info("Sluice stopped during startup")
			return nil
		}
		code := exitFailed
		if errors.Is(err, node.ErrUnsupported) {
			code = exitUsage
		}
		return &exitError{code: code, err: err}
	}
	logStarted(logger, cfg, n)

	select {
	case sig := <-stopping:
		logger.Info("shutting down", slog.String("signal", sig.String()))
	case <-parent.Done():
		logger.Info("shutting down", slog.String("reason", parent.Err().Error()))
	case <-n.Done():
		err := n.Wait()
		return &exitError{code: exitFailed, err: fmt.Errorf("the node stopped by itself: %v", err)}
	}
	began := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), f.shutdownTimeout)
	defer cancel()
	if err := n.Close(ctx); err != nil {
		return &exitError{code: exitFailed, err: fmt.Errorf("shutdown was not clean: %w", err)}
	}
	logger.Info("Sluice stopped cleanly", slog.Duration("took", time.Since(began).Round(time.Millisecond)))
	return nil
}

// logStarted writes the one line that says the node is ready, with what an operator needs
// to reach and find it.
func logStarted(logger *slog.Logger, cfg *config.Broker, n *node.Node) {
	var listeners []string
	for _, l := range n.Config().Listeners {
		addr := l.Addr()
		if a := n.Addr(l.Name); a != nil {
			addr = a.String()
		}
		listeners = append(listeners, l.Name+"://"+addr)
	}
	var advertised []string
	for _, l := range n.Config().AdvertisedListeners {
		advertised = append(advertised, l.String())
	}
	previous := "unclean (logs recovered)"
	switch {
	case n.FirstStart():
		previous = "none (new data directory)"
	case n.HadCleanShutdown():
		previous = "clean"
	}
	metricsURL := "off (sluice.metrics.listener is empty)"
	if a := n.MetricsAddr(); a != nil {
		metricsURL = "http://" + a.String() + "/metrics"
	}
	logger.Info("Sluice started",
		slog.String("listeners", strings.Join(listeners, ",")),
		slog.String("advertised", strings.Join(advertised, ",")),
		slog.String("data_dir", strings.Join(cfg.LogDirs, ",")),
		slog.String("cluster_id", n.ClusterID()),
		slog.Int("node_id", int(cfg.NodeID)),
		slog.String("roles", roles(cfg)),
		slog.String("previous_shutdown", previous),
		slog.String("metrics", metricsURL),
		slog.String("version", versionString()),
	)
}

func roles(cfg *config.Broker) string {
	var r []string
	if cfg.Roles.Broker {
		r = append(r, "broker")
	}
	if cfg.Roles.Controller {
		r = append(r, "controller")
	}
	return strings.Join(r, ",")
}

// indent puts each line of a (possibly joined) config error on its own indented line.
func indent(err error) error {
	lines := strings.Split(err.Error(), "\n")
	for i, l := range lines {
		lines[i] = "  " + l
	}
	return errors.New(strings.Join(lines, "\n"))
}
