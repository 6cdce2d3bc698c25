//go:build integration

package emulator

import (
	"context"
	"fmt"
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

var ddbLocal = DynamoDBLocalForTests()

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
