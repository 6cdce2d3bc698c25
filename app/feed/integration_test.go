//go:build integration

package feed

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/access911/access911-infra/app/store"
	"github.com/access911/access911-infra/internal/emulator"
)

var ddbLocal = emulator.DynamoDBLocalForTests()

func TestMain(m *testing.M) { ddbLocal.Main(m) }

func newRegistry(t *testing.T, partitions int) *Registry {
	t.Helper()
	db := store.NewLocalClient(ddbLocal.Require(t).URL)
	suffix := fmt.Sprint(time.Now().UnixNano())
	r := &Registry{DB: db, Connections: "connections-" + suffix, Partitions: "partitions-" + suffix, PartitionCount: partitions}
	require.NoError(t, EnsureTables(context.Background(), db, r.Connections, r.Partitions))
	return r
}

// Partition counts stay exact under 500 concurrent connects and 250
// concurrent disconnects, with some connects and disconnects repeated (as
// API Gateway may deliver $connect or $disconnect twice).
func TestPartitionCountsStayExactUnderConcurrency(t *testing.T) {
	const partitions, n = 10, 500
	r := newRegistry(t, partitions)
	ctx := context.Background()
	run := func(count int, fn func(i int) error) {
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
	run(n+50, func(i int) error { // the last 50 connect ids 0..49 a second time
		_, err := r.Connect(ctx, fmt.Sprintf("conn-%d", i%n))
		return err
	})
	run(n/2+25, func(i int) error { // the last 25 disconnect ids 0..24 a second time
		err := r.Disconnect(ctx, fmt.Sprintf("conn-%d", i%(n/2)))
		if err == ErrGone {
			return nil
		}
		return err
	})

	total, spread := 0, []int{}
	for p := 1; p <= partitions; p++ {
		count, err := r.Count(ctx, p)
		require.NoError(t, err)
		members, err := r.Members(ctx, p)
		require.NoError(t, err)
		assert.Equal(t, len(members), count, "partition %d: connectionCount is exactly its connections", p)
		total += count
		spread = append(spread, count)
	}
	assert.Equal(t, n/2, total, "every live connection counted once")
	t.Logf("connections per partition after 550 connects and 275 disconnects: %v", spread)
}

func TestSubscribeAndGone(t *testing.T) {
	r := newRegistry(t, 3)
	ctx := context.Background()
	p, err := r.Connect(ctx, "dispatcher-1")
	require.NoError(t, err)
	again, err := r.Connect(ctx, "dispatcher-1")
	require.NoError(t, err)
	assert.Equal(t, p, again, "a repeated $connect keeps the partition")
	require.NoError(t, r.Subscribe(ctx, "dispatcher-1", []string{"fire", "flood"}))
	members, err := r.Members(ctx, p)
	require.NoError(t, err)
	require.Len(t, members, 1)
	assert.ElementsMatch(t, []string{"fire", "flood"}, members[0].EmergencyTypes)
	require.NoError(t, r.Subscribe(ctx, "dispatcher-1", nil))
	members, _ = r.Members(ctx, p)
	assert.Empty(t, members[0].EmergencyTypes, "no filter: every type")

	require.NoError(t, r.Disconnect(ctx, "dispatcher-1"))
	assert.ErrorIs(t, r.Disconnect(ctx, "dispatcher-1"), ErrGone)
	assert.ErrorIs(t, r.Subscribe(ctx, "dispatcher-1", []string{"fire"}), ErrGone)
	count, err := r.Count(ctx, p)
	require.NoError(t, err)
	assert.Zero(t, count)
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
