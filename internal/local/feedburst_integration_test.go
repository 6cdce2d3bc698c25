//go:build integration

package local

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/access911/access911-infra/internal/feedbench"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/access911/access911-infra/app/feed"
	"github.com/access911/access911-infra/contract"
)

// The burst that once stopped the feed for good: 300 calls at the
// contract's maxima posted into one area by 20 clients at once. Every
// dispatcher of the area gets every call exactly once, nothing is
// discarded, and a call posted afterwards still arrives.
func TestFeedBurstOfLargestCallsAndAfter(t *testing.T) {
	s := startServerWithFeed(t)
	ctx := context.Background()

	type dispatcher struct {
		mu   sync.Mutex
		got  map[string]int
		last time.Time
	}
	var ds []*dispatcher
	for range 4 {
		c, _, err := websocket.Dial(ctx, s.Feed.URL+"?token="+s.Feed.Token("dispatcher"), nil)
		require.NoError(t, err)
		c.SetReadLimit(contract.FeedMaxPostBytes)
		t.Cleanup(func() { c.Close(websocket.StatusNormalClosure, "") })
		d := &dispatcher{got: map[string]int{}}
		ds = append(ds, d)
		require.NoError(t, feedbench.Subscribe(ctx, c, feed.SubscribeMessage{Action: "subscribe", Areas: []string{"dn6m"}}))
		go feedbench.ReadFrames(ctx, c, func(data []byte, at time.Time) {
			var f feed.CallsFrame
			if json.Unmarshal(data, &f) != nil || f.Type != contract.FeedFrameCalls {
				return
			}
			d.mu.Lock()
			defer d.mu.Unlock()
			for _, call := range f.Calls {
				d.got[call.ConversationID]++
			}
			d.last = at
		})
	}
	run := fmt.Sprint(time.Now().UnixNano())
	location := strings.Repeat("<", contract.CallSchema.MaxLength("location"))
	transcript := strings.Repeat("<", contract.CallSchema.MaxLength("transcript"))
	post := func(id string) {
		body, _ := json.Marshal(map[string]any{"conversation_id": id, "timestamp": 1764300000, "location": location,
			"latitude": 36.16, "longitude": -86.78, "emergency_type": "tornado", "severity": 5, "call_duration_secs": 600,
			"transcript": transcript})
		resp, err := http.Post(s.URL+"/calls", "application/json", strings.NewReader(string(body)))
		if assert.NoError(t, err) {
			resp.Body.Close()
			assert.Equal(t, http.StatusCreated, resp.StatusCode)
		}
	}
	const burst = 300
	start := time.Now()
	var wg sync.WaitGroup
	for w := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < burst; i += 20 {
				post(fmt.Sprintf("burst-%s-%03d", run, i))
			}
		}()
	}
	wg.Wait()
	posted := time.Since(start)
	received := func(id string) bool {
		for _, d := range ds {
			d.mu.Lock()
			n := d.got[id]
			d.mu.Unlock()
			if n == 0 {
				return false
			}
		}
		return true
	}
	require.Eventually(t, func() bool {
		for i := range burst {
			if !received(fmt.Sprintf("burst-%s-%03d", run, i)) {
				return false
			}
		}
		return true
	}, 60*time.Second, 200*time.Millisecond, "every call of the burst reaches every dispatcher of its area")
	var lastAt time.Time
	for _, d := range ds {
		d.mu.Lock()
		if d.last.After(lastAt) {
			lastAt = d.last
		}
		d.mu.Unlock()
	}
	t.Logf("burst: %d calls at the contract's maxima posted in %s; the last reached its 4th dispatcher %s after the first post",
		burst, posted.Round(time.Millisecond), lastAt.Sub(start).Round(time.Millisecond))

	after := "after-" + run
	post(after)
	require.Eventually(t, func() bool { return received(after) }, 20*time.Second, 100*time.Millisecond, "the feed keeps going after the burst")
	time.Sleep(time.Second)
	for i, d := range ds {
		d.mu.Lock()
		assert.Len(t, d.got, burst+1, "dispatcher %d", i)
		for id, n := range d.got {
			assert.Equal(t, 1, n, "dispatcher %d got %s %d times", i, id, n)
		}
		d.mu.Unlock()
	}
	assert.Zero(t, s.Feed.reader.Stats.Discarded.Load(), "no batch discarded")
	assert.Zero(t, s.Feed.reader.Stats.FailedInvocations.Load(), "no swarm invocation failed")
}
