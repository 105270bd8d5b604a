// Package config turns a server.properties file and flags into typed, validated configs,
// using Kafka's own property names. Each key has one typed definition (type, default,
// validator, dynamic or not, documentation) from which --help and docs/CONFIG.md are made.
// Only cmd and config read files, flags or the environment.
package config
