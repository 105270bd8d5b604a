// Package replica is one partition replica on a broker: leader and follower state, log end
// offset and high watermark, ISR tracking, leader epochs, producer state for idempotence,
// delayed produce and fetch, and the follower fetcher. It sits on internal/storage and must
// not import net or the generated request/response types.
package replica
