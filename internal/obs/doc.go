// Package obs sets up observability: the slog logger and the Prometheus registry with the
// metric structs the other packages are given. Nothing here is global.
package obs
