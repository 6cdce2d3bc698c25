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
