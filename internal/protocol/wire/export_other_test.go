//go:build !linux

package wire

// SendfileBytes is always zero off Linux.
func SendfileBytes() int64 { return 0 }
