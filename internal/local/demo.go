package local

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/access911/access911-infra/app/calls"
	"github.com/access911/access911-infra/app/handler"
	"github.com/access911/access911-infra/app/store"
	"github.com/access911/access911-infra/contract"
)

// DemoScenario and DemoCalls: seed 000's load test,
// POST /simulate {"scenario": "nashville_tornado", "num_calls": 1000}.
const (
	DemoScenario = "nashville_tornado"
	DemoCalls    = 1000
	DemoSeed     = 911
)

// DemoSummary is what the demo found.
type DemoSummary struct {
	Simulate    handler.SimulateResponse
	SimulateRTT time.Duration
	ByType      map[string]int
	Total       int
	QueryPages  int
	QueryTime   time.Duration
	Sample      calls.Call
}

// RunDemo runs the seed's simulation against a local server and reads every
// call back through GET /calls, by emergency type, page by page.
func RunDemo(ctx context.Context, s *Server) (DemoSummary, error) {
	client := &http.Client{Timeout: 60 * time.Second}
	var sum DemoSummary
	body, _ := json.Marshal(map[string]any{"scenario": DemoScenario, "num_calls": DemoCalls, "seed": DemoSeed})
	start := time.Now()
	resp, err := post(ctx, client, s.URL+"/simulate", body)
	if err != nil {
		return sum, err
	}
	sum.SimulateRTT = time.Since(start)
	if err := decode(resp, http.StatusOK, &sum.Simulate); err != nil {
		return sum, fmt.Errorf("simulate: %w", err)
	}

	sum.ByType = map[string]int{}
	start = time.Now()
	for _, typ := range contract.EmergencyTypes {
		cursor := ""
		for {
			q := url.Values{"emergency_type": {typ}, "limit": {strconv.Itoa(handler.MaxQueryLimit)}}
			if cursor != "" {
				q.Set("cursor", cursor)
			}
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/calls?"+q.Encode(), nil)
			resp, err := client.Do(req)
			if err != nil {
				return sum, err
			}
			var page store.Page
			if err := decode(resp, http.StatusOK, &page); err != nil {
				return sum, fmt.Errorf("query %s: %w", typ, err)
			}
			sum.QueryPages++
			for _, c := range page.Calls {
				if strings.HasPrefix(c.ConversationID, "sim-"+DemoScenario+"-"+strconv.Itoa(DemoSeed)+"-") {
					sum.ByType[typ]++
					sum.Total++
					if sum.Sample.ConversationID == "" {
						sum.Sample = c
					}
				}
			}
			if page.NextCursor == "" {
				break
			}
			cursor = page.NextCursor
		}
	}
	sum.QueryTime = time.Since(start)
	if sum.Total != DemoCalls {
		return sum, fmt.Errorf("read back %d of %d simulated calls", sum.Total, DemoCalls)
	}
	return sum, nil
}

// Print writes the summary for a person.
func (d DemoSummary) Print(w io.Writer, s *Server) {
	fmt.Fprintf(w, "access911 local demo: stack %s (throttle burst %d, rate %d rps), table %s on DynamoDB Local\n",
		s.Config.Region, s.Config.APIThrottleBurst, s.Config.APIThrottleRateRps, s.Table)
	fmt.Fprintf(w, "  POST /simulate %s x %d (seed %d): %d written, %d retried, %d failed in %d batches; %d ms in the store, %s round trip\n",
		d.Simulate.Scenario, d.Simulate.Requested, d.Simulate.Seed, d.Simulate.Written, d.Simulate.Retried,
		d.Simulate.Failed, d.Simulate.Batches, d.Simulate.DurationMs, d.SimulateRTT.Round(time.Millisecond))
	fmt.Fprintf(w, "  GET /calls?emergency_type=...: %d calls read back in %d pages, %s\n", d.Total, d.QueryPages, d.QueryTime.Round(time.Millisecond))
	types := make([]string, 0, len(d.ByType))
	for t := range d.ByType {
		types = append(types, t)
	}
	sort.Slice(types, func(i, j int) bool { return d.ByType[types[i]] > d.ByType[types[j]] })
	for _, t := range types {
		fmt.Fprintf(w, "    %-20s %4d  %s\n", t, d.ByType[t], strings.Repeat("#", d.ByType[t]/10))
	}
	c := d.Sample
	fmt.Fprintf(w, "  sample: %s  %s  severity %d  %s (%.4f, %.4f)  at %s\n", c.ConversationID, c.EmergencyType,
		c.Severity, c.Location, c.Latitude, c.Longitude, time.Unix(c.Timestamp, 0).UTC().Format(time.RFC3339))
}

// PostJSON posts v as JSON (with an x-api-key header when apiKey is set) and
// returns the status and body.
func PostJSON(ctx context.Context, u string, v any, apiKey string) (int, string, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return 0, "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	if apiKey != "" {
		req.Header.Set("x-api-key", apiKey)
	}
	resp, err := (&http.Client{Timeout: 60 * time.Second}).Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, strings.TrimSpace(string(b)), err
}

func post(ctx context.Context, c *http.Client, u string, body []byte) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	return c.Do(req)
}

func decode(resp *http.Response, want int, v any) error {
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != want {
		return fmt.Errorf("HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(b)))
	}
	return json.Unmarshal(b, v)
}
