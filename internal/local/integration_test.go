//go:build integration

package local

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/access911/access911-infra/app/handler"
	"github.com/access911/access911-infra/app/store"
	"github.com/access911/access911-infra/artifact"
	"github.com/access911/access911-infra/internal/emulator"
)

// ddbLocal and moto are the emulators every test in this binary shares.
var (
	ddbLocal = emulator.DynamoDBLocalForTests()
	moto     = emulator.MotoForTests()
	// redisServer is the read cache's, shared; each test flushes it.
	redisServer = emulator.RedisForTests()
)

func TestMain(m *testing.M) { emulator.MainAll(m, ddbLocal, moto, redisServer) }

func startServer(t *testing.T, stack string) *Server {
	t.Helper()
	ddb := ddbLocal.Require(t)
	root, err := artifact.FindUp(".", "go.mod")
	require.NoError(t, err)
	s, err := Start(context.Background(), Options{ProjectDir: root, Stack: stack, DynamoDBEndpoint: ddb.URL})
	require.NoError(t, err)
	t.Cleanup(s.Close)
	return s
}

// The main job: the seed's simulation through the local API, read back.
func TestDemoEndToEnd(t *testing.T) {
	s := startServer(t, "eu-west-1")
	sum, err := RunDemo(context.Background(), s)
	require.NoError(t, err)
	assert.Equal(t, 1000, sum.Simulate.Written)
	assert.Equal(t, 40, sum.Simulate.Batches)
	assert.Zero(t, sum.Simulate.Failed)
	assert.Equal(t, 1000, sum.Total)
	assert.Greater(t, sum.ByType["tornado"], sum.ByType["hazmat"])
	assert.Equal(t, "eu-west-1", sum.Sample.Region)
}

func TestWebhookOverHTTP(t *testing.T) {
	s := startServer(t, "us-east-1")
	body := `{"conversation_id":"http-1","timestamp":1700000000,"location":"Broadway","latitude":36.16,"longitude":-86.78,"emergency_type":"fire","severity":3,"call_duration_secs":42}`
	codes := []int{}
	for i := 0; i < 3; i++ {
		resp, err := http.Post(s.URL+"/calls", "application/json", strings.NewReader(body))
		require.NoError(t, err)
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		codes = append(codes, resp.StatusCode)
	}
	assert.Equal(t, []int{201, 200, 200}, codes, "a redelivered webhook is stored once")

	resp, err := http.Get(s.URL + "/calls/http-1")
	require.NoError(t, err)
	var got map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&got))
	resp.Body.Close()
	assert.Equal(t, "Broadway", got["location"])

	resp, err = http.Post(s.URL+"/calls", "application/json", strings.NewReader(`{"conversation_id":"http-2","latitude":200}`))
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Contains(t, string(b), `"field":"latitude"`)

	resp, err = http.Get(s.URL + "/health")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	status, out, err := PostJSON(context.Background(), s.URL+"/simulate", map[string]any{"scenario": "california_earthquake", "num_calls": 30, "seed": 3}, "")
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, status, out)
	assert.Contains(t, out, `"written":30`)
}

// /simulate through the handler with injected throttling stores all 1000
// calls exactly once.
func TestSimulateUnderThrottling(t *testing.T) {
	ddb := ddbLocal.Require(t)
	th := emulator.NewThrottle(0.25, 0.5, 7)
	db := store.NewLocalClient(ddb.URL, th.Apply)
	table := "sim-throttled-" + time.Now().Format("150405.000")
	require.NoError(t, store.EnsureTable(context.Background(), db, table))
	h := &handler.Handler{Store: &store.Store{DB: db, Table: table}, Region: "us-west-2"}
	srv := httptest.NewServer(h.Routes())
	defer srv.Close()

	resp, err := http.Post(srv.URL+"/simulate", "application/json",
		bytes.NewReader([]byte(`{"scenario":"gulf_hurricane","num_calls":1000,"seed":5}`)))
	require.NoError(t, err)
	var out handler.SimulateResponse
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, 1000, out.Written)
	assert.Zero(t, out.Failed)
	assert.Positive(t, out.Retried)
	assert.Positive(t, th.Failed.Load())
	assert.Positive(t, th.Partial.Load())
	assert.Equal(t, 1000, emulator.CountItems(t, store.NewLocalClient(ddb.URL), table), "exactly 1000 items")
	t.Logf("throttling injected: %d errors, %d partial batches; %d re-sends; %d ms", th.Failed.Load(), th.Partial.Load(), out.Retried, out.DurationMs)
}

// A body sent slowly is cut off at the read timeout and answered 400, as
// an unreadable body; the connection is not held.
func TestSlowBodyIsTimedOut(t *testing.T) {
	ddb := ddbLocal.Require(t)
	root, err := artifact.FindUp(".", "go.mod")
	require.NoError(t, err)
	s, err := Start(context.Background(), Options{ProjectDir: root, Stack: "us-east-1", DynamoDBEndpoint: ddb.URL, ReadTimeout: 500 * time.Millisecond})
	require.NoError(t, err)
	t.Cleanup(s.Close)
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.URL, "http://"))
	require.NoError(t, err)
	defer conn.Close()
	_, err = conn.Write([]byte("POST /calls HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{\"conv"))
	require.NoError(t, err)
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(5*time.Second)))
	reply, _ := io.ReadAll(conn) // the server answers and closes well before our 5 s
	assert.Contains(t, string(reply), "400 Bad Request")
	assert.Contains(t, string(reply), "body could not be read")
}
