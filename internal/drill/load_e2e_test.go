//go:build integration

package drill_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/access911/access911-infra/contract"
	"github.com/access911/access911-infra/internal/drill"
)

// caller is a steady stream of emergency calls that follows the shared
// hostname as a resolver would: each call goes to the region the failover
// chain answers at that moment (deployment.answer, Route 53's evaluation
// of the gates, emulated).
type caller struct {
	d        *deployment
	mu       sync.Mutex
	accepted map[string]string // conversation id -> region that answered 2xx
	refused  int
	byRegion map[string]int
}

func (c *caller) run(ctx context.Context, every time.Duration) {
	client := &http.Client{Timeout: 5 * time.Second}
	for i := 0; ctx.Err() == nil; i++ {
		region := c.d.answer(client)
		id := fmt.Sprintf("during-drill-%d", i)
		body := `{"conversation_id":"` + id + `","timestamp":1764300000,"location":"Broadway","latitude":36.16,"longitude":-86.78,"emergency_type":"fire","severity":3,"call_duration_secs":42}`
		// Our own client, with the one key every region accepts: it keeps
		// working wherever the name points.
		req, _ := http.NewRequest(http.MethodPost, c.d.servers[region].URL+"/calls", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(contract.APIKeyHeader, sharedAPIKey)
		resp, err := client.Do(req)
		c.mu.Lock()
		if err == nil && resp.StatusCode/100 == 2 {
			c.accepted[id] = region
			c.byRegion[region]++
		} else {
			c.refused++
		}
		c.mu.Unlock()
		if err == nil {
			resp.Body.Close()
		}
		time.Sleep(every)
	}
}

// A DR drill run while calls are flowing loses none: every call answered
// 2xx, before, during or after the switch, is in the table afterwards, in
// the region now serving.
func TestDrillUnderLoadLosesNothing(t *testing.T) {
	d := newDeployment(t, 150*time.Millisecond)
	c := &caller{d: d, accepted: map[string]string{}, byRegion: map[string]int{}}
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); c.run(ctx, 20*time.Millisecond) }()

	time.Sleep(time.Second) // calls flowing to us-east-1
	rep, err := d.run(drill.Options{To: "us-west-2", RPOBound: 2 * time.Second})
	require.NoError(t, err)
	require.Equal(t, "switched", rep.Outcome)
	time.Sleep(time.Second) // and now to us-west-2
	stop()
	wg.Wait()

	c.mu.Lock()
	defer c.mu.Unlock()
	t.Logf("calls during the drill: %d accepted (%v), %d refused", len(c.accepted), c.byRegion, c.refused)
	assert.Zero(t, c.refused, "no call refused during the switch")
	assert.Positive(t, c.byRegion["us-east-1"], "calls before the switch")
	assert.Positive(t, c.byRegion["us-west-2"], "calls after the switch")

	serving := d.servers["us-west-2"]
	require.Eventually(t, func() bool {
		for id := range c.accepted {
			if _, err := serving.Store.Get(context.Background(), id); err != nil {
				return false
			}
		}
		return true
	}, 10*time.Second, 200*time.Millisecond, "every accepted call is in us-west-2's table (written there, or replicated from us-east-1)")
}
