package local

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestThrottleAnswers429PastTheBurst(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	// A near-zero refill rate: only the burst gets through.
	h := Throttle(ok, 0.001, 5)
	counts := map[int]int{}
	for i := 0; i < 20; i++ {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/health", nil))
		counts[rec.Code]++
		if rec.Code == http.StatusTooManyRequests {
			assert.JSONEq(t, `{"message":"Too Many Requests"}`, rec.Body.String())
		}
	}
	assert.Equal(t, map[int]int{http.StatusNoContent: 5, http.StatusTooManyRequests: 15}, counts)
}

func TestLoopbackOnly(t *testing.T) {
	for addr, ok := range map[string]bool{
		"127.0.0.1:8911": true, "[::1]:0": true, "localhost:80": true,
		"0.0.0.0:8911": false, "10.0.0.5:80": false, "example.org:80": false,
	} {
		err := requireLoopback(addr)
		assert.Equal(t, ok, err == nil, addr)
	}
}

// Keyed routes answer 403 as API Gateway does without the key (or with
// another region's); public routes need none.
func TestRequireAPIKeyLikeAPIGateway(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	h := RequireAPIKey(ok, "the-one-key-of-every-region")
	for _, tc := range []struct {
		method, path, key string
		want              int
	}{
		{"GET", "/calls?emergency_type=fire", "", http.StatusForbidden},
		{"GET", "/calls?emergency_type=fire", "another-regions-key", http.StatusForbidden},
		{"GET", "/calls?emergency_type=fire", "the-one-key-of-every-region", http.StatusNoContent},
		{"GET", "/calls/abc", "", http.StatusForbidden},
		{"POST", "/simulate", "", http.StatusForbidden},
		{"POST", "/calls", "the-one-key-of-every-region", http.StatusNoContent},
		{"GET", "/health", "", http.StatusNoContent},
		{"POST", "/webhooks/elevenlabs", "", http.StatusNoContent},
		{"POST", "/webhooks/elevenlabs/inbox", "", http.StatusNoContent},
	} {
		t.Run(tc.method+" "+tc.path+" "+tc.key, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, tc.path, nil)
			if tc.key != "" {
				req.Header.Set("x-api-key", tc.key)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			assert.Equal(t, tc.want, rec.Code)
			if tc.want == http.StatusForbidden {
				assert.JSONEq(t, `{"message":"Forbidden"}`, rec.Body.String())
			}
		})
	}
	rec := httptest.NewRecorder()
	RequireAPIKey(ok, "").ServeHTTP(rec, httptest.NewRequest("GET", "/calls?emergency_type=fire", nil))
	assert.Equal(t, http.StatusNoContent, rec.Code, "no key configured: nothing checked")
}
