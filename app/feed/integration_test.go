//go:build integration

package feed

import (
	"context"
	"fmt"
	"github.com/access911/access911-infra/app/feed/registry"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/access911/access911-infra/app/calls"
	"github.com/access911/access911-infra/app/store"
	"github.com/access911/access911-infra/internal/emulator"
)

var ddbLocal = emulator.DynamoDBLocalForTests()

func TestMain(m *testing.M) { ddbLocal.Main(m) }

func newRegistry(t *testing.T, partitions int) *registry.Registry {
	t.Helper()
	db := store.NewLocalClient(ddbLocal.Require(t).URL)
	suffix := fmt.Sprint(time.Now().UnixNano())
	r := &registry.Registry{DB: db, Connections: "connections-" + suffix, Partitions: "partitions-" + suffix, PartitionCount: partitions}
	require.NoError(t, EnsureTables(context.Background(), db, r.Connections, r.Partitions))
	return r
}

// runConcurrently runs fn(0..count-1), 50 at a time, and fails on any error.
func runConcurrently(t *testing.T, count int, fn func(i int) error) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, count)
	sem := make(chan struct{}, 50)
	for i := 0; i < count; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := fn(i); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}

// Partition counts stay exact, and every dispatcher is found exactly once
// in the partitions of each area it serves, under 500 concurrent connects,
// subscriptions to areas (some moved to other areas) and 250 disconnects,
// with some connects and disconnects repeated (as API Gateway may deliver
// $connect or $disconnect twice).
func TestAreaMembershipsStayExactUnderConcurrency(t *testing.T) {
	const partitions, n = 10, 500
	r := newRegistry(t, partitions)
	r.PerArea = 2
	ctx := context.Background()
	areas := []string{"dn6m", "dn6q", "9vrf", "unlocated"}
	served := func(i int) []string { // a few areas each; a tenth stay supervisors
		if i%10 == 0 {
			return nil
		}
		return []string{areas[i%4], areas[(i+1)%4]}
	}
	runConcurrently(t, n+50, func(i int) error { // the last 50 connect ids 0..49 a second time
		_, err := r.Connect(ctx, fmt.Sprintf("conn-%d", i%n))
		return err
	})
	runConcurrently(t, n, func(i int) error {
		return r.Subscribe(ctx, fmt.Sprintf("conn-%d", i), served(i), []string{"fire"})
	})
	runConcurrently(t, n/5, func(i int) error { // a fifth move to other areas
		return r.Subscribe(ctx, fmt.Sprintf("conn-%d", 5*i+1), []string{areas[(i+2)%4]}, nil)
	})
	runConcurrently(t, n/2+25, func(i int) error { // the last 25 disconnect ids 250..274 a second time
		err := r.Disconnect(ctx, fmt.Sprintf("conn-%d", n/2+i%(n/2)))
		if err == registry.ErrGone {
			return nil
		}
		return err
	})

	found := map[string]int{} // "<connection> <area>" -> times found
	total := 0
	for p := 1; p <= partitions; p++ {
		count, err := r.Count(ctx, p)
		require.NoError(t, err)
		members, err := r.Members(ctx, p)
		require.NoError(t, err)
		assert.Equal(t, len(members), count, "partition %d: connectionCount is exactly its items", p)
		total += count
		for _, m := range members {
			if m.Area != "" {
				assert.Contains(t, registry.AreaPartitions(m.Area, partitions, 2), p, "%s is in one of its area's partitions", m.Area)
				found[m.ID+" "+m.Area]++
			}
		}
	}
	want := map[string]int{}
	rows := 0
	for i := 0; i < n/2; i++ { // conn-0..249 are still connected
		rows++
		areasOf := served(i)
		if i%5 == 1 {
			areasOf = []string{areas[((i-1)/5+2)%4]}
		}
		for _, a := range areasOf {
			want[fmt.Sprintf("conn-%d %s", i, a)] = 1
		}
	}
	assert.Equal(t, want, found, "each live dispatcher once in each of its areas, nobody gone, nothing stale")
	assert.Equal(t, rows+len(want), total, "every connection row and membership counted once")
}

func TestSubscribeAndGone(t *testing.T) {
	r := newRegistry(t, 6)
	r.PerArea = 1
	ctx := context.Background()
	p, err := r.Connect(ctx, "dispatcher-1")
	require.NoError(t, err)
	assert.Equal(t, registry.SupervisorPartitions(6, 1), []int{p}, "until it subscribes, a connection is a supervisor's")
	again, err := r.Connect(ctx, "dispatcher-1")
	require.NoError(t, err)
	assert.Equal(t, p, again, "a repeated $connect keeps the partition")
	require.NoError(t, r.Subscribe(ctx, "dispatcher-1", []string{"dn6m", "9vrf"}, []string{"fire", "flood"}))
	member := func(area string) []registry.Connection {
		ms, err := r.Members(ctx, registry.AreaPartitions(area, 6, 1)[0])
		require.NoError(t, err)
		var out []registry.Connection
		for _, m := range ms {
			if m.Area == area {
				out = append(out, m)
			}
		}
		return out
	}
	for _, area := range []string{"dn6m", "9vrf"} {
		ms := member(area)
		require.Len(t, ms, 1, area)
		assert.Equal(t, "dispatcher-1", ms[0].ID, "a membership stands for its connection")
		assert.ElementsMatch(t, []string{"fire", "flood"}, ms[0].EmergencyTypes)
	}
	require.NoError(t, r.Subscribe(ctx, "dispatcher-1", []string{"dn6m"}, nil))
	assert.Empty(t, member("9vrf"), "an area dropped loses its membership")
	require.Len(t, member("dn6m"), 1)
	assert.Empty(t, member("dn6m")[0].EmergencyTypes, "no filter: every type")

	require.NoError(t, r.Disconnect(ctx, "dispatcher-1"))
	assert.Empty(t, member("dn6m"), "disconnecting removes the memberships too")
	assert.ErrorIs(t, r.Disconnect(ctx, "dispatcher-1"), registry.ErrGone)
	assert.ErrorIs(t, r.Subscribe(ctx, "dispatcher-1", []string{"dn6m"}, []string{"fire"}), registry.ErrGone)
	for part := 1; part <= 6; part++ {
		count, err := r.Count(ctx, part)
		require.NoError(t, err)
		assert.Zero(t, count, "partition %d", part)
	}
}

// On DynamoDB Local: of concurrent claims of one delivery exactly one wins;
// a claim marked done is never taken again; a claim whose worker died is
// taken again once its lease is over.
func TestLedgerClaimsADeliveryOnce(t *testing.T) {
	db := store.NewLocalClient(ddbLocal.Require(t).URL)
	ctx := context.Background()
	now := time.Unix(1_800_000_000, 0)
	l := &Ledger{DB: db, Table: fmt.Sprint("deliveries-", time.Now().UnixNano()), Lease: 30 * time.Second, Now: func() time.Time { return now }}
	require.NoError(t, EnsureTable(ctx, db, LedgerTableInput(l.Table)))

	var wins sync.WaitGroup
	won := make(chan bool, 20)
	for range 20 {
		wins.Add(1)
		go func() {
			defer wins.Done()
			ok, err := l.Claim(ctx, "call#1")
			assert.NoError(t, err)
			won <- ok
		}()
	}
	wins.Wait()
	close(won)
	n := 0
	for ok := range won {
		if ok {
			n++
		}
	}
	assert.Equal(t, 1, n, "one of 20 concurrent claims wins")

	require.NoError(t, l.Done(ctx, "call#1"))
	now = now.Add(time.Hour)
	ok, err := l.Claim(ctx, "call#1")
	require.NoError(t, err)
	assert.False(t, ok, "delivered: never again")

	ok, err = l.Claim(ctx, "call#2")
	require.NoError(t, err)
	require.True(t, ok)
	now = now.Add(29 * time.Second)
	ok, _ = l.Claim(ctx, "call#2")
	assert.False(t, ok, "still within its worker's lease")
	now = now.Add(2 * time.Second)
	ok, err = l.Claim(ctx, "call#2")
	require.NoError(t, err)
	assert.True(t, ok, "the worker died: the lease is over, another takes it")
}

// A new mapping starts at TRIM_HORIZON and replays what the stream holds,
// regrouped: the swarm's markers keep every call it broadcast before out of
// the replay, so no dispatcher gets a call twice; the one call the replay
// adds (written while no mapping read the stream) goes out once.
func TestAReplayAfterAMappingUpdatePushesNoCallTwice(t *testing.T) {
	db := store.NewLocalClient(ddbLocal.Require(t).URL)
	table := fmt.Sprint("deliveries-", time.Now().UnixNano())
	require.NoError(t, EnsureTable(context.Background(), db, LedgerTableInput(table)))
	s := &sent{byQueue: map[string][]PartitionMessage{}}
	sw := &Swarm{SQS: s, Queues: []string{"q0"}, Partitions: 8, Broadcasts: &Broadcasts{DB: db, Table: table}}
	call := func(i int) calls.Call {
		c := downtown
		c.ConversationID = fmt.Sprintf("replay-%d", i)
		return c
	}
	ctx := context.Background()
	n, err := sw.BroadcastNew(ctx, []calls.Call{call(1), call(2), call(3)}) // the old mapping's batch
	require.NoError(t, err)
	assert.Equal(t, 3, n)
	n, err = sw.BroadcastNew(ctx, []calls.Call{call(2), call(3), call(4)}) // the new mapping's replay, regrouped
	require.NoError(t, err)
	assert.Equal(t, 1, n, "only the call never broadcast")

	area := registry.AreaOf(downtown)
	members := partitionMembers{}
	for _, p := range registry.AreaPartitions(area, 8, registry.DefaultPartitionsPerArea) {
		members[p] = []registry.Connection{{ID: fmt.Sprint("d-", p), Area: area}}
	}
	p := newPoster()
	deliverAll(t, &Worker{Members: members, Poster: p, Forgetter: &forgetter{}, Parallelism: 4}, s.byQueue["q0"])
	for id := range p.frames {
		got := p.callsOf(t, id)
		assert.ElementsMatch(t, []string{"replay-1", "replay-2", "replay-3", "replay-4"}, got, "%s: each call once", id)
	}
	assert.NotEmpty(t, p.frames)
}
