//go:build integration

package local

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/access911/access911-infra/app/calls"
	"github.com/access911/access911-infra/app/handler"
	"github.com/access911/access911-infra/app/intake"
	"github.com/access911/access911-infra/app/store"
	"github.com/access911/access911-infra/artifact"
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

// BenchmarkHandlerPostCall: POST /calls as the Lambda runs it: an API
// Gateway proxy event through LambdaAdapter into the router (validation,
// stamping, the idempotent conditional put, the JSON answer), in process,
// as in the function (there is no HTTP server in a Lambda).
func BenchmarkHandlerPostCall(b *testing.B) {
	db, table := benchTable(b)
	h := &handler.Handler{Store: &store.Store{DB: db, Table: table}, Region: "us-east-1"}
	invoke := handler.LambdaAdapter(h.Routes())
	prefix := "h-" + strconv.FormatInt(time.Now().UnixNano(), 36) + "-"
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		resp, err := invoke(context.Background(), events.APIGatewayProxyRequest{HTTPMethod: "POST", Path: "/calls",
			Headers: map[string]string{"Content-Type": "application/json"},
			Body:    `{"conversation_id":"` + prefix + strconv.Itoa(i) + `","timestamp":1700000000,"location":"Main St","latitude":36.16,"longitude":-86.78,"emergency_type":"tornado","severity":4,"call_duration_secs":95}`})
		if err != nil || resp.StatusCode != http.StatusCreated {
			b.Fatalf("status %d: %v %s", resp.StatusCode, err, resp.Body)
		}
	}
}

// BenchmarkServePostCall: the same through the local server's HTTP (what
// serve adds: a loopback HTTP round trip).
func BenchmarkServePostCall(b *testing.B) {
	db, table := benchTable(b)
	h := &handler.Handler{Store: &store.Store{DB: db, Table: table}, Region: "us-east-1"}
	srv := httptest.NewServer(h.Routes())
	defer srv.Close()
	client := srv.Client()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		body := `{"conversation_id":"s-` + strconv.Itoa(i) + `","timestamp":1700000000,"location":"Main St","latitude":36.16,"longitude":-86.78,"emergency_type":"tornado","severity":4,"call_duration_secs":95}`
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

// p50 reports the median of the per-request latencies as "p50-ms".
func p50(b *testing.B, d []time.Duration) {
	b.Helper()
	if len(d) == 0 {
		return
	}
	slices.Sort(d)
	b.ReportMetric(float64(d[len(d)/2].Microseconds())/1000, "p50-ms")
}

// postCalls posts b.N distinct calls and checks each answer is want.
func postCalls(b *testing.B, url, prefix string, want int) {
	b.Helper()
	client := &http.Client{}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		body := `{"conversation_id":"` + prefix + strconv.Itoa(i) + `","timestamp":1700000000,"location":"Main St","latitude":36.16,"longitude":-86.78,"emergency_type":"tornado","severity":4,"call_duration_secs":95}`
		start := time.Now()
		resp, err := client.Post(url+"/calls", "application/json", strings.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		lat = append(lat, time.Since(start))
		if resp.StatusCode != want {
			b.Fatalf("status %d, want %d", resp.StatusCode, want)
		}
	}
	b.StopTimer()
	p50(b, lat)
}

// BenchmarkPostCallDirect201 and BenchmarkPostCallBuffered202: POST /calls
// answered 201 (the conditional put, direct mode) and 202 (buffered mode:
// the Lambda's SendMessage to the intake queue on moto's SQS), each with
// its p50.
func BenchmarkPostCallDirect201(b *testing.B) {
	s := benchIntakeServer(b, "direct")
	postCalls(b, s.URL, "d201-"+strconv.FormatInt(time.Now().UnixNano(), 36)+"-", http.StatusCreated)
}

func BenchmarkPostCallBuffered202(b *testing.B) {
	s := benchIntakeServer(b, "buffered")
	postCalls(b, s.URL, "b202-"+strconv.FormatInt(time.Now().UnixNano(), 36)+"-", http.StatusAccepted)
}

func benchIntakeServer(b *testing.B, mode string) *Server {
	b.Helper()
	ddb, mt := ddbLocal.Require(b), moto.Require(b)
	root, err := artifact.FindUp(".", "go.mod")
	if err != nil {
		b.Fatal(err)
	}
	s, err := Start(context.Background(), Options{ProjectDir: root, Stack: "us-east-1", DynamoDBEndpoint: ddb.URL,
		Intake: &IntakeOptions{SQSEndpoint: mt.URL, Concurrency: -1, Mode: mode}}) // no drainer: only the front path is measured
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(s.Close)
	return s
}

// BenchmarkDrain1000: the drain function's view of 1000 queued calls: 100
// SQS batches of 10 handed to Drainer.Handle, 8 invocations at a time (the
// mapping's concurrency), each message a conditional put. Compare with
// BenchmarkRawParallelBatchWrite1000, the unconditional floor.
func BenchmarkDrain1000(b *testing.B) {
	db, table := benchTable(b)
	d := &intake.Drainer{Store: &store.Store{DB: db, Table: table}}
	batches := make([][]events.SQSEvent, b.N)
	for i := range batches {
		for start := 0; start < 1000; start += 10 {
			var ev events.SQSEvent
			for j := start; j < start+10; j++ {
				body, _ := json.Marshal(benchCall(i*1000 + j))
				ev.Records = append(ev.Records, events.SQSMessage{MessageId: strconv.Itoa(j), Body: string(body)})
			}
			batches[i] = append(batches[i], ev)
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var wg sync.WaitGroup
		sem := make(chan struct{}, store.BatchParallelism)
		for _, ev := range batches[i] {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				resp, err := d.Handle(context.Background(), ev)
				if err != nil || len(resp.BatchItemFailures) > 0 {
					b.Errorf("drain: %v, %d failures", err, len(resp.BatchItemFailures))
				}
			}()
		}
		wg.Wait()
	}
}

// BenchmarkRawParallelConditionalPut1000: the drain's fair floor: the same
// conditional PutItems of the same 1000 calls, raw, at the drain's
// concurrency (8 invocations of 10 messages, each message its own put).
func BenchmarkRawParallelConditionalPut1000(b *testing.B) {
	db, table := benchTable(b)
	items := make([]map[string]types.AttributeValue, 1000*b.N)
	for i := range items {
		items[i], _ = attributevalue.MarshalMap(benchCall(i))
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var wg sync.WaitGroup
		sem := make(chan struct{}, store.BatchParallelism*10)
		for _, item := range items[i*1000 : (i+1)*1000] {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				if _, err := db.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: &table, Item: item,
					ConditionExpression:      aws.String("attribute_not_exists(#pk)"),
					ExpressionAttributeNames: map[string]string{"#pk": "conversation_id"},
				}); err != nil {
					b.Error(err)
				}
			}()
		}
		wg.Wait()
	}
}

// BenchmarkRawConditionalPutItem: the bare SDK PutItem with the handler's
// condition (attribute_not_exists), what POST /calls asks of the table.
func BenchmarkRawConditionalPutItem(b *testing.B) {
	db, table := benchTable(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		item, _ := attributevalue.MarshalMap(benchCall(i))
		if _, err := db.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: &table, Item: item,
			ConditionExpression:      aws.String("attribute_not_exists(#pk)"),
			ExpressionAttributeNames: map[string]string{"#pk": "conversation_id"},
		}); err != nil {
			b.Fatal(err)
		}
	}
}
