package quorum

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// listFSM records applied entries; its snapshot is the entries one per line.
type listFSM struct {
	mu      sync.Mutex
	entries []string
	last    uint64
}

func (f *listFSM) Apply(index, term uint64, data []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if index <= f.last {
		return fmt.Errorf("index %d applied after %d", index, f.last)
	}
	f.last = index
	if string(data) == "reject" {
		return errors.New("rejected by fsm")
	}
	f.entries = append(f.entries, string(data))
	return nil
}

type listSnap []string

func (s listSnap) WriteTo(w io.Writer) (int64, error) {
	var n int64
	for _, e := range s {
		m, err := fmt.Fprintln(w, e)
		n += int64(m)
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func (f *listFSM) Snapshot() (io.WriterTo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return listSnap(append([]string(nil), f.entries...)), nil
}

func (f *listFSM) Restore(r io.Reader) error {
	var entries []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		entries = append(entries, sc.Text())
	}
	f.mu.Lock()
	f.entries = entries
	f.last = 0
	f.mu.Unlock()
	return sc.Err()
}

func (f *listFSM) get() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.entries...)
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func waitLeader(t *testing.T, n *Node) State {
	t.Helper()
	states, cancel := n.Watch()
	defer cancel()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case st := <-states:
			if st.IsLeader {
				return st
			}
		case <-timeout:
			t.Fatalf("node never became leader: %+v", n.State())
		}
	}
}

func openOne(t *testing.T, dir string, fsm FSM) *Node {
	t.Helper()
	s, err := Listen("127.0.0.1:0", "", testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	n, err := Open(context.Background(), Options{
		NodeID: 1, Voters: []Voter{{ID: 1, Addr: s.Addr().String()}},
		Dir: dir, Stream: s, Logger: testLogger(t), FSM: fsm,
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestOneVoterProposeRestartSnapshot(t *testing.T) {
	dir := t.TempDir()
	fsm := &listFSM{}
	n := openOne(t, dir, fsm)
	st := waitLeader(t, n)
	if st.LeaderID != 1 || st.Term == 0 {
		t.Fatalf("state %+v", st)
	}
	ctx := context.Background()
	var last uint64
	for i := range 5 {
		idx, err := n.Propose(ctx, fmt.Appendf(nil, "e%d", i))
		if err != nil {
			t.Fatal(err)
		}
		if idx <= last {
			t.Fatalf("index %d after %d", idx, last)
		}
		last = idx
		// Applied locally when Propose returns.
		if got := fsm.get(); len(got) != i+1 {
			t.Fatalf("after propose %d fsm has %v", i, got)
		}
	}
	if s := n.Stats(); !s.IsLeader || s.Term != st.Term || s.LastIndex < last || s.CommitIndex < last || s.AppliedIndex < last {
		t.Fatalf("stats %+v after proposing up to index %d in term %d", s, last, st.Term)
	}
	if _, err := n.Propose(ctx, []byte("reject")); err == nil || err.Error() != "rejected by fsm" {
		t.Fatalf("fsm error not returned: %v", err)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}

	// Restart: the log is replayed into a fresh FSM once the node is leader again.
	fsm2 := &listFSM{}
	n = openOne(t, dir, fsm2)
	waitLeader(t, n)
	if err := n.Barrier(ctx); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(fsm2.get(), ","); got != "e0,e1,e2,e3,e4" {
		t.Fatalf("replayed %q", got)
	}
	if err := n.Snapshot(); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Propose(ctx, []byte("after-snap")); err != nil {
		t.Fatal(err)
	}
	n.Close()

	// Restart from the snapshot plus the entry after it.
	fsm3 := &listFSM{}
	n = openOne(t, dir, fsm3)
	defer n.Close()
	waitLeader(t, n)
	if err := n.Barrier(ctx); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(fsm3.get(), ","); got != "e0,e1,e2,e3,e4,after-snap" {
		t.Fatalf("restored %q", got)
	}
}

func TestThreeVoters(t *testing.T) {
	const nodes = 3
	var streams [nodes]*StreamLayer
	var voters []Voter
	for i := range nodes {
		s, err := Listen("127.0.0.1:0", "", testLogger(t))
		if err != nil {
			t.Fatal(err)
		}
		streams[i] = s
		voters = append(voters, Voter{ID: int32(i + 1), Addr: s.Addr().String()})
	}
	fsms := [nodes]*listFSM{{}, {}, {}}
	var all [nodes]*Node
	for i := range nodes {
		n, err := Open(context.Background(), Options{
			NodeID: int32(i + 1), Voters: voters, Dir: t.TempDir(), Stream: streams[i],
			Logger: testLogger(t), FSM: fsms[i],
			HeartbeatTimeout: 400 * time.Millisecond, ElectionTimeout: 400 * time.Millisecond,
		})
		if err != nil {
			t.Fatal(err)
		}
		all[i] = n
	}
	closed := [nodes]bool{}
	defer func() {
		for i, n := range all {
			if !closed[i] {
				n.Close()
			}
		}
	}()

	leader := findLeader(t, all[:], closed[:])
	ctx := context.Background()
	// A follower refuses and names the leader.
	for i, n := range all {
		if i == leader {
			continue
		}
		_, err := n.Propose(ctx, []byte("x"))
		var nle *NotLeaderError
		if !errors.As(err, &nle) || !errors.Is(err, ErrNotLeader) {
			t.Fatalf("follower propose: %v", err)
		}
		if nle.LeaderID != -1 && nle.LeaderID != int32(leader+1) {
			t.Fatalf("follower names leader %d, want %d", nle.LeaderID, leader+1)
		}
		break
	}
	leader = proposeOnLeader(t, all[:], closed[:], "one")

	// Close the leader; the other two elect a new one and keep committing.
	all[leader].Close()
	closed[leader] = true
	proposeOnLeader(t, all[:], closed[:], "two")
	for i := range nodes {
		if closed[i] {
			continue
		}
		if err := all[i].Barrier(ctx); err != nil && !errors.Is(err, ErrNotLeader) {
			t.Fatal(err)
		}
	}
	// Every live voter applies both entries, in order.
	deadline := time.Now().Add(10 * time.Second)
	for i := range nodes {
		if closed[i] {
			continue
		}
		for strings.Join(slices.Compact(fsms[i].get()), ",") != "one,two" {
			if time.Now().After(deadline) {
				t.Fatalf("node %d has %v", i+1, fsms[i].get())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// proposeOnLeader proposes on the current leader, again on the next one if leadership moves
// meanwhile (a young leader may step down on a loaded machine). An entry whose leader lost
// leadership may still commit, so callers must tolerate it twice in a row.
func proposeOnLeader(t *testing.T, all []*Node, closed []bool, s string) int {
	t.Helper()
	for range 100 {
		i := findLeader(t, all, closed)
		_, err := all[i].Propose(context.Background(), []byte(s))
		if err == nil {
			return i
		}
		if !errors.Is(err, ErrNotLeader) {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("leadership never settled")
	return -1
}

func findLeader(t *testing.T, all []*Node, closed []bool) int {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		for i, n := range all {
			if !closed[i] && n.State().IsLeader {
				return i
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("no leader elected")
	return -1
}

// TestHandoff drives the server's path: a listener that reads the 4-byte "frame size",
// recognises the preamble and hands the connection over; a Kafka-looking connection is not.
func TestHandoff(t *testing.T) {
	if v := binary.BigEndian.Uint32(Preamble[:4]); v <= 1<<30 {
		t.Fatalf("preamble reads as frame size %d, not above 1 GiB", v)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewStreamLayer(ln.Addr().String(), testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var kafkaSeen sync.WaitGroup
	kafkaSeen.Add(1)
	wg.Add(1)
	go func() { // the "server"
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			var size [4]byte
			if _, err := io.ReadFull(c, size[:]); err != nil {
				c.Close()
				continue
			}
			if HasPreamblePrefix(size[:]) {
				_ = s.Handoff(c, size[:])
				continue
			}
			kafkaSeen.Done()
			c.Close()
		}
	}()
	fsm := &listFSM{}
	n, err := Open(context.Background(), Options{
		NodeID: 7, Voters: []Voter{{ID: 7, Addr: ln.Addr().String()}},
		Dir: t.TempDir(), Stream: s, Logger: testLogger(t), FSM: fsm,
	})
	if err != nil {
		t.Fatal(err)
	}
	waitLeader(t, n)

	// A raft client dialing through the stream layer gets raft; a Kafka client does not.
	c, err := s.Dial(raft.ServerAddress(ln.Addr().String()), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	k, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	k.Write([]byte{0, 0, 0, 10})
	kafkaSeen.Wait()
	k.Close()

	// A bad preamble tail gets the connection closed: the peer reads EOF.
	a, b := net.Pipe()
	if err := s.Handoff(a, []byte("SLUI")); err != nil {
		t.Fatalf("handoff: %v", err)
	}
	b.Write([]byte("CE-XXXX/1\n"))
	if _, err := b.Read(make([]byte, 1)); err == nil {
		t.Fatal("connection with a bad preamble left open")
	}
	b.Close()
	if err := s.Handoff(&nopConn{}, []byte("abcd")); !errors.Is(err, ErrBadPreamble) {
		t.Fatalf("bad prefix: %v", err)
	}
	n.Close()
	ln.Close()
	wg.Wait()
	// After Close, handoffs are refused.
	a2, b2 := net.Pipe()
	defer b2.Close()
	if err := s.Handoff(a2, Preamble[:4]); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("handoff after close: %v", err)
	}
}

type nopConn struct{ net.Conn }

func (*nopConn) Close() error { return nil }

func TestOpenRefusesNonVoter(t *testing.T) {
	s, err := Listen("127.0.0.1:0", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Open(context.Background(), Options{
		NodeID: 2, Voters: []Voter{{ID: 1, Addr: "127.0.0.1:1"}},
		Dir: t.TempDir(), Stream: s, FSM: &listFSM{},
	})
	if !errors.Is(err, ErrNotVoter) {
		t.Fatalf("got %v", err)
	}
}
