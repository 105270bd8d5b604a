package server_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/internal/node/nodetest"
)

// groupTestProps make sessions short enough to wait out a killed member in a test.
var groupTestProps = map[string]string{
	"group.min.session.timeout.ms": "100",
}

// groupPartitions is the partition count of the balancer tests' topics.
const groupPartitions = 12

// ledger checks a group's invariants while its members come and go:
//   - a partition is assigned to a member only when no live member owns it (so after every
//     rebalance each partition has at most one owner, and once the group settles exactly
//     one);
//   - no record is processed by two members in the same generation;
//   - every produced record is processed (none skipped across closes, kills and restarts
//     of members, given that they commit what they processed).
type ledger struct {
	t  testing.TB
	mu sync.Mutex
	// owners is partition -> member name, for live members.
	owners map[int32]string
	// processed is record key -> the (member, generation) pairs that processed it.
	processed map[string][]processing
}

type processing struct {
	member     string
	generation int32
}

func newLedger(t testing.TB) *ledger {
	return &ledger{t: t, owners: map[int32]string{}, processed: map[string][]processing{}}
}

func (l *ledger) assigned(member string, parts []int32) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, p := range parts {
		if o, ok := l.owners[p]; ok && o != member {
			l.t.Errorf("partition %d assigned to %s while %s owns it", p, member, o)
		}
		l.owners[p] = member
	}
}

func (l *ledger) revoked(member string, parts []int32) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, p := range parts {
		if l.owners[p] == member {
			delete(l.owners, p)
		}
	}
}

// gone forgets a member that was killed: it owns nothing any more (it is not running),
// and the group reassigns its partitions once its session expires.
func (l *ledger) gone(member string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for p, o := range l.owners {
		if o == member {
			delete(l.owners, p)
		}
	}
}

func (l *ledger) process(member string, generation int32, key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, pr := range l.processed[key] {
		if pr.generation == generation && pr.member != member {
			l.t.Errorf("record %s processed by %s and %s in generation %d", key, pr.member, member, generation)
		}
	}
	l.processed[key] = append(l.processed[key], processing{member, generation})
}

// settled reports whether the live members own every partition exactly once.
func (l *ledger) settled(live []string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.owners) != groupPartitions {
		return false
	}
	for _, o := range l.owners {
		if !slices.Contains(live, o) {
			return false
		}
	}
	return true
}

func (l *ledger) count(n int) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := range n {
		if len(l.processed[strconv.Itoa(i)]) == 0 {
			return false
		}
	}
	return true
}

// killSwitch is a dialer whose connections can be cut at once, so that a client dies as a
// crashed process would: no LeaveGroup, no commit.
type killSwitch struct {
	mu     sync.Mutex
	conns  []net.Conn
	killed bool
}

func (k *killSwitch) dial(ctx context.Context, network, host string) (net.Conn, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.killed {
		return nil, errors.New("killed")
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, network, host)
	if err == nil {
		k.conns = append(k.conns, c)
	}
	return c, err
}

func (k *killSwitch) kill() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.killed = true
	for _, c := range k.conns {
		c.Close()
	}
}

// member is one consumer of a balancer test: it polls, processes (records every key in the
// ledger with its generation), commits, and allows the next rebalance.
type member struct {
	name   string
	cl     *kgo.Client
	ks     *killSwitch
	cancel context.CancelFunc
	done   chan struct{}
}

// memberOpts configure a test member's group membership.
type memberOpts struct {
	balancer  kgo.GroupBalancer
	session   time.Duration
	heartbeat time.Duration // 0: kgo's default (3 s)
	// serverSide opts into KIP-848 (the balancer must be range or sticky): the broker
	// assigns, and sessions and heartbeats follow the broker's group.consumer.* settings.
	serverSide bool
}

func startMember(t testing.TB, addr string, l *ledger, group, topic, name string, o memberOpts) *member {
	t.Helper()
	m := &member{name: name, ks: &killSwitch{}, done: make(chan struct{})}
	opts := []kgo.Opt{
		kgo.SeedBrokers(addr),
		kgo.Dialer(m.ks.dial),
		kgo.ConsumerGroup(group),
		kgo.ConsumeTopics(topic),
		kgo.Balancers(o.balancer),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.SessionTimeout(o.session),
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		// A cooperative member adds newly assigned partitions to its next fetch, after
		// the long poll in flight returns: keep that short.
		kgo.FetchMaxWait(200 * time.Millisecond),
		kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, a map[string][]int32) {
			l.assigned(name, a[topic])
		}),
		kgo.OnPartitionsRevoked(func(ctx context.Context, cl *kgo.Client, r map[string][]int32) {
			// Commit what was processed before giving the partitions up.
			if err := cl.CommitUncommittedOffsets(ctx); err != nil && !errors.Is(err, context.Canceled) {
				t.Logf("%s: commit on revoke: %v", name, err)
			}
			l.revoked(name, r[topic])
		}),
		kgo.OnPartitionsLost(func(_ context.Context, _ *kgo.Client, lost map[string][]int32) {
			l.revoked(name, lost[topic])
		}),
	}
	if o.heartbeat > 0 {
		opts = append(opts, kgo.HeartbeatInterval(o.heartbeat))
	}
	if o.serverSide {
		opts = append(opts, kgo.ServerSideBalancer())
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	m.cl = cl
	ctx, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	go func() {
		defer close(m.done)
		for ctx.Err() == nil {
			pctx, pcancel := context.WithTimeout(ctx, 200*time.Millisecond)
			fs := cl.PollFetches(pctx)
			pcancel()
			_, gen := cl.GroupMetadata()
			fs.EachRecord(func(r *kgo.Record) { l.process(name, gen, string(r.Key)) })
			if fs.NumRecords() > 0 {
				if err := cl.CommitUncommittedOffsets(ctx); err != nil && ctx.Err() == nil {
					t.Logf("%s: commit: %v", name, err)
				}
			}
			cl.AllowRebalance()
		}
	}()
	return m
}

// close stops the member gracefully: it commits, revokes and leaves the group.
func (m *member) close() {
	m.cancel()
	<-m.done
	m.cl.CloseAllowingRebalance()
}

// kill stops the member as a crash would: its connections are cut first, so the broker
// sees no LeaveGroup and no commit, and its session must expire.
func (m *member) kill(l *ledger) {
	m.ks.kill()
	m.cancel()
	<-m.done
	l.gone(m.name)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_ = m.cl.LeaveGroupContext(ctx) // cancelled: sends nothing, makes Close immediate
	m.cl.Close()
}

// Consumers of every client-side balancer, eager (range, round-robin, sticky) and
// cooperative (cooperative-sticky), join, leave gracefully and crash, one to six members on
// a 12-partition topic, with records produced after every change. After every rebalance
// each partition has exactly one owner; no record is processed by two members in the same
// generation; every record is processed, across closes, crashes and restarts of members.
func TestGroupBalancers(t *testing.T) {
	c := nodetest.Start(t, nodetest.Config(groupTestProps))
	adm := c.Admin(t)
	tests := []struct {
		name     string
		balancer kgo.GroupBalancer
	}{
		{"range", kgo.RangeBalancer()},
		{"roundrobin", kgo.RoundRobinBalancer()},
		{"sticky", kgo.StickyBalancer()},
		{"cooperative-sticky", kgo.CooperativeStickyBalancer()},
	}
	for _, tt := range tests {
		topic, group := "bal-"+tt.name, "grp-"+tt.name
		createTopic(t, adm, topic, groupPartitions, nil)
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			runBalancerScenario(t, c, topic, group, memberOpts{balancer: tt.balancer})
		})
	}
}

// runBalancerScenario runs the scenario with members configured as base (session and
// heartbeat are the scenario's).
func runBalancerScenario(t *testing.T, c *nodetest.Cluster, topic, group string, base memberOpts) {
	l := newLedger(t)
	produced := 0
	produce := func(n int) {
		produceKeyed(t, c, topic, produced, n)
		produced += n
	}
	var live []*member
	names := func() []string {
		var out []string
		for _, m := range live {
			out = append(out, m.name)
		}
		return out
	}
	waitSettled := func(step string) {
		t.Helper()
		start := time.Now()
		defer func() { t.Logf("%s: settled in %v", step, time.Since(start)) }()
		produce(60)
		deadline := time.Now().Add(45 * time.Second)
		for !(l.settled(names()) && l.count(produced)) {
			if time.Now().After(deadline) {
				l.mu.Lock()
				t.Fatalf("%s: did not settle: owners %v, members %v", step, l.owners, names())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	next := 0
	add := func() {
		next++
		o := base
		o.session, o.heartbeat = 1500*time.Millisecond, 100*time.Millisecond
		live = append(live, startMember(t, c.Addr, l, group, topic, fmt.Sprintf("m%d", next), o))
	}
	remove := func(i int, kill bool) {
		m := live[i]
		live = slices.Delete(live, i, i+1)
		if kill {
			m.kill(l)
		} else {
			m.close()
		}
	}
	defer func() {
		for _, m := range live {
			m.close()
		}
	}()

	add()
	waitSettled("one member")
	for range 5 {
		add()
		waitSettled(fmt.Sprintf("%d members", len(live)))
	}
	remove(2, false)
	waitSettled("a member closed")
	remove(0, true)
	waitSettled("a member killed")
	add() // a restart of sorts: a new member in place of the killed one
	waitSettled("a member added after a kill")
	remove(1, true)
	remove(1, false)
	waitSettled("one killed and one closed together")
	for len(live) > 1 {
		remove(0, false)
	}
	waitSettled("down to one member")
	last := live[0]
	live = nil
	last.close()

	// Everything was processed, and the group's committed offsets cover every record: a
	// consumer starting now in the group has nothing to read.
	if !l.count(produced) {
		t.Fatalf("not every record was processed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	adm := c.Admin(t)
	offs, err := adm.FetchOffsets(ctx, group)
	if err != nil {
		t.Fatal(err)
	}
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	ends.Each(func(e kadm.ListedOffset) {
		o, ok := offs.Lookup(topic, e.Partition)
		if !ok || o.At != e.Offset {
			t.Errorf("partition %d: committed %v, end %d", e.Partition, o.At, e.Offset)
		}
	})
}
