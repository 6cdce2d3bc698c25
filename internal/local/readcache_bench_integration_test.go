//go:build integration

package local

import (
	"context"
	"fmt"
	"github.com/access911/access911-infra/internal/feedbench"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/access911/access911-infra/app/calls"
	"github.com/access911/access911-infra/artifact"
)

// benchServer is a local server on DynamoDB Local, with the read cache on
// the shared redis-server (flushed) or without it.
func benchServer(b *testing.B, cached bool) *Server {
	b.Helper()
	ddb := ddbLocal.Require(b)
	root, err := artifact.FindUp(".", "go.mod")
	if err != nil {
		b.Fatal(err)
	}
	o := Options{ProjectDir: root, Stack: "us-east-1", DynamoDBEndpoint: ddb.URL, ThrottleRate: 1e6, ThrottleBurst: 1e6}
	if cached {
		addr := redisServer.Require(b).URL
		if err := redis.NewClient(&redis.Options{Addr: addr}).FlushAll(context.Background()).Err(); err != nil {
			b.Fatal(err)
		}
		o.ReadCache = &ReadCacheOptions{Addr: addr}
	}
	s, err := Start(context.Background(), o)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(s.Close)
	return s
}

// readOne GETs a call through serve's HTTP and returns its body.
func readOne(b *testing.B, client *http.Client, url string) string {
	resp, err := client.Get(url)
	if err != nil {
		b.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("GET %s: %d %s", url, resp.StatusCode, body)
	}
	return string(body)
}

// benchGetCall times GET /calls/{id} of one stored call, b.N times.
func benchGetCall(b *testing.B, cached bool) {
	s := benchServer(b, cached)
	id := fmt.Sprintf("bench-read-%d", time.Now().UnixNano())
	if err := feedbench.PostCall(http.DefaultClient, s.URL, calls.Call{ConversationID: id, Timestamp: time.Now().Unix(), Location: "Main St",
		Latitude: 36.16, Longitude: -86.78, EmergencyType: "tornado", Severity: 4, CallDurationSecs: 95}); err != nil {
		b.Fatal(err)
	}
	client := &http.Client{}
	url := s.URL + "/calls/" + id
	readOne(b, client, url) // a miss at most: the entry is there from here on
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		readOne(b, client, url)
	}
}

// BenchmarkGetCallCacheHit: GET /calls/{id} answered from redis-server.
func BenchmarkGetCallCacheHit(b *testing.B) { benchGetCall(b, true) }

// BenchmarkGetCallTable: the same read from DynamoDB Local, no cache.
func BenchmarkGetCallTable(b *testing.B) { benchGetCall(b, false) }

// BenchmarkReadCacheInvalidation: a call modified in the table, then read
// until a read sees it; reports the delay's p50 and p99 (the stream, its
// 250 ms poll, and the write into the cache).
func BenchmarkReadCacheInvalidation(b *testing.B) {
	s := benchServer(b, true)
	id := fmt.Sprintf("bench-inval-%d", time.Now().UnixNano())
	if err := feedbench.PostCall(http.DefaultClient, s.URL, calls.Call{ConversationID: id, Timestamp: time.Now().Unix(), Location: "Main St",
		Latitude: 36.16, Longitude: -86.78, EmergencyType: "fire", Severity: 3, CallDurationSecs: 40}); err != nil {
		b.Fatal(err)
	}
	client := &http.Client{}
	url := s.URL + "/calls/" + id
	readOne(b, client, url)
	delays := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		key := fmt.Sprintf("calls/audio/%s-%d.mp3", id, i)
		start := time.Now()
		if _, err := s.Store.SetAudioKey(context.Background(), id, key); err != nil {
			b.Fatal(err)
		}
		for !strings.Contains(readOne(b, client, url), key) {
			if time.Since(start) > 10*time.Second {
				b.Fatalf("the write was not read back within 10 s")
			}
			time.Sleep(5 * time.Millisecond)
		}
		delays = append(delays, time.Since(start))
	}
	b.StopTimer()
	sort.Slice(delays, func(i, j int) bool { return delays[i] < delays[j] })
	b.ReportMetric(float64(feedbench.Percentile(delays, 0.50).Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(feedbench.Percentile(delays, 0.99).Microseconds())/1000, "p99-ms")
}
