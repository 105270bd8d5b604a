package wire_test

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/protocol/wire"
)

// segment writes size random bytes to a temporary file and returns it open for reading.
func segment(t *testing.T, size int) (*os.File, []byte) {
	t.Helper()
	data := make([]byte, size)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	path := filepath.Join(t.TempDir(), "00000000000000000000.log")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f, data
}

// frame encodes "bytes, then a file region, then bytes" as a response would.
func frame(f *os.File, off, n int64, tag byte) *wire.Writer {
	w := wire.NewWriter(nil)
	at := w.BeginSize()
	w.Int32(int32(tag)) // stands in for the response header and the fields before records
	w.Records(wire.RecordChunks([]wire.Chunk{
		{Bytes: []byte{tag, tag}},
		{Region: wire.FileRegion{File: f, Offset: off, Length: n}},
	}), true)
	w.Int16(int16(tag)) // fields after the records
	w.EndSize(at)
	return w
}

// expected is frame's output with the region filled from data.
func expected(data []byte, off, n int64, tag byte) []byte {
	var buf bytes.Buffer
	w := wire.NewWriter(nil)
	at := w.BeginSize()
	w.Int32(int32(tag))
	rec := append([]byte{tag, tag}, data[off:off+n]...)
	w.Records(wire.RecordBytes(rec), true)
	w.Int16(int16(tag))
	w.EndSize(at)
	buf.Write(w.Buffer())
	return buf.Bytes()
}

// TestSendfileConcurrentTCP sends many frames that mix buffer bytes and regions of ONE
// shared *os.File over real loopback TCP connections at once. Regions are large and the
// readers slow, so sendfile meets full socket buffers (EAGAIN) and partial writes. Every
// byte must arrive in order, and the file's shared position must never move.
func TestSendfileConcurrentTCP(t *testing.T) {
	const fileSize = 8 << 20
	f, data := segment(t, fileSize)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()

	const senders = 8
	type job struct {
		off, n int64
		tag    byte
	}
	rng := rand.New(rand.NewPCG(3, 4))
	jobs := make([]job, senders)
	for i := range jobs {
		n := int64(1<<20 + rng.IntN(2<<20))
		jobs[i] = job{off: int64(rng.IntN(fileSize - int(n))), n: n, tag: byte(i + 1)}
	}

	sentBefore := wire.SendfileBytes()
	var wg sync.WaitGroup
	errs := make(chan error, 2*senders)
	for i := 0; i < senders; i++ {
		wg.Add(2)
		go func() { // server side: accept and send
			defer wg.Done()
			c, err := ln.Accept()
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			// The client sends its job number first so both sides agree.
			var idx [1]byte
			if _, err := io.ReadFull(c, idx[:]); err != nil {
				errs <- err
				return
			}
			j := jobs[idx[0]]
			if tc, ok := c.(*net.TCPConn); ok {
				tc.SetWriteBuffer(64 << 10) // small, to force EAGAIN and partial sends
			}
			w := frame(f, j.off, j.n, j.tag)
			out := w.Output()
			n, err := out.WriteTo(c)
			if err != nil {
				errs <- err
				return
			}
			if n != out.Size {
				errs <- errors.New("short send")
			}
		}()
		go func() { // client side: read slowly and compare
			defer wg.Done()
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(30 * time.Second))
			c.Write([]byte{byte(i)})
			j := jobs[i]
			want := expected(data, j.off, j.n, j.tag)
			got := make([]byte, 0, len(want))
			chunk := make([]byte, 32<<10)
			for len(got) < len(want) {
				m, err := c.Read(chunk)
				got = append(got, chunk[:m]...)
				if err != nil {
					errs <- err
					return
				}
				if len(got)%(1<<20) < 32<<10 {
					time.Sleep(time.Millisecond) // a slow consumer
				}
			}
			if !bytes.Equal(got, want) {
				errs <- errors.New("received bytes differ from the frame")
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	var regionBytes int64
	for _, j := range jobs {
		regionBytes += j.n
	}
	if runtime.GOOS == "linux" && wire.SendfileBytes()-sentBefore != regionBytes {
		t.Errorf("sendfile sent %d bytes, want every region byte (%d)", wire.SendfileBytes()-sentBefore, regionBytes)
	}
	if pos, _ := f.Seek(0, io.SeekCurrent); pos != 0 {
		t.Errorf("file position moved to %d: regions must be read at explicit offsets", pos)
	}
}

// plainWriter hides the connection's syscall.Conn so WriteChunks takes the pread path.
type plainWriter struct{ io.Writer }

func TestWriteChunksFallback(t *testing.T) {
	f, data := segment(t, 300<<10)
	w := frame(f, 1000, 200<<10, 7)
	var buf bytes.Buffer
	n, err := w.Output().WriteTo(plainWriter{&buf})
	if err != nil {
		t.Fatal(err)
	}
	want := expected(data, 1000, 200<<10, 7)
	if n != int64(len(want)) || !bytes.Equal(buf.Bytes(), want) {
		t.Fatalf("fallback copy differs (%d bytes, want %d)", n, len(want))
	}
	flat, err := w.Output().AppendTo(nil)
	if err != nil || !bytes.Equal(flat, want) {
		t.Fatalf("AppendTo differs: %v", err)
	}
	if w.Len() != int64(len(want)) {
		t.Fatalf("Len %d, want %d", w.Len(), len(want))
	}
}

func TestWriteChunksShortFile(t *testing.T) {
	f, _ := segment(t, 1000)
	w := frame(f, 500, 1000, 1) // the region runs 500 bytes past the end of the file
	if _, err := w.Output().WriteTo(plainWriter{io.Discard}); !errors.Is(err, wire.ErrShortFile) {
		t.Fatalf("pread path: got %v, want ErrShortFile", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err == nil {
			io.Copy(io.Discard, c)
			c.Close()
		}
	}()
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := w.Output().WriteTo(c); !errors.Is(err, wire.ErrShortFile) {
		t.Fatalf("sendfile path: got %v, want ErrShortFile", err)
	}
}

func TestReadFrame(t *testing.T) {
	in := []byte{0, 0, 0, 3, 'a', 'b', 'c', 0x7f, 0xff, 0xff, 0xff}
	r := bytes.NewReader(in)
	got, err := wire.ReadFrame(r, 100, nil)
	if err != nil || string(got) != "abc" {
		t.Fatalf("got %q, %v", got, err)
	}
	if _, err := wire.ReadFrame(r, 100, nil); !errors.Is(err, wire.ErrFrameTooLarge) {
		t.Fatalf("got %v, want ErrFrameTooLarge", err)
	}
	if _, err := wire.ReadFrame(bytes.NewReader([]byte{0xff, 0, 0, 0}), 100, nil); !errors.Is(err, wire.ErrInvalidLength) {
		t.Fatalf("negative size: got %v", err)
	}
	if _, err := wire.ReadFrame(bytes.NewReader([]byte{0, 0, 0, 5, 1}), 100, nil); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("truncated: got %v", err)
	}
}
