// Package cluster is `sluice cluster info`: the cluster id, the controller, the brokers
// with their addresses and racks, and topic counts, from one Metadata request (kadm).
//
// The controller is what Metadata reports: on a KRaft cluster, Kafka's brokers and Sluice's
// name a random live broker there, since clients cannot reach a KRaft controller.
//
// It talks to brokers only over the Kafka protocol and imports nothing of the broker.
package cluster
