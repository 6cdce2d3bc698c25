package feedbench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/access911/access911-infra/app/calls"
	"github.com/access911/access911-infra/app/feed"
	"github.com/access911/access911-infra/app/feed/registry"
	"github.com/access911/access911-infra/contract"
)

// Package feedbench measures the dispatcher feed from the outside, as
// consoles see it: N WebSocket connections to a feed's endpoints, calls
// posted to its API, every delivery timed, and the console's printout
// (local.Server.Endpoints gives the endpoints of a local run).

// FeedBenchResult is what feed-bench measured.
type FeedBenchResult struct {
	Connections, Calls        int
	Delivered, Missing, Dupes int
	P50, P99                  time.Duration
	ConnectTime               time.Duration
}

// Line is feed-bench's last line.
func (r FeedBenchResult) Line() string {
	return fmt.Sprintf("feed: %d connections, %d calls, delivered %d, missing %d, duplicates %d, p50 %d ms, p99 %d ms",
		r.Connections, r.Calls, r.Delivered, r.Missing, r.Dupes, r.P50.Milliseconds(), r.P99.Milliseconds())
}

// FeedEndpoints are where a running local server takes calls and serves
// the feed, and a dispatcher token for it.
type FeedEndpoints struct {
	API   string `json:"api"`
	Feed  string `json:"feed"`
	Token string `json:"token"`
}

// RunFeedBench opens n WebSocket connections to the feed, sends m calls
// through POST /calls one after another, and measures each delivery from
// the call's 201 answer to its receipt.
//
// With interval 0 each call is sent once the previous one reached every
// connection (the latency of one broadcast); with an interval, calls follow
// each other at that pace whatever the feed's progress (broadcasts overlap:
// a throughput test of the local machine).
func RunFeedBench(ctx context.Context, e FeedEndpoints, n, m int, interval time.Duration, progress io.Writer) (FeedBenchResult, error) {
	res := FeedBenchResult{Connections: n, Calls: m}
	token := e.Token
	var mu sync.Mutex
	received := map[string][]time.Time{} // call id -> receipt times, one per delivery
	start := time.Now()
	// Every connection serves the area of the bench's call (see postBenchCall).
	sub := feed.SubscribeMessage{Action: "subscribe", Areas: []string{registry.AreaOf(calls.Call{Latitude: benchLatitude, Longitude: benchLongitude})}}
	conns, err := dialAll(ctx, e.Feed+"?"+feed.TokenParam+"="+token, n, func(int) feed.SubscribeMessage { return sub }, func(id string, at time.Time) {
		mu.Lock()
		received[id] = append(received[id], at)
		mu.Unlock()
	})
	defer func() {
		for _, c := range conns {
			c.Close(websocket.StatusNormalClosure, "")
		}
	}()
	if err != nil {
		return res, err
	}
	res.ConnectTime = time.Since(start)
	fmt.Fprintf(progress, "%d connections open in %s; sending %d calls ...\n", n, res.ConnectTime.Round(time.Millisecond), m)
	answered := map[string]time.Time{}
	run := time.Now().UnixNano()
	deliveredAll := func(ids ...string) bool {
		mu.Lock()
		defer mu.Unlock()
		for _, id := range ids {
			if len(received[id]) < n {
				return false
			}
		}
		return true
	}
	for i := 0; i < m; i++ {
		id := fmt.Sprintf("feed-bench-%d-%d", run, i)
		if err := postBenchCall(e.API, id); err != nil {
			return res, err
		}
		answered[id] = time.Now()
		if interval > 0 {
			time.Sleep(interval)
			continue
		}
		// One call at a time: the next once this one reached everyone (or
		// a call's worth of patience ran out), so each latency is one
		// broadcast's, not a queue of them.
		waitFor(callPatience, func() bool { return deliveredAll(id) })
		mu.Lock()
		got := received[id]
		if len(got) > 0 {
			first, last := slices.MinFunc(got, time.Time.Compare), slices.MaxFunc(got, time.Time.Compare)
			fmt.Fprintf(progress, "call %d: %d deliveries, first after %d ms, last after %d ms\n", i+1, len(got),
				first.Sub(answered[id]).Milliseconds(), last.Sub(answered[id]).Milliseconds())
		}
		mu.Unlock()
	}
	ids := slices.Collect(maps.Keys(answered))
	waitFor(30*time.Second, func() bool { return deliveredAll(ids...) })
	mu.Lock()
	defer mu.Unlock()
	var lat []time.Duration
	for id, at := range answered {
		got := received[id]
		res.Delivered += min(len(got), n)
		res.Dupes += max(0, len(got)-n)
		for _, r := range got {
			lat = append(lat, r.Sub(at))
		}
	}
	res.Missing = n*m - res.Delivered
	slices.Sort(lat)
	res.P50, res.P99 = Percentile(lat, .50), Percentile(lat, .99)
	return res, nil
}

// callPatience bounds the wait for one call's deliveries before the next.
const callPatience = 10 * time.Second

// waitFor polls done every 20 ms until it holds or limit passes.
func waitFor(limit time.Duration, done func() bool) {
	for deadline := time.Now().Add(limit); !done() && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
}

// Where the bench's call is: Nashville.
const benchLatitude, benchLongitude = 36.16, -86.78

// postBenchCall sends one tornado call through POST /calls and expects 201.
func postBenchCall(api, id string) error {
	body := fmt.Sprintf(`{"conversation_id":%q,"timestamp":1764300000,"location":"Main St","latitude":%g,"longitude":%g,"emergency_type":"tornado","severity":4,"call_duration_secs":60}`,
		id, benchLatitude, benchLongitude)
	resp, err := http.Post(api+"/calls", "application/json", strings.NewReader(body))
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("POST /calls answered %d", resp.StatusCode)
	}
	return nil
}

// dialAll opens n connections, 50 at a time, each subscribed with sub(i)
// (and its answer awaited) and then reading calls into onCall until it
// closes.
func dialAll(ctx context.Context, url string, n int, sub func(i int) feed.SubscribeMessage, onCall func(id string, at time.Time)) ([]*websocket.Conn, error) {
	return dialAllFrames(ctx, url, n, sub, func(_ int, data []byte, at time.Time) {
		var f benchFrame // only what the bench counts: decoding whole calls cost the clients a fifth of their CPU
		if json.Unmarshal(data, &f) == nil && f.Type == contract.FeedFrameCalls {
			for _, call := range f.Calls {
				onCall(call.ConversationID, at)
			}
		}
	})
}

// dialAllFrames opens n connections, 50 at a time, each subscribed with
// sub(i) (and its answer awaited), then handing every frame connection i
// receives, with its arrival, to onFrame until it closes.
func dialAllFrames(ctx context.Context, url string, n int, sub func(i int) feed.SubscribeMessage,
	onFrame func(i int, data []byte, at time.Time)) ([]*websocket.Conn, error) {
	conns := make([]*websocket.Conn, n)
	errs := make(chan error, n)
	sem := make(chan struct{}, 50)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			c, _, err := websocket.Dial(ctx, url, nil)
			if err != nil {
				errs <- err
				return
			}
			c.SetReadLimit(1 << 20)
			if err := Subscribe(ctx, c, sub(i)); err != nil {
				c.Close(websocket.StatusNormalClosure, "")
				errs <- err
				return
			}
			conns[i] = c
			go ReadFrames(ctx, c, func(data []byte, at time.Time) { onFrame(i, data, at) })
		}()
	}
	wg.Wait()
	close(errs)
	open := conns[:0]
	for _, c := range conns {
		if c != nil {
			open = append(open, c)
		}
	}
	if err := <-errs; err != nil {
		return open, fmt.Errorf("open %d connections: %w", n, err)
	}
	return open, nil
}

// readFrames hands each frame the connection receives, with the time it
// arrived, to onFrame until the connection closes.
func ReadFrames(ctx context.Context, c *websocket.Conn, onFrame func(data []byte, at time.Time)) {
	for {
		_, data, err := c.Read(ctx)
		if err != nil {
			return
		}
		onFrame(data, time.Now())
	}
}

// subscribe sends a subscription and waits for its answer.
func Subscribe(ctx context.Context, c *websocket.Conn, m feed.SubscribeMessage) error {
	b, _ := json.Marshal(m)
	if err := c.Write(ctx, websocket.MessageText, b); err != nil {
		return err
	}
	_, data, err := c.Read(ctx)
	if err != nil {
		return fmt.Errorf("subscription answer: %w", err)
	}
	var answer struct {
		Type  string `json:"type"`
		Error string `json:"error"`
	}
	if json.Unmarshal(data, &answer) != nil || answer.Type != "subscribed" {
		return fmt.Errorf("subscription refused: %s", data)
	}
	return nil
}

// benchFrame is the part of a feed.CallsFrame the bench reads.
type benchFrame struct {
	Type     string `json:"type"`
	SentAtMs int64  `json:"sent_at_ms"`
	Calls    []struct {
		ConversationID string `json:"conversation_id"`
	} `json:"calls"`
}

// Watch is the dispatcher console: it connects with token, subscribes to
// areas (none: a supervisor's summaries) and types (none: all) and prints
// each call of each frame as it arrives, with its latency from the
// broadcast, and each summary, until ctx ends.
func Watch(ctx context.Context, url, token string, areas, types []string, out io.Writer) error {
	c, _, err := websocket.Dial(ctx, url+"?"+feed.TokenParam+"="+token, nil)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", url, err)
	}
	defer c.Close(websocket.StatusNormalClosure, "")
	c.SetReadLimit(1 << 20)
	sub, _ := json.Marshal(feed.SubscribeMessage{Action: "subscribe", Areas: areas, EmergencyTypes: types})
	if err := c.Write(ctx, websocket.MessageText, sub); err != nil {
		return err
	}
	for {
		_, data, err := c.Read(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("the feed closed: %w", err)
		}
		printFrame(out, data, time.Now())
	}
}

// printFrame prints one frame the console received: each call of a calls
// frame, a summary's lines, anything else (subscription answers, errors)
// as it came.
func printFrame(out io.Writer, data []byte, now time.Time) {
	var probe struct {
		Type string `json:"type"`
	}
	_ = json.Unmarshal(data, &probe)
	clock := now.Format("15:04:05")
	switch probe.Type {
	case contract.FeedFrameCalls:
		var f feed.CallsFrame
		if json.Unmarshal(data, &f) == nil {
			for _, c := range f.Calls {
				fmt.Fprintf(out, "%s  %-20s severity %d  %s (%.4f, %.4f) area %s  %s  delivered in %d ms\n", clock,
					c.EmergencyType, c.Severity, c.Location, c.Latitude, c.Longitude, registry.AreaOf(c), c.ConversationID, now.UnixMilli()-f.SentAtMs)
			}
			return
		}
	case contract.FeedFrameSummary:
		var f feed.SummaryFrame
		if json.Unmarshal(data, &f) == nil {
			for _, a := range f.Areas {
				fmt.Fprintf(out, "%s  summary  area %-9s %-20s %3d new, highest severity %d\n", clock, a.Area, a.EmergencyType, a.NewCalls, a.HighestSeverity)
			}
			for _, c := range f.Newest {
				fmt.Fprintf(out, "%s  newest   %-20s severity %d  %s  %s\n", clock, c.EmergencyType, c.Severity, c.Location, c.ConversationID)
			}
			return
		}
	}
	fmt.Fprintf(out, "%s  %s\n", clock, data)
}
