// Package sharerecord is the key and value schemas of the __share_group_state topic
// (KIP-932 ShareSnapshot and ShareUpdate records), GENERATED from Apache Kafka's specs
// (spec directory share/) by internal/protocol/gen. It costs nothing beyond the generator
// that already serves grouprecord and txnrecord; no Sluice code uses it yet.
//
// Framing: an int16 version then the body; the key version selects the record type
// (ShareSnapshotKey 0, ShareUpdateKey 1). The Go representation follows the rules of
// package message. This package imports only the runtime (wire).
package sharerecord
