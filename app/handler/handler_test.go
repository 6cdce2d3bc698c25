package handler

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/access911/access911-infra/app/calls"
	"github.com/access911/access911-infra/app/metrics"
	"github.com/access911/access911-infra/app/store"
	"github.com/access911/access911-infra/contract"
)

// memStore is an in-memory handler.Store for router tests; the DynamoDB
// store itself is tested against DynamoDB Local. Like the table, it keys a
// call by conversation_id + timestamp, and Get answers an id's latest call.
type memStore struct {
	mu    sync.Mutex
	items map[callKey]calls.Call
	// failPut makes every Put fail, like a table that cannot be written.
	failPut bool
	// controls are the failover control items by region; failControl
	// makes reading them fail.
	controls    map[string]contract.ControlState
	failControl bool
}

type callKey struct {
	id string
	ts int64
}

func newMemStore() *memStore { return &memStore{items: map[callKey]calls.Call{}} }

func (m *memStore) Put(_ context.Context, c calls.Call) (calls.Call, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failPut {
		return calls.Call{}, false, assert.AnError
	}
	k := callKey{c.ConversationID, c.Timestamp}
	if old, ok := m.items[k]; ok {
		return old, false, nil
	}
	m.items[k] = c
	return c, true, nil
}

func (m *memStore) Get(_ context.Context, id string) (calls.Call, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var latest *calls.Call
	for k, c := range m.items {
		if k.id == id && (latest == nil || c.Timestamp > latest.Timestamp) {
			latest = &c
		}
	}
	if latest == nil {
		return calls.Call{}, store.ErrNotFound
	}
	return *latest, nil
}

func (m *memStore) QueryByType(_ context.Context, q store.Query) (store.Page, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []calls.Call
	for _, c := range m.items {
		if c.EmergencyType == q.EmergencyType && c.Timestamp >= q.Since {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Timestamp > out[j].Timestamp })
	if len(out) > int(q.Limit) {
		out = out[:q.Limit]
	}
	return store.Page{Calls: out}, nil
}

func (m *memStore) BatchPut(_ context.Context, cs []calls.Call) (store.BatchResult, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, c := range cs {
		m.items[callKey{c.ConversationID, c.Timestamp}] = c
	}
	return store.BatchResult{Written: len(cs), Batches: (len(cs) + 24) / 25}, nil
}

func (m *memStore) Health(context.Context) error { return nil }

func (m *memStore) Control(_ context.Context, region string) (contract.ControlState, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failControl {
		return contract.ControlState{}, errors.New("table unavailable")
	}
	if st, ok := m.controls[region]; ok {
		return st, nil
	}
	return contract.ControlState{Region: region, Allowed: true}, nil
}

func (m *memStore) SetAudioKey(_ context.Context, id, key string) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for k, c := range m.items {
		if k.id == id {
			c.AudioKey = key
			m.items[k] = c
			n++
		}
	}
	return n, nil
}

func newTestHandler() (*Handler, *memStore) {
	st := newMemStore()
	return &Handler{Store: st, Region: "us-east-1", Now: func() time.Time { return time.Unix(1700000100, 0) }}, st
}

func do(t *testing.T, h http.Handler, method, path, body string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

const goodCall = `{"conversation_id":"conv-1","timestamp":1700000000,"location":"Main St","latitude":36.16,"longitude":-86.78,"emergency_type":"tornado","severity":4,"call_duration_secs":95}`

func TestCreateCallIsIdempotent(t *testing.T) {
	h, st := newTestHandler()
	routes := h.Routes()
	first := do(t, routes, "POST", "/calls", goodCall)
	require.Equal(t, http.StatusCreated, first.Code, first.Body.String())
	second := do(t, routes, "POST", "/calls", goodCall)
	require.Equal(t, http.StatusOK, second.Code, "a repeated delivery is not an error")
	assert.JSONEq(t, first.Body.String(), second.Body.String(), "and it answers the same")
	assert.Len(t, st.items, 1)

	var c calls.Call
	require.NoError(t, json.Unmarshal(first.Body.Bytes(), &c))
	assert.Equal(t, "us-east-1", c.Region)
	assert.Equal(t, int64(1700000100), c.ReceivedAt)
	assert.Equal(t, int64(1700000100+RetentionDays*86400), c.ExpiresAt)
	assert.Equal(t, "*", first.Header().Get("Access-Control-Allow-Origin"))
}

func TestBadInputIs400NamingTheField(t *testing.T) {
	h, _ := newTestHandler()
	routes := h.Routes()
	tests := []struct {
		method, path, body string
		field              string
	}{
		{"POST", "/calls", `{"conversation_id":"x"}`, "timestamp"},
		{"POST", "/calls", strings.Replace(goodCall, `"severity":4`, `"severity":9`, 1), "severity"},
		{"POST", "/calls", `not json`, ""},
		{"POST", "/simulate", `{"scenario":"nashville_tornado","num_calls":100000}`, "num_calls"},
		{"POST", "/simulate", `{"scenario":"mars","num_calls":1}`, "scenario"},
		{"GET", "/calls", ``, "emergency_type"},
		{"GET", "/calls?emergency_type=alien", ``, "emergency_type"},
		{"GET", "/calls?emergency_type=fire&limit=0", ``, "limit"},
		{"GET", "/calls?emergency_type=fire&limit=abc", ``, "limit"},
		{"GET", "/calls?emergency_type=fire&since=-4", ``, "since"},
		{"GET", "/calls?emergency_type=fire&since=20&until=10", ``, "until"},
		{"GET", "/calls?emergency_type=fire&colour=red", ``, "colour"},
		{"GET", "/calls/bad%20id", ``, "id"},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.path+" "+tc.field, func(t *testing.T) {
			rec := do(t, routes, tc.method, tc.path, tc.body)
			require.Equal(t, http.StatusBadRequest, rec.Code, rec.Body.String())
			var body errorBody
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
			require.NotEmpty(t, body.Problems)
			fields := []string{}
			for _, p := range body.Problems {
				fields = append(fields, p.Field)
				assert.NotEmpty(t, p.Problem)
			}
			assert.Contains(t, fields, tc.field)
		})
	}
}

func TestOversizedBody(t *testing.T) {
	h, _ := newTestHandler()
	rec := do(t, h.Routes(), "POST", "/calls", `{"location":"`+strings.Repeat("x", contract.MaxBodyBytes+10)+`"}`)
	assert.Equal(t, http.StatusRequestEntityTooLarge, rec.Code)
}

func TestGetAndQuery(t *testing.T) {
	h, _ := newTestHandler()
	routes := h.Routes()
	require.Equal(t, http.StatusCreated, do(t, routes, "POST", "/calls", goodCall).Code)
	assert.Equal(t, http.StatusOK, do(t, routes, "GET", "/calls/conv-1", "").Code)
	assert.Equal(t, http.StatusNotFound, do(t, routes, "GET", "/calls/conv-2", "").Code)
	rec := do(t, routes, "GET", "/calls?emergency_type=tornado&limit=10", "")
	require.Equal(t, http.StatusOK, rec.Code)
	var page store.Page
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &page))
	require.Len(t, page.Calls, 1)
	assert.Equal(t, "conv-1", page.Calls[0].ConversationID)
}

func TestSimulate(t *testing.T) {
	h, st := newTestHandler()
	rec := do(t, h.Routes(), "POST", "/simulate", `{"scenario":"nashville_tornado","num_calls":1000,"seed":42}`)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	var out SimulateResponse
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &out))
	assert.Equal(t, 1000, out.Written)
	assert.Equal(t, 0, out.Failed)
	assert.Equal(t, int64(42), out.Seed)
	assert.Len(t, st.items, 1000)
}

func TestUnknownRouteAndHealth(t *testing.T) {
	h, _ := newTestHandler()
	assert.Equal(t, http.StatusNotFound, do(t, h.Routes(), "DELETE", "/calls/conv-1", "").Code)
	rec := do(t, h.Routes(), "GET", "/health", "")
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.JSONEq(t, `{"status":"ok","region":"us-east-1"}`, rec.Body.String())
}

func TestControlAnswersWhetherARegionMayTakeCallers(t *testing.T) {
	denied := contract.ControlState{Region: "us-east-1", Allowed: false, ChangedAt: 1764900000, By: "ops@laptop", Reason: "gray failure"}
	cases := []struct {
		name        string
		path        string
		fail        bool
		status      int
		body        string
		deniedMatch bool // the gate's string-matching check finds ControlDeniedMarker
	}{
		{"no item: allowed", "/control/us-west-2", false, 200, `{"region":"us-west-2","allowed":true,"served_by":"us-east-1"}`, false},
		{"denied", "/control/us-east-1", false, 200,
			`{"region":"us-east-1","allowed":false,"changed_at":1764900000,"changed_by":"ops@laptop","reason":"gray failure","served_by":"us-east-1"}`, true},
		{"not a region", "/control/nowhere", false, 400, `{"error":"Bad Request","problems":[{"field":"region","problem":"not an AWS region name, such as us-east-1"}]}`, false},
		{"table unavailable: no answer, not a denial", "/control/us-east-1", true, 503, `{"error":"the failover control cannot be read in us-east-1"}`, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h, st := newTestHandler()
			st.controls = map[string]contract.ControlState{"us-east-1": denied}
			st.failControl = tc.fail
			rec := do(t, h.Routes(), "GET", tc.path, "")
			assert.Equal(t, tc.status, rec.Code)
			assert.JSONEq(t, tc.body, rec.Body.String())
			assert.Equal(t, tc.deniedMatch, strings.Contains(rec.Body.String(), contract.ControlDeniedMarker),
				"Route 53 matches the marker in the raw body")
		})
	}
}

func TestLambdaAdapter(t *testing.T) {
	h, _ := newTestHandler()
	fn := LambdaAdapter(h.Routes())
	resp, err := fn(context.Background(), events.APIGatewayProxyRequest{
		HTTPMethod: "POST", Path: "/calls", Body: goodCall,
		Headers: map[string]string{"Content-Type": "application/json"},
	})
	require.NoError(t, err)
	assert.Equal(t, http.StatusCreated, resp.StatusCode)
	assert.Equal(t, "application/json", resp.Headers["Content-Type"])

	resp, err = fn(context.Background(), events.APIGatewayProxyRequest{
		HTTPMethod: "GET", Path: "/calls",
		MultiValueQueryStringParameters: map[string][]string{"emergency_type": {"tornado"}},
	})
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode, resp.Body)
	assert.True(t, bytes.Contains([]byte(resp.Body), []byte("conv-1")))
}

type recordingArchive struct {
	mu    sync.Mutex
	keys  map[string][]byte
	types map[string]string
	fail  bool
}

func (a *recordingArchive) Archive(_ context.Context, key, contentType string, body []byte) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.fail {
		return assert.AnError
	}
	if a.keys == nil {
		a.keys, a.types = map[string][]byte{}, map[string]string{}
	}
	a.keys[key] = append([]byte(nil), body...)
	a.types[key] = contentType
	return nil
}

func (a *recordingArchive) Exists(_ context.Context, key string) (bool, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	_, ok := a.keys[key]
	return ok, nil
}

func TestNewCallsAreArchivedOnce(t *testing.T) {
	h, _ := newTestHandler()
	arch := &recordingArchive{}
	h.Archive = arch
	routes := h.Routes()
	require.Equal(t, http.StatusCreated, do(t, routes, "POST", "/calls", goodCall).Code)
	require.Equal(t, http.StatusOK, do(t, routes, "POST", "/calls", goodCall).Code)
	// received 2023-11-14 (Now is Unix 1700000100), raw body kept as sent
	assert.Equal(t, map[string][]byte{"calls/2023/11/14/conv-1-1700000000.json": []byte(goodCall)}, arch.keys,
		"the raw payload, under its date and id, once")
}

func TestArchiveFailureDoesNotFailTheCall(t *testing.T) {
	h, st := newTestHandler()
	h.Archive = &recordingArchive{fail: true}
	assert.Equal(t, http.StatusCreated, do(t, h.Routes(), "POST", "/calls", goodCall).Code)
	assert.Len(t, st.items, 1, "the table is the record; the archive is a copy")
}

func TestEveryRequestEmitsEMF(t *testing.T) {
	h, _ := newTestHandler()
	var buf bytes.Buffer
	h.Metrics = &metrics.Emitter{W: &buf}
	routes := h.Routes()
	do(t, routes, "POST", "/calls", goodCall)
	do(t, routes, "POST", "/calls", `{}`)
	var names []string
	var statuses []float64
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var rec map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &rec))
		for _, m := range rec["_aws"].(map[string]any)["CloudWatchMetrics"].([]any)[0].(map[string]any)["Metrics"].([]any) {
			names = append(names, m.(map[string]any)["Name"].(string))
		}
		if s, ok := rec["status"].(float64); ok {
			statuses = append(statuses, s)
			assert.Equal(t, 0.0, rec["Errors"], "4xx is not an error metric")
		}
	}
	assert.Equal(t, []string{"CallsWritten", "RequestCount", "ResponseTime", "Errors", "RequestCount", "ResponseTime", "Errors"}, names)
	assert.Equal(t, []float64{201, 400}, statuses)
}

// Every route of the contract has a handler: Routes panics otherwise, and
// each answers JSON, not the catch-all 404.
func TestEveryContractRouteIsServed(t *testing.T) {
	h, _ := newTestHandler()
	served := h.routeHandlers()
	for _, r := range contract.Routes {
		assert.Contains(t, served, r, r.Pattern())
	}
	assert.Len(t, served, len(contract.Routes), "no handler for a route the API does not expose")
	assert.NotPanics(t, func() { h.Routes() })
}

// Every answer is JSON and every bad input a 4xx naming what is wrong:
// the edge cases a newcomer found against serve.
func TestEdgeCasesAre4xxJSON(t *testing.T) {
	h, st := newTestHandler()
	routes := h.Routes()
	call := func(edit string) string { return strings.Replace(goodCall, `"conv-1"`, edit, 1) }
	tests := []struct {
		name, method, path, contentType, body string
		status                                int
		want                                  string
	}{
		{"dot id", "POST", "/calls", "application/json", call(`"."`), 400, `"field":"conversation_id"`},
		{"dot-dot id", "POST", "/calls", "application/json", call(`".."`), 400, `"field":"conversation_id"`},
		{"dotted id is fine", "POST", "/calls", "application/json", call(`"v1.2:call-3"`), 201, `"conversation_id":"v1.2:call-3"`},
		{"path with ..", "GET", "/calls/../x", "", "", 404, `not in canonical form`},
		{"path with //", "GET", "//calls", "", "", 404, `not in canonical form`},
		{"text/plain body", "POST", "/calls", "text/plain", goodCall, 415, `"field":"Content-Type"`},
		{"form body (curl -d without a header)", "POST", "/calls", "application/x-www-form-urlencoded", goodCall, 415, `must be application/json`},
		{"json with charset", "POST", "/calls", "application/json; charset=utf-8", call(`"cs-1"`), 201, `"cs-1"`},
		{"integer beyond int64", "POST", "/calls", "application/json",
			strings.Replace(goodCall, `"timestamp":1700000000`, `"timestamp":99999999999999999999`, 1), 400, `"timestamp","problem":"must be at most 4102444800"`},
		{"invalid UTF-8", "POST", "/calls", "application/json", strings.Replace(goodCall, "Main St", "Main \xff St", 1), 400, `not valid UTF-8`},
		{"CORS preflight", "OPTIONS", "/calls", "", "", 200, `{}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, "http://x"+tt.path, strings.NewReader(tt.body))
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			req.URL.Path = tt.path // keep the raw path, as a client could send it
			rec := httptest.NewRecorder()
			routes.ServeHTTP(rec, req)
			assert.Equal(t, tt.status, rec.Code, rec.Body.String())
			assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
			assert.Contains(t, rec.Body.String(), tt.want)
		})
	}
	assert.Len(t, st.items, 2, "only the two good calls were stored")
}

func TestPreflightAnswersCORS(t *testing.T) {
	h, _ := newTestHandler()
	rec := do(t, h.Routes(), "OPTIONS", "/calls/abc", "")
	assert.Equal(t, contract.CORSAllowMethods, rec.Header().Get("Access-Control-Allow-Methods"))
	assert.Equal(t, contract.CORSAllowHeaders, rec.Header().Get("Access-Control-Allow-Headers"))
	assert.Equal(t, "*", rec.Header().Get("Access-Control-Allow-Origin"))
}

type failingBody struct{}

func (failingBody) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }

func TestUnreadableBodyIs400Not413(t *testing.T) {
	h, _ := newTestHandler()
	req := httptest.NewRequest("POST", "/calls", failingBody{})
	rec := httptest.NewRecorder()
	h.Routes().ServeHTTP(rec, req)
	assert.Equal(t, http.StatusBadRequest, rec.Code, "a body shorter than its Content-Length, or broken chunking")
	assert.Contains(t, rec.Body.String(), "body could not be read")
}
