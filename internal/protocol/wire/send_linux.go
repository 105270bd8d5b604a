//go:build linux

package wire

import (
	"errors"
	"io"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"
)

// maxSendfileBytes caps one sendfile call; Linux transfers at most about 2 GiB per call.
const maxSendfileBytes = 1 << 30

// sendfileBytes counts bytes sent by sendfile, so tests can tell the zero-copy path ran.
var sendfileBytes atomic.Int64

// sendRegion sends r to dst with sendfile(2) when dst exposes a file descriptor. It reads
// the file at an explicit offset (the kernel advances our local copy, never the file's
// shared position), waits for writability on EAGAIN through the runtime poller, and resumes
// after partial writes. handled is false when sendfile does not apply (dst is not a
// syscall.Conn, or the kernel refuses this pair of descriptors before sending anything);
// the caller then copies the rest of the region, n bytes in.
func sendRegion(dst io.Writer, r FileRegion) (n int64, handled bool, err error) {
	sc, ok := dst.(syscall.Conn)
	if !ok {
		return 0, false, nil
	}
	dstRaw, err := sc.SyscallConn()
	if err != nil {
		return 0, false, nil
	}
	srcRaw, err := r.File.SyscallConn()
	if err != nil {
		return 0, false, nil
	}
	off, remain := r.Offset, r.Length
	var sendErr error
	unsupported := false
	ctlErr := srcRaw.Control(func(srcFd uintptr) {
		writeErr := dstRaw.Write(func(dstFd uintptr) bool {
			for remain > 0 {
				count := remain
				if count > maxSendfileBytes {
					count = maxSendfileBytes
				}
				m, e := unix.Sendfile(int(dstFd), int(srcFd), &off, int(count))
				if m > 0 {
					sendfileBytes.Add(int64(m))
					n += int64(m)
					remain -= int64(m)
				}
				switch {
				case e == unix.EAGAIN:
					return false // wait until the socket can take more
				case e == unix.EINTR:
					continue
				case e == unix.EINVAL || e == unix.ENOSYS || e == unix.EOPNOTSUPP:
					if n == 0 {
						unsupported = true
					} else {
						sendErr = e
					}
					return true
				case e != nil:
					sendErr = e
					return true
				case m == 0:
					sendErr = ErrShortFile // the file ends before the region does
					return true
				}
			}
			return true
		})
		if writeErr != nil && sendErr == nil {
			sendErr = writeErr
		}
	})
	if ctlErr != nil && sendErr == nil {
		sendErr = ctlErr
	}
	if unsupported {
		return 0, false, nil
	}
	if sendErr != nil {
		if errors.Is(sendErr, ErrShortFile) {
			return n, true, sendErr
		}
		return n, true, &sendfileError{err: sendErr}
	}
	return n, true, nil
}

type sendfileError struct{ err error }

func (e *sendfileError) Error() string { return "wire: sendfile: " + e.err.Error() }
func (e *sendfileError) Unwrap() error { return e.err }
