// Package server is the broker's network edge: listeners, connections, the request pipeline
// (responses in request order per connection), SASL, ACL checks and quotas, and one handler
// file per Kafka API key (00_produce.go, 01_fetch.go, …). It translates between the wire types
// of internal/protocol and the domain packages below it; domain errors become Kafka error codes
// in exactly one place.
package server
