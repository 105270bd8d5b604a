package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// The end-to-end tests run the real binary, `sluice serve`, as a child process with a
// temporary data directory and ephemeral ports, and drive it with franz-go. A test that needs
// an API the broker does not advertise yet skips with the API's name (requireAPIs).

var (
	buildOnce sync.Once
	binDir    string
	binPath   string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// sluiceBinary builds the sluice binary once per test run.
func sluiceBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "sluice-e2e-bin")
		if buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "sluice")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// broker is one `sluice serve` child process (and its restarts on the same directory).
type broker struct {
	t          testing.TB
	dir        string
	configPath string // --config, when set
	overrides  []string
	addr       string // PLAINTEXT bootstrap, 127.0.0.1:port
	ctrlAddr   string

	cmd    *exec.Cmd
	out    *logBuffer
	exited chan struct{}
	state  *os.ProcessState
}

// startBroker starts `sluice serve` on ephemeral ports with its data in a new temporary
// directory and JSON logs, and waits for its "Sluice started" line. Extra overrides are
// key=value. The process is stopped (SIGTERM, then SIGKILL) by t.Cleanup.
func startBroker(t testing.TB, overrides ...string) *broker {
	t.Helper()
	return startBrokerConfig(t, "", overrides...)
}

// startBrokerConfig is startBroker with --config configPath ("" for none).
func startBrokerConfig(t testing.TB, configPath string, overrides ...string) *broker {
	t.Helper()
	b := &broker{t: t, dir: t.TempDir(), configPath: configPath, overrides: overrides}
	b.start("127.0.0.1:0", "127.0.0.1:0")
	t.Cleanup(func() {
		if b.running() {
			b.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-b.exited:
			case <-time.After(15 * time.Second):
				b.cmd.Process.Kill()
				<-b.exited
			}
		}
		if t.Failed() {
			t.Logf("broker output:\n%s", b.out.String())
		}
	})
	return b
}

func (b *broker) start(clientAddr, ctrlAddr string) {
	b.t.Helper()
	args := []string{"serve"}
	if b.configPath != "" {
		args = append(args, "--config", b.configPath)
	}
	args = append(args,
		"--override", "listeners=PLAINTEXT://"+clientAddr+",CONTROLLER://"+ctrlAddr,
		"--override", "controller.quorum.voters=1@"+ctrlAddr,
		"--override", "log.dirs="+filepath.Join(b.dir, "data"),
		"--override", "sluice.logger.format=json",
		"--override", "sluice.metrics.listener=127.0.0.1:0", // brokers run side by side
		"--override", "initial.broker.registration.timeout.ms=30000",
	)
	for _, o := range b.overrides {
		args = append(args, "--override", o)
	}
	b.out = &logBuffer{}
	b.cmd = exec.Command(sluiceBinary(b.t), args...)
	b.cmd.Stdout, b.cmd.Stderr = b.out, b.out
	if err := b.cmd.Start(); err != nil {
		b.t.Fatal(err)
	}
	b.exited = make(chan struct{})
	go func() { // ends when the child does; every test path waits for exited
		b.cmd.Wait()
		b.state = b.cmd.ProcessState
		close(b.exited)
	}()
	line := b.waitLine("Sluice started", 60*time.Second)
	var listeners []string
	if s, ok := line["listeners"].(string); ok {
		listeners = strings.Split(s, ",")
	}
	for _, l := range listeners {
		name, addr, _ := strings.Cut(l, "://")
		switch name {
		case "PLAINTEXT":
			b.addr = addr
		case "CONTROLLER":
			b.ctrlAddr = addr
		}
	}
	if b.addr == "" || b.ctrlAddr == "" {
		b.t.Fatalf("no listeners in the started line: %v", line)
	}
}

func (b *broker) running() bool {
	if b.cmd == nil {
		return false
	}
	select {
	case <-b.exited:
		return false
	default:
		return true
	}
}

// waitLine waits for a JSON log line whose msg is msg and returns it; it fails the test if
// the process exits or the time runs out first.
func (b *broker) waitLine(msg string, timeout time.Duration) map[string]any {
	b.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if l, ok := b.out.find(msg); ok {
			return l
		}
		select {
		case <-b.exited:
			if l, ok := b.out.find(msg); ok {
				return l
			}
			b.t.Fatalf("sluice exited (%v) before logging %q:\n%s", b.state, msg, b.out.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("no %q line after %v:\n%s", msg, timeout, b.out.String())
		}
	}
}

// term sends SIGTERM and requires a clean stop: exit code 0 and the "stopped cleanly" line.
func (b *broker) term() {
	b.t.Helper()
	b.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-b.exited:
	case <-time.After(40 * time.Second):
		b.cmd.Process.Kill()
		<-b.exited
		b.t.Fatalf("sluice did not stop within 40 s of SIGTERM:\n%s", b.out.String())
	}
	if code := b.state.ExitCode(); code != 0 {
		b.t.Fatalf("sluice exited with %d after SIGTERM:\n%s", code, b.out.String())
	}
	if _, ok := b.out.find("Sluice stopped cleanly"); !ok {
		b.t.Fatalf("no clean-stop line after SIGTERM:\n%s", b.out.String())
	}
}

// kill sends SIGKILL (a crash) and waits for the process to go.
func (b *broker) kill() {
	b.t.Helper()
	b.cmd.Process.Kill()
	<-b.exited
}

// restart starts the broker again on the same directory and ports; it returns the new
// "Sluice started" line.
func (b *broker) restart() map[string]any {
	b.t.Helper()
	if b.running() {
		b.t.Fatal("restart of a running broker")
	}
	b.start(b.addr, b.ctrlAddr)
	line, _ := b.out.find("Sluice started")
	return line
}

// logBuffer collects a child's output; safe for concurrent writes and reads.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// find returns the first JSON log line whose msg is msg.
func (l *logBuffer) find(msg string) (map[string]any, bool) {
	sc := bufio.NewScanner(strings.NewReader(l.String()))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m map[string]any
		if json.Unmarshal(sc.Bytes(), &m) == nil && m["msg"] == msg {
			return m, true
		}
	}
	return nil, false
}

// client returns a franz-go client for addr, closed by t.Cleanup.
func client(t testing.TB, addr string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(addr)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// requireAPIs skips the test unless the broker at addr advertises every key: the handlers
// are written by others, and a test of an API that is not there yet would only fail.
func requireAPIs(t testing.TB, addr string, keys ...int16) {
	t.Helper()
	cl := client(t, addr)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := kmsg.NewPtrApiVersionsRequest().RequestWith(ctx, cl)
	if err != nil {
		t.Fatalf("ApiVersions: %v", err)
	}
	have := map[int16]bool{}
	for _, k := range resp.ApiKeys {
		have[k.ApiKey] = true
	}
	var missing []string
	for _, k := range keys {
		if !have[k] {
			missing = append(missing, fmt.Sprintf("%s (key %d)", kmsg.NameForKey(k), k))
		}
	}
	if len(missing) > 0 {
		t.Skipf("the broker does not advertise %s yet", strings.Join(missing, ", "))
	}
}

// API keys the tests need.
const (
	keyProduce                 = 0
	keyFetch                   = 1
	keyListOffsets             = 2
	keyMetadata                = 3
	keyCreateTopics            = 19
	keyDeleteTopics            = 20
	keyInitProducerID          = 22
	keyDescribeConfigs         = 32
	keyIncrementalAlterConfigs = 44
)

var dataPathAPIs = []int16{keyProduce, keyFetch, keyListOffsets, keyMetadata, keyInitProducerID}

// consumeAll reads topic from the start until want records arrived (or the time runs out)
// and returns them in arrival order.
func consumeAll(t testing.TB, addr, topic string, want int, timeout time.Duration) []*kgo.Record {
	t.Helper()
	cl := client(t, addr, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxWait(200*time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var got []*kgo.Record
	for len(got) < want {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			break
		}
		fs.EachError(func(topic string, p int32, err error) {
			t.Logf("fetch %s[%d]: %v", topic, p, err)
		})
		got = append(got, fs.Records()...)
	}
	return got
}
