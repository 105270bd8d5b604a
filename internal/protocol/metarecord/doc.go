// Package metarecord is the KRaft cluster-metadata log's record schemas (TopicRecord,
// PartitionRecord, RegisterBrokerRecord, …), GENERATED from Apache Kafka's specs (spec
// directory metadata/) by internal/protocol/gen, with each record's type id (the spec's
// apiKey, as Type* constants and the APIKey method) and NewRecord(type).
//
// frame.go (hand-written) frames a record the way Kafka's metadata log does, so that
// Sluice's metadata log holds Kafka's own layout:
//
//	uvarint frame version (always 1) | uvarint record type | uvarint record version | record
//
// DecodeFrame refuses frame version 0 (the KRaft preview of Kafka 2.8), types and versions
// above 32767, unknown types and trailing bytes, as Kafka's serde does.
//
// The Go representation follows the rules of package message. This package imports only
// the runtime (wire), never net or the request/response types, so metadata and controller
// code can persist these records without depending on the wire protocol (DESIGN §4).
package metarecord
