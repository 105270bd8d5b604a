// Package obs sets up logging: the slog logger (NewLogger). Nothing here is global: cmd
// builds the logger once and injects it. Metrics live in internal/metrics (a Prometheus
// registry per node, the server.Observer implementation, pull collectors over the domain
// packages), which sits beside internal/node because it reads the domain packages.
//
// It must not import the domain packages; they receive what it builds.
package obs
