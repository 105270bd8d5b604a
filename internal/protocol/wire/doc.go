// Package wire is the hand-written runtime under Sluice's generated Kafka codec: the
// primitive encodings of the Kafka protocol (fixed-width integers, varints, UUIDs, classic
// and compact strings, bytes and arrays, tagged-field sections and record sets), request
// frame reading, and the writer that splices file regions into an encoded response so the
// fetch path can send segment bytes with sendfile.
//
// Invariants:
//
//   - Every input byte is hostile. A Reader checks each length, count and tag count against
//     the bytes that remain BEFORE it allocates or the caller loops: an array of n elements
//     whose elements take at least m bytes each needs n*m bytes, a tagged field needs at
//     least 2, a string of length n needs n. A claim that cannot fit fails at once, so a
//     tiny frame that claims 2^32 elements costs microseconds and no memory.
//   - Errors are sticky: after the first failure every read returns a zero value and Err
//     reports the failure (wrapping one of the Err* sentinels with the offset). Generated
//     decoders check Err before allocating for a count.
//   - Decoded bytes and records alias the input buffer (no copy): a decoded message is valid
//     only as long as the caller keeps that buffer unchanged. Strings are copied.
//   - Nothing here imports net: packages that persist records (metadata, group, txn) import
//     the generated record packages, which import this one, and DESIGN §4 keeps the network
//     out of them. Sendfile works on any io.Writer that implements syscall.Conn.
package wire
