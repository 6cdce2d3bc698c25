package load

import (
	"bytes"
	"context"
	"image/png"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/access911/access911-infra/internal/local"
)

func TestParseSteps(t *testing.T) {
	steps, err := ParseSteps("100rps:10s, 250u:5s")
	require.NoError(t, err)
	assert.Equal(t, []Step{{Rate: 100, Duration: 10 * time.Second}, {Users: 250, Duration: 5 * time.Second}}, steps)
	q, err := ParseSteps("quick")
	require.NoError(t, err)
	assert.Equal(t, Profiles["quick"], q)
	for _, bad := range []string{"100:10s", "100rps", "0rps:1s", "100rps:0s", "100rps:3m", "99999u:1s", "300rps:2m,300rps:2m,300rps:2m,300rps:2m,300rps:2m,300rps:2m"} {
		_, err := ParseSteps(bad)
		assert.Error(t, err, bad)
	}
}

func TestTargetMustBeLoopbackUnlessAllowed(t *testing.T) {
	assert.NoError(t, checkTarget("http://127.0.0.1:8911", false))
	assert.NoError(t, checkTarget("http://localhost:8911", false))
	assert.Error(t, checkTarget("https://api.example.org", false))
	assert.NoError(t, checkTarget("https://api.example.org", true))
	assert.Error(t, checkTarget("ftp://127.0.0.1", false))
}

func TestPercentile(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	assert.Equal(t, 50*time.Millisecond, Percentile(d, .5))
	assert.Equal(t, 95*time.Millisecond, Percentile(d, .95))
	assert.Equal(t, 100*time.Millisecond, Percentile(d, 1))
	assert.Equal(t, time.Duration(0), Percentile(nil, .5))
}

// A tiny profile against a throttled server: the report's arithmetic holds
// and 429s are counted as throttled, not as failures.
func TestRunArithmetic(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(2 * time.Millisecond)
		w.WriteHeader(http.StatusCreated)
	})
	srv := httptest.NewServer(local.Throttle(ok, 40, 10))
	defer srv.Close()
	rep, err := Run(context.Background(), Options{
		Target: srv.URL,
		Steps:  []Step{{Rate: 20, Duration: 2 * time.Second}, {Rate: 150, Duration: 2 * time.Second}},
	})
	require.NoError(t, err)
	require.Len(t, rep.Steps, 2)
	total := 0
	for _, s := range rep.Steps {
		assert.Equal(t, s.Requests, s.OK+s.Throttled+s.Failures, s.Label)
		assert.Zero(t, s.Failures, "429 is not a failure")
		assert.LessOrEqual(t, s.P50, s.P95)
		assert.LessOrEqual(t, s.P95, s.P99)
		assert.LessOrEqual(t, s.P99, s.Max)
		codes := 0
		for _, n := range s.Codes {
			codes += n
		}
		assert.Equal(t, s.Requests, codes)
		total += s.Requests
	}
	assert.InDelta(t, 40, rep.Steps[0].Requests, 4, "20 rps for 2 s")
	assert.Zero(t, rep.Steps[0].Throttled, "below the throttle")
	assert.InDelta(t, 300, rep.Steps[1].Requests, 30, "150 rps for 2 s")
	assert.Positive(t, rep.Steps[1].Throttled, "above the throttle")
	assert.Equal(t, rep.Steps[1].Codes[http.StatusTooManyRequests], rep.Steps[1].Throttled)

	sum := 0
	for _, s := range rep.Timeline {
		assert.Equal(t, s.Requests, s.OK+s.Throttled+s.Failures)
		sum += s.Requests
	}
	assert.Equal(t, total, sum, "the timeline holds every request")

	var buf bytes.Buffer
	require.NoError(t, rep.WriteChart(&buf))
	img, err := png.Decode(&buf)
	require.NoError(t, err)
	assert.Equal(t, 960, img.Bounds().Dx(), "10 in at 96 dpi")
	var csvBuf bytes.Buffer
	require.NoError(t, rep.WriteCSV(&csvBuf))
	assert.Contains(t, csvBuf.String(), "20 rps,")
}
