// Package output formats records for `sluice consume` and `sluice produce`: a printf-like
// format of %-verbs (kcat's and rpk's style) or JSON lines.
//
//	%t topic   %p partition   %o offset   %T timestamp (Unix ms)   %e leader epoch
//	%k key     %v value       %h headers (k=v,k=v)                 %K key size  %V value size
//	%%  a percent sign        \n \r \t \\  newline, carriage return, tab, backslash
//
// A null key prints as nothing (%K: -1). The format "json" prints one JSON object per
// record and line; keys, values and headers are JSON strings (bytes that are not UTF-8
// become U+FFFD). A Format is immutable and safe for concurrent use.
//
// It imports nothing of the broker.
package output
