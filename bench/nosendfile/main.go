//go:build ignore

// Command nosendfile runs a program with sendfile(2) made to fail with ENOSYS, so a broker
// that sends file regions with sendfile falls back to its copy path (Sluice's wire package
// reads the region with pread into a buffer and writes that). bench/compare.sh uses it to
// measure consume "without sendfile" without a switch in the broker.
//
//	go build -o nosendfile bench/nosendfile/main.go
//	nosendfile sluice serve ...
//
// It installs a seccomp filter (the child inherits it across exec) and execs the program.
// Linux on amd64 or arm64 only.
package main

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: nosendfile PROGRAM [ARGS...]")
		os.Exit(2)
	}
	path, err := exec.LookPath(os.Args[1])
	if err != nil {
		fail(err)
	}
	var arch uint32
	switch runtime.GOARCH {
	case "amd64":
		arch = 0xc000003e // AUDIT_ARCH_X86_64
	case "arm64":
		arch = 0xc00000b7 // AUDIT_ARCH_AARCH64
	default:
		fail(fmt.Errorf("unsupported architecture %s", runtime.GOARCH))
	}
	const (
		offNr   = 0 // struct seccomp_data: nr, arch, ...
		offArch = 4
	)
	stmt := func(code uint16, k uint32) unix.SockFilter { return unix.SockFilter{Code: code, K: k} }
	jump := func(code uint16, k uint32, jt, jf uint8) unix.SockFilter {
		return unix.SockFilter{Code: code, Jt: jt, Jf: jf, K: k}
	}
	prog := []unix.SockFilter{
		stmt(unix.BPF_LD|unix.BPF_W|unix.BPF_ABS, offArch),
		jump(unix.BPF_JMP|unix.BPF_JEQ|unix.BPF_K, arch, 1, 0),
		stmt(unix.BPF_RET|unix.BPF_K, unix.SECCOMP_RET_ALLOW), // another ABI: leave it alone
		stmt(unix.BPF_LD|unix.BPF_W|unix.BPF_ABS, offNr),
		jump(unix.BPF_JMP|unix.BPF_JEQ|unix.BPF_K, unix.SYS_SENDFILE, 0, 1),
		stmt(unix.BPF_RET|unix.BPF_K, unix.SECCOMP_RET_ERRNO|uint32(unix.ENOSYS)),
		stmt(unix.BPF_RET|unix.BPF_K, unix.SECCOMP_RET_ALLOW),
	}
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	// The filter belongs to the thread that installs it; exec from that same thread.
	runtime.LockOSThread()
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		fail(fmt.Errorf("no_new_privs: %w", err))
	}
	if _, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, 0, uintptr(unsafe.Pointer(&fprog))); errno != 0 {
		fail(fmt.Errorf("seccomp: %w", errno))
	}
	fail(syscall.Exec(path, os.Args[1:], os.Environ()))
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "nosendfile:", err)
	os.Exit(1)
}
