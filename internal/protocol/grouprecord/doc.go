// Package grouprecord is the key and value schemas of the __consumer_offsets topic,
// GENERATED from Apache Kafka's specs (spec directory group/) by internal/protocol/gen:
// OffsetCommitKey/Value, GroupMetadataKey/Value (classic groups), the KIP-848 consumer-group
// records and the KIP-932 share-group records.
//
// Framing, as Kafka writes it: a key is an int16 version followed by the key body, and the
// key's version selects the record type (OffsetCommitKey is key version 0 or 1,
// GroupMetadataKey 2, ConsumerGroupMetadataKey 3, … see the KeyVersion* constants). A value
// is an int16 version followed by the value body of the type that pairs with the key; a
// null value is a tombstone. DecodeKey, DecodeValue, AppendKey and AppendValue do this.
//
// The Go representation follows the rules of package message. This package imports only
// the runtime (wire): the group coordinator persists these without the request types.
package grouprecord
