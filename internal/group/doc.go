// Package group is the group coordinator: the classic consumer group protocol and KIP-848,
// committed offsets, and their persistence in __consumer_offsets using Kafka's own record
// schemas. Each group is a single-owner state machine.
package group
