// Package record handles Kafka's RecordBatch v2 as byte slices: a header view with
// validation and CRC32C, in-place offset and leader-epoch assignment, compression codecs,
// record iteration and a batch builder for internal topics and control records.
//
// It owns no files and does no I/O. It must not import net, the protocol codec or storage.
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
// A control batch holds one record whose key is (version int16, type int16: 0 abort,
// 1 commit) and whose value is (version int16, coordinatorEpoch int32).
package record
