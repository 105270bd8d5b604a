// Package obs sets up observability: the slog logger (NewLogger) and, with issue 6, the
// Prometheus registry and the metric structs the other packages are given (server.Observer
// is the hook the network edge already calls; a Prometheus implementation of it belongs
// here). Nothing here is global: cmd builds the logger once and injects it.
//
// It must not import the domain packages; they receive what it builds.
package obs
