//go:build integration

package esm

import (
	"context"
	"fmt"
	"github.com/access911/access911-infra/internal/emulator"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/access911/access911-infra/app/store"
)

var ddbLocal = emulator.DynamoDBLocalForTests()

func TestMain(m *testing.M) { ddbLocal.Main(m) }

// The stream reader hands on what is written after it starts, inserts only
// when filtered so, and nothing of the table's history.
func TestStreamReaderFollowsWhatComesAfterItStarts(t *testing.T) {
	url := ddbLocal.Require(t).URL
	ctx := context.Background()
	db := store.NewLocalClient(url)
	table := fmt.Sprint("stream-", time.Now().UnixNano())
	require.NoError(t, store.EnsureTable(ctx, db, table))
	put := func(id string) {
		_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: map[string]ddbtypes.AttributeValue{
			"conversation_id": &ddbtypes.AttributeValueMemberS{Value: id}, "timestamp": &ddbtypes.AttributeValueMemberN{Value: "1"},
			"emergency_type": &ddbtypes.AttributeValueMemberS{Value: "fire"}}})
		require.NoError(t, err)
	}
	put("history")
	var mu sync.Mutex
	var got []string
	batches := 0
	r := &StreamReader{DB: db, Table: table,
		Streams: dynamodbstreams.New(dynamodbstreams.Options{Region: "us-east-1", BaseEndpoint: aws.String(url),
			Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")}),
		Filter: func(name string) bool { return name == "INSERT" },
		Window: 300 * time.Millisecond,
		Function: func(_ context.Context, batch []StreamRecord) error {
			mu.Lock()
			defer mu.Unlock()
			for _, rec := range batch {
				got = append(got, rec.EventName+" "+rec.NewImage["conversation_id"].(*ddbtypes.AttributeValueMemberS).Value)
			}
			batches++
			return nil
		}}
	rctx, stop := context.WithCancel(ctx)
	require.NoError(t, r.Start(rctx))
	t.Cleanup(func() { stop(); r.Wait() })
	time.Sleep(500 * time.Millisecond)
	put("new-1")
	_, err := db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(table), Key: map[string]ddbtypes.AttributeValue{
		"conversation_id": &ddbtypes.AttributeValueMemberS{Value: "new-1"}, "timestamp": &ddbtypes.AttributeValueMemberN{Value: "1"}}})
	require.NoError(t, err)
	put("new-2")
	require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(got) >= 2 }, 10*time.Second, 100*time.Millisecond)
	time.Sleep(500 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{"INSERT new-1", "INSERT new-2"}, got, "in order, inserts only, no history")
	assert.Equal(t, 1, batches, "written within the window: one batch, as the mapping's batching window gathers them")
}

// A record the function always fails does not block its shard: the batch is
// bisected down to it, it is retried as often as the mapping says, then
// discarded to the on-failure destination, and the shard goes on; every
// other record is handed on once in a batch that succeeded.
func TestStreamReaderDiscardsWhatFailsEveryRetryAndMovesOn(t *testing.T) {
	url := ddbLocal.Require(t).URL
	ctx := context.Background()
	db := store.NewLocalClient(url)
	table := fmt.Sprint("poison-", time.Now().UnixNano())
	require.NoError(t, store.EnsureTable(ctx, db, table))
	put := func(id string) {
		_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: map[string]ddbtypes.AttributeValue{
			"conversation_id": &ddbtypes.AttributeValueMemberS{Value: id}, "timestamp": &ddbtypes.AttributeValueMemberN{Value: "1"}}})
		require.NoError(t, err)
	}
	var mu sync.Mutex
	delivered := map[string]int{}
	var failed []FailedBatch
	r := &StreamReader{DB: db, Table: table,
		Streams: dynamodbstreams.New(dynamodbstreams.Options{Region: "us-east-1", BaseEndpoint: aws.String(url),
			Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")}),
		Window: 300 * time.Millisecond, Poll: 20 * time.Millisecond,
		Retries: aws.Int(2), Bisect: true, MaxRecordAge: time.Minute, Mapping: "test-mapping",
		Log: slog.New(slog.NewTextHandler(testLog{t}, nil)),
		Function: func(_ context.Context, batch []StreamRecord) error {
			for _, rec := range batch {
				if idOf(rec) == "poison" {
					return fmt.Errorf("cannot handle %s", idOf(rec))
				}
			}
			mu.Lock()
			defer mu.Unlock()
			for _, rec := range batch {
				delivered[idOf(rec)]++
			}
			return nil
		},
		OnFailure: func(_ context.Context, f FailedBatch) error {
			mu.Lock()
			defer mu.Unlock()
			failed = append(failed, f)
			return nil
		}}
	rctx, stop := context.WithCancel(ctx)
	require.NoError(t, r.Start(rctx))
	t.Cleanup(func() { stop(); r.Wait() })
	for _, id := range []string{"ok-1", "ok-2", "poison", "ok-3", "ok-4"} {
		put(id)
	}
	state := func() string {
		return fmt.Sprintf("delivered %v, discarded batches %d, failed invocations %d, discarded records %d",
			delivered, len(failed), r.Stats.FailedInvocations.Load(), r.Stats.Discarded.Load())
	}
	// Bounds generous for a loaded CI machine; the test's claim is the
	// order and the counts, not the pace.
	require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(failed) >= 1 }, 30*time.Second, 50*time.Millisecond,
		"the poison record is discarded: %s", lockedState(&mu, state))
	put("after")
	require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return delivered["after"] >= 1 }, 30*time.Second, 50*time.Millisecond,
		"the shard moved on past the poison record: %s", lockedState(&mu, state))
	time.Sleep(300 * time.Millisecond) // a second delivery or discard would show
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, map[string]int{"ok-1": 1, "ok-2": 1, "ok-3": 1, "ok-4": 1, "after": 1}, delivered, "each good record once")
	require.Len(t, failed, 1, "one discarded batch")
	f := failed[0]
	require.Len(t, f.Records, 1)
	assert.Equal(t, "poison", idOf(f.Records[0]))
	assert.Equal(t, ConditionRetriesExhausted, f.Condition)
	assert.Equal(t, 3, f.Attempts, "the first try and two retries")
	assert.ErrorContains(t, f.Err, "cannot handle poison")
	assert.NotEmpty(t, f.ShardID)
	assert.Contains(t, f.StreamArn, table)
	assert.GreaterOrEqual(t, r.Stats.FailedInvocations.Load(), int64(4), "the whole batch, a half, a quarter..., then each retry")
	assert.Equal(t, int64(1), r.Stats.Discarded.Load())
}

// lockedState is a failure message computed when the assertion fails,
// under the test's lock.
type lockedStateMsg struct {
	mu    *sync.Mutex
	state func() string
}

func (l lockedStateMsg) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.state() }

func lockedState(mu *sync.Mutex, state func() string) fmt.Stringer { return lockedStateMsg{mu, state} }

// testLog writes the reader's log into the test's output.
type testLog struct{ t *testing.T }

func (w testLog) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func idOf(rec StreamRecord) string {
	return rec.NewImage["conversation_id"].(*ddbtypes.AttributeValueMemberS).Value
}
