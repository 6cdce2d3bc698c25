package feedbench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/access911/access911-infra/app/calls"
	"github.com/access911/access911-infra/app/feed"
	"github.com/access911/access911-infra/app/feed/registry"
	"github.com/access911/access911-infra/contract"
)

// SustainedOptions is a sustained feed-bench: dispatchers spread over the
// areas where the scenario generator's calls fall, supervisors, and calls
// sent at a steady rate for a while.
type SustainedOptions struct {
	Dispatchers, Areas, Supervisors int
	Rate                            float64 // calls per second
	Duration                        time.Duration
	// Senders is how many POSTs may be in flight (default 32).
	Senders int
	// Settle is how long the bench waits for the last deliveries (default 30 s).
	Settle time.Duration
}

// SustainedResult is what a sustained run measured.
type SustainedResult struct {
	Connections, Calls                          int
	Delivered, Expected, Missing, Dupes, Routed int // Routed: misrouted deliveries
	P50, P99, LastCall                          time.Duration
	// ToSwarm and FromSwarm split the median latency: from the POST to the
	// swarm's broadcast (the write, the stream and its batching window), and
	// from there to the frame (queues, workers, posts).
	ToSwarm, FromSwarm time.Duration
	// SummaryGap is the longest a supervisor waited between summaries
	// while calls were being sent.
	SummaryGap             time.Duration
	Supervisors, AreasUsed int
	SendTime, ConnectTime  time.Duration
}

// Line is feed-bench's last line in sustained mode.
func (r SustainedResult) Line() string {
	return fmt.Sprintf("feed: %d connections, %d calls, delivered %d of %d expected, missing %d, duplicates %d, misrouted %d, p50 %d ms, p99 %d ms, last call after %d ms",
		r.Connections, r.Calls, r.Delivered, r.Expected, r.Missing, r.Dupes, r.Routed, r.P50.Milliseconds(), r.P99.Milliseconds(), r.LastCall.Milliseconds())
}

// benchCalls are the calls a sustained run sends: the scenario generator's,
// taken in turn from each scenario, with ids unique to the run.
func benchCalls(n int, run int64) ([]calls.Call, error) {
	names := make([]string, 0, len(calls.ScenarioDefs))
	for name := range calls.ScenarioDefs {
		names = append(names, name)
	}
	sort.Strings(names)
	per := (n + len(names) - 1) / len(names)
	var byScenario [][]calls.Call
	for i, name := range names {
		cs, err := generateMany(name, per, run+int64(i))
		if err != nil {
			return nil, err
		}
		byScenario = append(byScenario, cs)
	}
	out := make([]calls.Call, 0, n)
	for i := 0; len(out) < n; i++ {
		c := byScenario[i%len(names)][i/len(names)]
		c.ConversationID = fmt.Sprintf("bench-%d-%06d", run, len(out))
		out = append(out, c)
	}
	return out, nil
}

// generateMany draws n calls of a scenario, in runs the generator accepts.
func generateMany(scenario string, n int, seed int64) ([]calls.Call, error) {
	var out []calls.Call
	for len(out) < n {
		cs, err := calls.Generate(scenario, min(n-len(out), contract.MaxSimulateCalls), seed+int64(len(out)), time.Now())
		if err != nil {
			return nil, err
		}
		out = append(out, cs...)
	}
	return out, nil
}

// busiestAreas are the n areas holding the most calls.
func busiestAreas(cs []calls.Call, n int) []string {
	counts := map[string]int{}
	for _, c := range cs {
		counts[registry.AreaOf(c)]++
	}
	areas := make([]string, 0, len(counts))
	for a := range counts {
		areas = append(areas, a)
	}
	sort.Slice(areas, func(i, j int) bool {
		if counts[areas[i]] != counts[areas[j]] {
			return counts[areas[i]] > counts[areas[j]]
		}
		return areas[i] < areas[j]
	})
	return areas[:min(n, len(areas))]
}

// benchClient is one bench connection and what it received.
type benchClient struct {
	sub       feed.SubscribeMessage
	mu        sync.Mutex
	got       map[string][]time.Time // call id -> receipts
	swarmAt   map[string]time.Time   // call id -> when the swarm broadcast it (the frame's sent_at_ms)
	summaries []time.Time
}

func (c *benchClient) wants(call calls.Call) bool {
	return slices.Contains(c.sub.Areas, registry.AreaOf(call)) &&
		(len(c.sub.EmergencyTypes) == 0 || slices.Contains(c.sub.EmergencyTypes, call.EmergencyType))
}

// RunSustainedFeedBench connects the dispatchers (each in one of the
// busiest areas; a third of them every type, the others one type) and the
// supervisors, sends the calls at the rate from Senders concurrent senders,
// and checks that each dispatcher got exactly the calls of its area and
// types, each once, and each supervisor summaries throughout.
func RunSustainedFeedBench(ctx context.Context, e FeedEndpoints, o SustainedOptions, progress io.Writer) (SustainedResult, error) {
	if o.Senders == 0 {
		o.Senders = 32
	}
	if o.Settle == 0 {
		o.Settle = 30 * time.Second
	}
	res := SustainedResult{Connections: o.Dispatchers, Supervisors: o.Supervisors}
	cs, err := benchCalls(int(o.Rate*o.Duration.Seconds()), time.Now().UnixNano())
	if err != nil {
		return res, err
	}
	res.Calls = len(cs)
	areas := busiestAreas(cs, o.Areas)
	res.AreasUsed = len(areas)
	clients := benchClients(o, areas)
	start := time.Now()
	conns, err := dialClients(ctx, e, clients)
	defer func() {
		for _, c := range conns {
			c.Close(websocket.StatusNormalClosure, "")
		}
	}()
	if err != nil {
		return res, err
	}
	res.ConnectTime = time.Since(start)
	fmt.Fprintf(progress, "%d dispatchers in %d areas and %d supervisors connected in %s; sending %d calls at %g/s ...\n",
		o.Dispatchers, len(areas), o.Supervisors, res.ConnectTime.Round(time.Millisecond), len(cs), o.Rate)
	sentAt, sendErr := sendAtRate(ctx, e.API, cs, o.Rate, o.Senders)
	res.SendTime = time.Since(start) - res.ConnectTime
	if sendErr != nil {
		return res, sendErr
	}
	waitFor(o.Settle, func() bool { return allDelivered(clients, cs) })
	score(&res, clients, cs, sentAt, start.Add(res.ConnectTime))
	return res, nil
}

// benchClients lays out the connections: dispatcher i serves area i mod A,
// every third one every type, the others one type in turn; then the
// supervisors.
func benchClients(o SustainedOptions, areas []string) []*benchClient {
	var out []*benchClient
	for i := range o.Dispatchers {
		sub := feed.SubscribeMessage{Action: "subscribe", Areas: []string{areas[i%len(areas)]}}
		if i%3 != 0 {
			sub.EmergencyTypes = []string{contract.EmergencyTypes[i%len(contract.EmergencyTypes)]}
		}
		out = append(out, &benchClient{sub: sub, got: map[string][]time.Time{}, swarmAt: map[string]time.Time{}})
	}
	for range o.Supervisors {
		out = append(out, &benchClient{sub: feed.SubscribeMessage{Action: "subscribe"}, got: map[string][]time.Time{}, swarmAt: map[string]time.Time{}})
	}
	return out
}

// dialClients opens and subscribes every client, 50 at a time.
func dialClients(ctx context.Context, e FeedEndpoints, clients []*benchClient) ([]*websocket.Conn, error) {
	url := e.Feed + "?" + feed.TokenParam + "=" + e.Token
	return dialAllFrames(ctx, url, len(clients), func(i int) feed.SubscribeMessage { return clients[i].sub },
		func(i int, data []byte, at time.Time) { clients[i].record(data, at) })
}

// record notes a frame: each call of a calls frame, or a summary's time.
func (c *benchClient) record(data []byte, at time.Time) {
	var f benchFrame
	if json.Unmarshal(data, &f) != nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch f.Type {
	case contract.FeedFrameCalls:
		for _, call := range f.Calls {
			c.got[call.ConversationID] = append(c.got[call.ConversationID], at)
			c.swarmAt[call.ConversationID] = time.UnixMilli(f.SentAtMs)
		}
	case contract.FeedFrameSummary:
		c.summaries = append(c.summaries, at)
	}
}

// sendAtRate POSTs each call at its slot (i / rate after the start) from
// senders concurrent senders and returns when each was sent (just before
// its POST).
func sendAtRate(ctx context.Context, api string, cs []calls.Call, rate float64, senders int) (map[string]time.Time, error) {
	sentAt := make(map[string]time.Time, len(cs))
	var mu sync.Mutex
	var firstErr error
	jobs := make(chan calls.Call)
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 30 * time.Second}
	for range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range jobs {
				mu.Lock()
				sentAt[c.ConversationID] = time.Now()
				mu.Unlock()
				if err := PostCall(client, api, c); err != nil {
					mu.Lock()
					firstErr = cmpErr(firstErr, err)
					mu.Unlock()
				}
			}
		}()
	}
	start := time.Now()
	for i, c := range cs {
		if d := time.Until(start.Add(time.Duration(float64(i) / rate * float64(time.Second)))); d > 0 {
			time.Sleep(d)
		}
		select {
		case jobs <- c:
		case <-ctx.Done():
			close(jobs)
			wg.Wait()
			return sentAt, ctx.Err()
		}
	}
	close(jobs)
	wg.Wait()
	return sentAt, firstErr
}

func cmpErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

// postCall sends one call through POST /calls and expects 201.
func PostCall(client *http.Client, api string, c calls.Call) error {
	body, _ := json.Marshal(map[string]any{"conversation_id": c.ConversationID, "timestamp": c.Timestamp, "location": c.Location,
		"latitude": c.Latitude, "longitude": c.Longitude, "emergency_type": c.EmergencyType, "severity": c.Severity,
		"call_duration_secs": c.CallDurationSecs})
	resp, err := client.Post(api+contract.CreateCall.Path, "application/json", strings.NewReader(string(body)))
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("POST /calls %s answered %d", c.ConversationID, resp.StatusCode)
	}
	return nil
}

// allDelivered reports whether every dispatcher has every call it wants.
func allDelivered(clients []*benchClient, cs []calls.Call) bool {
	for _, cl := range clients {
		if len(cl.sub.Areas) == 0 {
			continue
		}
		cl.mu.Lock()
		for _, c := range cs {
			if cl.wants(c) && len(cl.got[c.ConversationID]) == 0 {
				cl.mu.Unlock()
				return false
			}
		}
		cl.mu.Unlock()
	}
	return true
}

// score counts what each dispatcher got against what it wanted, the
// latencies from each call's send, the last call's delivery, and the
// supervisors' longest wait between summaries while calls were sent.
func score(res *SustainedResult, clients []*benchClient, cs []calls.Call, sentAt map[string]time.Time, sendStart time.Time) {
	var lat, toSwarm, fromSwarm []time.Duration
	last := lastWanted(clients, cs)
	for _, cl := range clients {
		cl.mu.Lock()
		if len(cl.sub.Areas) == 0 {
			res.SummaryGap = max(res.SummaryGap, longestGap(cl.summaries, sendStart, sendStart.Add(res.SendTime)))
			cl.mu.Unlock()
			continue
		}
		for _, c := range cs {
			got, want := cl.got[c.ConversationID], cl.wants(c)
			switch {
			case want:
				res.Expected++
				if len(got) == 0 {
					res.Missing++
				}
			case len(got) > 0:
				res.Routed += len(got)
			}
			if want && len(got) > 0 {
				res.Delivered++
				res.Dupes += len(got) - 1
				d := got[0].Sub(sentAt[c.ConversationID])
				lat = append(lat, d)
				if sw := cl.swarmAt[c.ConversationID]; !sw.IsZero() {
					toSwarm, fromSwarm = append(toSwarm, sw.Sub(sentAt[c.ConversationID])), append(fromSwarm, got[0].Sub(sw))
				}
				if c.ConversationID == last {
					res.LastCall = max(res.LastCall, d)
				}
			}
		}
		cl.mu.Unlock()
	}
	slices.Sort(lat)
	res.P50, res.P99 = Percentile(lat, .50), Percentile(lat, .99)
	res.ToSwarm, res.FromSwarm = median(toSwarm), median(fromSwarm)
}

// percentile is the nearest-rank percentile of sorted durations, as the
// load tool reports them (load.Percentile; internal/load's tests import this
// package, so it cannot be imported here).
func Percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func median(ds []time.Duration) time.Duration {
	slices.Sort(ds)
	return Percentile(ds, .50)
}

// lastWanted is the last call sent that some dispatcher wants: its own
// delivery time shows a backlog.
func lastWanted(clients []*benchClient, cs []calls.Call) string {
	for i := len(cs) - 1; i >= 0; i-- {
		for _, cl := range clients {
			if cl.wants(cs[i]) {
				return cs[i].ConversationID
			}
		}
	}
	return ""
}

// longestGap is the longest time without a summary between from and to.
func longestGap(at []time.Time, from, to time.Time) time.Duration {
	prev, gap := from, time.Duration(0)
	for _, t := range at {
		if t.After(from) && t.Before(to) {
			gap = max(gap, t.Sub(prev))
			prev = t
		}
	}
	return max(gap, to.Sub(prev))
}
