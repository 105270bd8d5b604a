// Package txnrecord is the key and value schemas of the __transaction_state topic
// (TransactionLogKey, TransactionLogValue), GENERATED from Apache Kafka's specs (spec
// directory transaction/) by internal/protocol/gen.
//
// Framing, as Kafka writes it: an int16 version then the body, for keys and values alike;
// key version 0 is TransactionLogKey, whose value is TransactionLogValue; a null value is a
// tombstone. DecodeKey, DecodeValue, AppendKey and AppendValue do this.
//
// The Go representation follows the rules of package message. This package imports only
// the runtime (wire).
package txnrecord
