//go:build integration

package local

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/access911/access911-infra/app/calls"
	"github.com/access911/access911-infra/app/handler"
	"github.com/access911/access911-infra/app/store"
)

// The benchmarks compare the handler and the store with bare SDK calls on the
// same DynamoDB Local table; only ratios between them mean anything.

func benchTable(b *testing.B) (*dynamodb.Client, string) {
	b.Helper()
	ddb := ddbLocal.Require(b)
	db := store.NewLocalClient(ddb.URL)
	table := fmt.Sprintf("bench-%d", time.Now().UnixNano())
	if err := store.EnsureTable(context.Background(), db, table); err != nil {
		b.Fatal(err)
	}
	return db, table
}

func benchCall(i int) calls.Call {
	return calls.Call{ConversationID: "bench-" + strconv.Itoa(i), Timestamp: 1700000000, Location: "Main St",
		Latitude: 36.16, Longitude: -86.78, EmergencyType: "tornado", Severity: 4, CallDurationSecs: 95,
		Status: "received", Region: "us-east-1", ReceivedAt: 1700000001}
}

// BenchmarkHandlerPostCall: POST /calls through HTTP, validation, the
// idempotent conditional put and the JSON answer.
func BenchmarkHandlerPostCall(b *testing.B) {
	db, table := benchTable(b)
	h := &handler.Handler{Store: &store.Store{DB: db, Table: table}, Region: "us-east-1"}
	srv := httptest.NewServer(h.Routes())
	defer srv.Close()
	client := srv.Client()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		body := `{"conversation_id":"h-` + strconv.Itoa(i) + `","timestamp":1700000000,"location":"Main St","latitude":36.16,"longitude":-86.78,"emergency_type":"tornado","severity":4,"call_duration_secs":95}`
		resp, err := client.Post(srv.URL+"/calls", "application/json", strings.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
}

// BenchmarkRawPutItem: the bare SDK PutItem of the same item.
func BenchmarkRawPutItem(b *testing.B) {
	db, table := benchTable(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		item, _ := attributevalue.MarshalMap(benchCall(i))
		if _, err := db.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: &table, Item: item}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSimulate1000: POST /simulate of 1000 calls (generation, 40
// batches of 25, 8 in parallel).
func BenchmarkSimulate1000(b *testing.B) {
	db, table := benchTable(b)
	h := &handler.Handler{Store: &store.Store{DB: db, Table: table}, Region: "us-east-1"}
	srv := httptest.NewServer(h.Routes())
	defer srv.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		resp, err := srv.Client().Post(srv.URL+"/simulate", "application/json",
			strings.NewReader(`{"scenario":"nashville_tornado","num_calls":1000,"seed":`+strconv.Itoa(i)+`}`))
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
}

// BenchmarkSequentialPutItem1000: 1000 PutItem calls one after another.
func BenchmarkSequentialPutItem1000(b *testing.B) {
	db, table := benchTable(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for j := 0; j < 1000; j++ {
			item, _ := attributevalue.MarshalMap(benchCall(i*1000 + j))
			if _, err := db.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: &table, Item: item}); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkRawParallelBatchWrite1000: a bare loop of BatchWriteItem, 40
// batches of 25 with 8 in flight, no retry logic or reporting.
func BenchmarkRawParallelBatchWrite1000(b *testing.B) {
	db, table := benchTable(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var wg sync.WaitGroup
		sem := make(chan struct{}, store.BatchParallelism)
		for start := 0; start < 1000; start += store.BatchSize {
			reqs := make([]types.WriteRequest, 0, store.BatchSize)
			for j := start; j < start+store.BatchSize; j++ {
				item, _ := attributevalue.MarshalMap(benchCall(i*1000 + j))
				reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
			}
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				if _, err := db.BatchWriteItem(context.Background(), &dynamodb.BatchWriteItemInput{
					RequestItems: map[string][]types.WriteRequest{table: reqs}}); err != nil {
					b.Error(err)
				}
			}()
		}
		wg.Wait()
	}
}
