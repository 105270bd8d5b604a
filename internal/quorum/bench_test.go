package quorum

import (
	"context"
	"testing"
)

// BenchmarkOneVoterStartup measures Open to leadership of a fresh one-voter quorum (what
// `sluice serve` waits for before it can create topics).
func BenchmarkOneVoterStartup(b *testing.B) {
	for b.Loop() {
		b.StopTimer()
		s, err := Listen("127.0.0.1:0", "", nil)
		if err != nil {
			b.Fatal(err)
		}
		dir := b.TempDir()
		b.StartTimer()
		n, err := Open(context.Background(), Options{
			NodeID: 1, Voters: []Voter{{ID: 1, Addr: s.Addr().String()}},
			Dir: dir, Stream: s, FSM: &listFSM{},
		})
		if err != nil {
			b.Fatal(err)
		}
		states, cancel := n.Watch()
		for st := range states {
			if st.IsLeader {
				break
			}
		}
		b.StopTimer()
		cancel()
		n.Close()
		b.StartTimer()
	}
}

// BenchmarkOneVoterPropose measures one commit and local apply (an fsync of raft.db each).
func BenchmarkOneVoterPropose(b *testing.B) {
	s, err := Listen("127.0.0.1:0", "", nil)
	if err != nil {
		b.Fatal(err)
	}
	n, err := Open(context.Background(), Options{
		NodeID: 1, Voters: []Voter{{ID: 1, Addr: s.Addr().String()}},
		Dir: b.TempDir(), Stream: s, FSM: &listFSM{},
	})
	if err != nil {
		b.Fatal(err)
	}
	defer n.Close()
	states, cancel := n.Watch()
	for st := range states {
		if st.IsLeader {
			break
		}
	}
	cancel()
	data := make([]byte, 200)
	for b.Loop() {
		if _, err := n.Propose(context.Background(), data); err != nil {
			b.Fatal(err)
		}
	}
}
