// Package controller is the active controller: it decides what goes into the metadata log
// (topic placement, leader election, ISR changes, broker fencing, reassignment, preferred
// leader balancing, producer-id blocks). It runs as a single-owner loop on the raft leader.
// It must not import net or the generated request/response types.
package controller
