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
	"github.com/access911/access911-infra/artifact"
	"github.com/access911/access911-infra/contract"
	"github.com/access911/access911-infra/internal/emulator"
)

// The standby's serving path needs nothing of us-east-1: with every AWS
// request signed for us-east-1 dropped (outage proxies in front of
// DynamoDB Local and moto), the us-west-2 stack served locally stores a
// caller's call, pushes it to its dispatchers, and answers its gate's
// control route.
func TestStandbyServesCallsToItsDispatchersDuringAHomeRegionOutage(t *testing.T) {
	ddb, mt := ddbLocal.Require(t), moto.Require(t)
	ddbOutage, err := emulator.StartRegionOutage(ddb.URL, "us-east-1")
	require.NoError(t, err)
	t.Cleanup(ddbOutage.Stop)
	motoOutage, err := emulator.StartRegionOutage(mt.URL, "us-east-1")
	require.NoError(t, err)
	t.Cleanup(motoOutage.Stop)
	root, err := artifact.FindUp(".", "go.mod")
	require.NoError(t, err)
	s, err := Start(context.Background(), Options{ProjectDir: root, Stack: "us-west-2", DynamoDBEndpoint: ddbOutage.URL,
		Intake: &IntakeOptions{SQSEndpoint: motoOutage.URL}, Feed: &FeedOptions{Connections: 100}})
	require.NoError(t, err)
	t.Cleanup(s.Close)

	ctx := context.Background()
	c, _, err := websocket.Dial(ctx, s.Feed.URL+"?token="+s.Feed.Token("dispatcher"), nil)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close(websocket.StatusNormalClosure, "") })
	require.NoError(t, feedbench.Subscribe(ctx, c, feed.SubscribeMessage{Action: "subscribe", Areas: []string{"dn6m"}}))
	var mu sync.Mutex
	var heard []string
	go feedbench.ReadFrames(ctx, c, func(data []byte, _ time.Time) {
		var f feed.CallsFrame
		if json.Unmarshal(data, &f) == nil && f.Type == contract.FeedFrameCalls {
			mu.Lock()
			defer mu.Unlock()
			for _, call := range f.Calls {
				heard = append(heard, call.ConversationID)
			}
		}
	})

	id := fmt.Sprint("outage-", time.Now().UnixNano())
	body := fmt.Sprintf(`{"conversation_id":%q,"timestamp":%d,"location":"Broadway","latitude":36.16,"longitude":-86.78,"emergency_type":"fire","severity":4,"call_duration_secs":60}`,
		id, time.Now().Unix())
	resp, err := http.Post(s.URL+contract.CreateCall.Path, "application/json", strings.NewReader(body))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusCreated, resp.StatusCode, "stored in us-west-2's table")
	stored, err := s.Store.Get(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, "us-west-2", stored.Region)
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(heard) == 1 && heard[0] == id
	}, 20*time.Second, 100*time.Millisecond, "the dispatcher of the call's area hears of it")

	resp, err = http.Get(s.URL + "/control/us-east-1")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode, "us-west-2 answers the gates' control route")

	assert.Zero(t, ddbOutage.Denied("us-east-1")+motoOutage.Denied("us-east-1"), "nothing was asked of us-east-1")
	assert.Positive(t, ddbOutage.Passed("us-west-2"))
	assert.Positive(t, motoOutage.Passed("us-west-2"))
	t.Logf("during the outage: us-west-2 stored and pushed call %s; DynamoDB requests signed for us-west-2: %d, SQS/S3: %d; for us-east-1: %d",
		id, ddbOutage.Passed("us-west-2"), motoOutage.Passed("us-west-2"), ddbOutage.Denied("us-east-1")+motoOutage.Denied("us-east-1"))
}
