package group

import "unicode/utf16"

// javaStringHashCode is Java's String.hashCode: s[0]*31^(n-1) + … + s[n-1] over the UTF-16
// code units of s, in wrapping int32 arithmetic. Group ids arrive as UTF-8; a character
// outside the BMP is two code units (a surrogate pair) in Java, and so it is here. Invalid
// UTF-8 bytes count as U+FFFD, as Java's decoder replaces them.
func javaStringHashCode(s string) int32 {
	var h int32
	for _, r := range s {
		if r >= 0x10000 {
			hi, lo := utf16.EncodeRune(r)
			h = 31*h + hi
			h = 31*h + lo
			continue
		}
		h = 31*h + r
	}
	return h
}

// partitionFor is Kafka's Utils.abs(groupId.hashCode()) % partitions (Utils.abs maps
// Integer.MIN_VALUE to 0, unlike Math.abs).
func partitionFor(groupID string, partitions int32) int32 {
	if partitions <= 0 {
		return 0
	}
	h := javaStringHashCode(groupID)
	if h == -1<<31 {
		h = 0
	} else if h < 0 {
		h = -h
	}
	return h % partitions
}
