//go:build !linux

package wire

import "io"

// sendRegion never applies off Linux; WriteChunks copies regions with pread instead.
func sendRegion(io.Writer, FileRegion) (int64, bool, error) { return 0, false, nil }
