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
	"github.com/access911/access911-infra/app/handler"
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

// gatedTable answers Get with the call as it was when read, but only once
// released: the window in which the stream brings a newer version.
type gatedTable struct {
	handler.Store
	old     calls.Call
	read    chan struct{} // closed once the table has been read
	release chan struct{}
}

func (g *gatedTable) Get(context.Context, string) (calls.Call, error) {
	close(g.read)
	<-g.release
	return g.old, nil
}

// The race cache-aside must survive: a read misses, reads the table's old
// version, and before it fills the cache the stream writes the newer one.
// The late fill must not overwrite it (SET NX); with a plain SET the cache
// would serve the old status for the whole TTL.
func TestAMissFillNeverOverwritesTheStreamsNewerWrite(t *testing.T) {
	client := redis.NewClient(&redis.Options{Addr: redisServer.Require(t).URL})
	ctx := context.Background()
	require.NoError(t, client.FlushAll(ctx).Err())
	cache := &readcache.Cache{Client: client}
	old := calls.Call{ConversationID: "race-1", Status: "received", EmergencyType: "fire"}
	table := &gatedTable{old: old, read: make(chan struct{}), release: make(chan struct{})}
	store := &readcache.Store{Store: table, Cache: cache}
	done := make(chan calls.Call)
	go func() {
		c, err := store.Get(ctx, "race-1")
		assert.NoError(t, err)
		done <- c
	}()
	<-table.read // the read missed and has the old version in hand
	newer := old
	newer.Status = "dispatched"
	require.NoError(t, cache.Apply(ctx, []readcache.Change{{ID: "race-1", Call: newer}}))
	close(table.release)
	assert.Equal(t, "received", (<-done).Status, "the racing read answers what it read")

	raw, err := client.Get(ctx, readcache.CallKey("race-1")).Bytes()
	require.NoError(t, err)
	var cached calls.Call
	require.NoError(t, json.Unmarshal(raw, &cached))
	assert.Equal(t, "dispatched", cached.Status, "the stream's newer write stays; the late fill did not overwrite it")
	c, err := store.Get(ctx, "race-1")
	require.NoError(t, err)
	assert.Equal(t, "dispatched", c.Status, "the next read sees the newer call")
}
