// Package logdump is `sluice log dump FILE...`: prints the contents of partition log files
// offline, as Kafka's kafka-dump-log tool does, reading them directly (no broker).
//
//   - .log: one line per record batch (offsets, count, producer id/epoch/sequences, leader
//     epoch, flags, position, timestamp, size, compression, CRC and whether it is valid);
//     with --records one line per record (offset, timestamp, key and value sizes, sequence,
//     header keys, and for control records the marker), with --print-data also keys and
//     values (printable UTF-8 as is, anything else quoted). Compressed batches are
//     decompressed with internal/record, bounded by --max-batch-bytes.
//   - .index: offset → position entries; .timeindex: timestamp → offset entries (both stop at
//     the zero entries a preallocated index ends with).
//   - .snapshot: the producer state entries (Kafka's version 1 layout).
//
// The byte layouts are those drawn in internal/storage/doc.go; this package reads them
// itself (read-only) instead of importing storage, which opens logs for writing. A batch
// whose CRC or structure is wrong is printed with isValid: false and the dump goes on; bytes
// at the end that do not make a whole batch are reported. Either makes the command fail
// (exit 1) after the dump, so scripts notice a damaged segment.
//
// Memory is bounded by one batch (--max-batch-bytes) and its decompressed records (the same
// bound); files are streamed.
package logdump
