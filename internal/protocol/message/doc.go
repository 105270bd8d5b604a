// Package message is the Kafka wire protocol's request and response types, GENERATED from
// Apache Kafka's message specs (spec directory message/) by internal/protocol/gen: every
// API key at every version the specs list, the request header (v0-v2) and response header
// (v0-v1), the "data" schemas carried inside other messages (ConsumerProtocolSubscription
// and Assignment, DefaultPrincipalData, the KRaft control records), and ONE table of API
// keys (APIs, LookupAPI, Key* constants, NewRequest, NewResponse, RequestHeaderVersion,
// ResponseHeaderVersion). message.go holds the hand-written framing helpers
// (DecodeRequest, EncodeRequest, EncodeResponse). Do not edit *_gen.go; run `make generate`.
//
// Go representation, one rule for every message:
//
//   - Field names are the spec's names with the first letter upper-cased (TopicId, not
//     TopicID), so the spec and Kafka's documentation can be searched with them.
//   - Null is nil: a field nullable in some version is a pointer (*string, *Struct), a nil
//     slice ([]byte, []T) or a null wire.RecordSet (its zero value). Encoding a nil in a
//     version where the field is not nullable fails with wire.ErrNullNotAllowed. A field
//     that is never nullable uses a plain type; a nil slice there just means empty.
//   - New<Type>() and Default() give the spec's defaults (a nullable field whose default
//     is not null starts non-nil and empty).
//   - Decode resets the message and fills only the fields of that version; the rest keep
//     their defaults. Decoded bytes and records alias the input buffer.
//   - Encode writes only the fields of that version. A non-default value in a field the
//     version lacks fails with wire.ErrFieldNotInVersion unless the spec marks the field
//     ignorable, as Kafka's own serializer does (a dropped validateOnly would change a
//     request's meaning). Struct-typed fields are compared with their defaults field by
//     field. Known tagged fields are written when they differ from their default.
//   - Unknown tagged fields are kept in UnknownTags and written back in tag order.
//   - mapKey arrays are ordinary slices; entityType is ignored.
//
// Struct tags (`kafka:"name=…,versions=…,nullable=…,tag=…"`) repeat the spec's version
// information for tests and tools; the codec does not read them.
//
// This package imports the runtime (wire) only. Layers that must not see the protocol
// (storage, replica, metadata, controller) must not import it.
package message
