//go:build integration

package readcache_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/access911/access911-infra/app/calls"
	"github.com/access911/access911-infra/app/readcache"
	"github.com/access911/access911-infra/internal/emulator"
)

var redisServer = emulator.RedisForTests()

func TestMain(m *testing.M) { emulator.MainAll(m, redisServer) }

func image(id, status string) map[string]events.DynamoDBAttributeValue {
	return map[string]events.DynamoDBAttributeValue{
		"conversation_id": events.NewStringAttribute(id), "timestamp": events.NewNumberAttribute("1700000000"),
		"emergency_type": events.NewStringAttribute("fire"), "severity": events.NewNumberAttribute("3"),
		"status": events.NewStringAttribute(status), "region": events.NewStringAttribute("us-east-1"),
	}
}

// The invalidator function as Lambda invokes it: a stream batch of an
// insert, a modification and a removal, applied in order.
func TestHandleStreamAppliesTheBatchInOrder(t *testing.T) {
	client := redis.NewClient(&redis.Options{Addr: redisServer.Require(t).URL})
	require.NoError(t, client.FlushAll(context.Background()).Err())
	cache := &readcache.Cache{Client: client}
	require.NoError(t, client.Set(context.Background(), readcache.CallKey("gone-1"), `{"conversation_id":"gone-1"}`, 0).Err())
	ev := events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{
		{EventName: "INSERT", Change: events.DynamoDBStreamRecord{NewImage: image("call-1", "received")}},
		{EventName: "MODIFY", Change: events.DynamoDBStreamRecord{NewImage: image("call-1", "dispatched")}},
		{EventName: "REMOVE", Change: events.DynamoDBStreamRecord{Keys: map[string]events.DynamoDBAttributeValue{
			"conversation_id": events.NewStringAttribute("gone-1"), "timestamp": events.NewNumberAttribute("1")}}},
		{EventName: "INSERT", Change: events.DynamoDBStreamRecord{NewImage: map[string]events.DynamoDBAttributeValue{
			"not_a_call": events.NewStringAttribute("x")}}}, // skipped, not failed
	}}
	require.NoError(t, cache.HandleStream(context.Background(), ev))
	raw, err := client.Get(context.Background(), readcache.CallKey("call-1")).Bytes()
	require.NoError(t, err)
	var c calls.Call
	require.NoError(t, json.Unmarshal(raw, &c))
	assert.Equal(t, "dispatched", c.Status, "the modification, applied after the insert")
	ttl, err := client.TTL(context.Background(), readcache.CallKey("call-1")).Result()
	require.NoError(t, err)
	assert.InDelta(t, 300, ttl.Seconds(), 2, "the seed's TTL")
	assert.Equal(t, redis.Nil, client.Get(context.Background(), readcache.CallKey("gone-1")).Err(), "the removed call's entry deleted")
}

func TestHandleStreamFailsTheBatchWhenTheCacheIsDown(t *testing.T) {
	cache := &readcache.Cache{Client: redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})}
	err := cache.HandleStream(context.Background(), events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{
		{EventName: "INSERT", Change: events.DynamoDBStreamRecord{NewImage: image("call-2", "received")}}}})
	assert.ErrorContains(t, err, "read cache: apply call-2", "the mapping retries the batch")
}
