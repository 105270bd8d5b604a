// Package group is `sluice group list|describe|seek|delete`: consumer group administration
// with franz-go's kadm, in the manner of rpk and Kafka's kafka-consumer-groups tool.
//
//   - list: every group with its coordinator and state (ListGroups on every broker).
//   - describe: state, protocol and members, and per partition the committed offset, the
//     log start and end offsets, the lag and the member that owns it (kadm's Lag).
//   - seek: commits new offsets for a group (start, end, an offset, or a time) for the
//     topics it has offsets for or those named with --topics. As Kafka's tool requires,
//     the group must have no members (Empty, or Dead: unknown to the coordinator); an
//     offset outside the log is moved to its nearest end, as Kafka's tool does.
//   - delete: deletes empty groups and their committed offsets.
//
// It talks to brokers only over the Kafka protocol and imports nothing of the broker.
package group
