// Package record handles Kafka's RecordBatch v2 as byte slices: a header view with
// validation and CRC32C, in-place offset and leader-epoch assignment, compression codecs,
// record iteration, produce-path validation, and a batch builder for internal topics,
// control records and compaction.
//
// It owns no files and does no I/O. It must not import net, the protocol codec or storage.
//
// # What it offers
//
//   - Parse / ParseSingle: structure (length, magic 2, count vs offset span, codec) and
//     CRC of a batch, without allocating. Batch reads and writes header fields in place.
//   - Decompress: the records section of a batch, bounded by a caller's limit.
//     Compress / Recompress: the other direction.
//   - RecordIter: records one by one, every varint and length bounds-checked, nothing
//     allocated; Key, Value, headers and the raw record are sub-slices of the input.
//   - Builder: writes batches (internal topics, control records, compaction rewrites).
//     AppendEndTxnMarker / ReadEndTxnMarker: transaction markers.
//   - ValidateProduce: Kafka's LogValidator checks for a client's batch, each failure a
//     distinct sentinel (or *RecordErrors for per-record ones) that the server maps to a
//     Kafka error code.
//
// # Invariants
//
//   - Hot paths allocate nothing per record: Parse, RecordIter and ValidateProduce of an
//     uncompressed batch allocate nothing at all; codecs are pooled.
//   - Nothing a batch claims is trusted: lengths and counts are checked against the bytes
//     that remain before they are used, and decompression never produces more than the
//     caller's limit. Sizes that frames declare (LZ4 content size, zstd frame content
//     size and block headers, snappy block lengths, the sum over xerial blocks) are
//     checked before any output is allocated, so a few bytes claiming a GiB cost nothing.
//   - Results alias their inputs (Batch, Record fields, Decompress of an uncompressed
//     batch); callers copy what must outlive the input.
//   - Batches this package writes are what Kafka writes: Sluice's end-transaction marker
//     is byte-identical to Kafka's, snappy is written as raw blocks (readable by every
//     client, as franz-go writes it) and LZ4 as a frame of independent 64 KiB blocks.
//
// # RecordBatch v2 (all integers big-endian)
//
//	offset  size  field
//	     0     8  baseOffset            assigned by the leader; outside the CRC
//	     8     4  batchLength           bytes after this field (total size - 12)
//	    12     4  partitionLeaderEpoch  assigned by the leader; outside the CRC
//	    16     1  magic                 always 2
//	    17     4  crc                   CRC32C (Castagnoli) of bytes 21..end
//	    21     2  attributes            bits 0-2 codec (0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd)
//	                                    bit 3 timestamp type (1 = LogAppendTime)
//	                                    bit 4 transactional, bit 5 control
//	                                    bit 6 delete horizon set (baseTimestamp holds it)
//	    23     4  lastOffsetDelta
//	    27     8  baseTimestamp
//	    35     8  maxTimestamp
//	    43     8  producerId            -1 when not idempotent
//	    51     2  producerEpoch
//	    53     4  baseSequence          -1 when not idempotent
//	    57     4  recordCount
//	    61     …  records               compressed as a whole when the codec is not none
//
// # Record (inside the records section, after decompression)
//
//	length          varint   bytes after this field
//	attributes      int8     unused, 0
//	timestampDelta  varlong  from baseTimestamp
//	offsetDelta     varint   from baseOffset
//	keyLength       varint   -1 for a null key
//	key             bytes
//	valueLength     varint   -1 for a null value (a tombstone)
//	value           bytes
//	headerCount     varint
//	headers         headerKeyLength varint, key, headerValueLength varint, value
//
// Varints are zigzag-encoded (as encoding/binary.PutVarint). A record's timestamp is
// maxTimestamp for a LogAppendTime batch, else baseTimestamp + timestampDelta (with a
// delete horizon, baseTimestamp is the horizon and the deltas are relative to it); its
// offset is baseOffset + offsetDelta.
//
// # Control records
//
// A control batch (attribute bit 5) holds records whose key is
//
//	version  int16  0
//	type     int16  0 abort, 1 commit, 2 leader change, 3 snapshot header,
//	                4 snapshot footer, 5 KRaft version, 6 KRaft voters
//
// An end-transaction marker is a transactional control batch, uncompressed, CreateTime,
// baseSequence -1, with one record at offset delta 0: key (0, 0 or 1) and value
//
//	version           int16  0
//	coordinatorEpoch  int32
//
// Readers accept key and value versions above 0 as version 0 (later versions may only
// append fields), as Kafka does.
//
// # Snappy framing
//
// Snappy payloads come in two shapes. franz-go and librdkafka send one raw snappy block
// (a uvarint decoded length, then the snappy tags). The Java producer sends snappy-java's
// stream framing:
//
//	magic       8 bytes  0x82 'S' 'N' 'A' 'P' 'P' 'Y' 0x00
//	version     int32    1
//	compatible  int32    1
//	blocks      repeated until the end:
//	              length  int32  size of the block that follows
//	              block   raw snappy block (snappy-java writes 32 KiB chunks)
//
// The magic cannot begin a valid raw block (it would decode a copy before any literal),
// so the first eight bytes tell the shapes apart. Snappy blocks that use S2's repeat-offset
// extension are rejected: Java and librdkafka consumers cannot read them.
//
// LZ4 is one LZ4 frame (magic 0x184D2204, frame descriptor, blocks, end mark) of
// independent blocks without a dictionary, the only shape Kafka's Java reader decodes;
// gzip is RFC 1952 (several members allowed); zstd is RFC 8878 frames (several allowed,
// skippable ones too), with windows above 2^27 refused as Java's zstd does. Like the S2
// check, these refusals keep a batch that Java consumers could not read out of the log.
//
// # Differences from Kafka
//
//   - Client batches whose record offset deltas are not 0..n-1 are rejected
//     (ErrOffsetDeltas); Kafka silently rewrites compressed ones and ignores
//     uncompressed ones.
//   - Varints that overflow int32 (5-byte encodings with high bits set) are corrupt; Kafka's
//     Java reader truncates them.
//   - Partition data with bytes after its one batch is rejected (ErrBatchCount); Kafka
//     ignores a trailing partial batch.
//   - Per-record errors are collected up to 64 per batch (Kafka returns all).
package record
