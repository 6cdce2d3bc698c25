package esm

import (
	"encoding/json"
	"errors"
	"regexp"
	"testing"
	"time"

	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The record of a discarded batch is Lambda's, under Lambda's key, and its
// payload gives back the stream event the function failed.
func TestFailureRecordIsLambdasWithItsPayload(t *testing.T) {
	created := time.Date(2026, 12, 5, 4, 0, 0, 0, time.UTC)
	f := FailedBatch{Condition: ConditionRetriesExhausted, Err: errors.New("boom"), Attempts: 4, ShardID: "shardId-0001",
		StreamArn: "arn:aws:dynamodb:us-east-1:123456789012:table/calls/stream/2026", Mapping: "0f1e2d3c",
		Records: []StreamRecord{
			{EventName: "INSERT", SequenceNumber: "100", Created: created, NewImage: map[string]ddbtypes.AttributeValue{
				"conversation_id": &ddbtypes.AttributeValueMemberS{Value: "c-1"}, "severity": &ddbtypes.AttributeValueMemberN{Value: "5"}}},
			{EventName: "INSERT", SequenceNumber: "200", Created: created.Add(time.Second), NewImage: map[string]ddbtypes.AttributeValue{
				"conversation_id": &ddbtypes.AttributeValueMemberS{Value: "c-2"}}},
		}}
	key, rec, err := f.Record(time.Date(2026, 12, 5, 4, 5, 6, 0, time.UTC))
	require.NoError(t, err)
	assert.Regexp(t, regexp.MustCompile(`^aws/lambda/0f1e2d3c/shardId-0001/2026/12/05/2026-12-05T04\.05\.06-[0-9a-f-]{36}$`), key)
	b, err := json.Marshal(rec)
	require.NoError(t, err)
	var raw map[string]any
	require.NoError(t, json.Unmarshal(b, &raw))
	info := raw["DDBStreamBatchInfo"].(map[string]any)
	assert.Equal(t, "100", info["startSequenceNumber"])
	assert.Equal(t, "200", info["endSequenceNumber"])
	assert.Equal(t, 2.0, info["batchSize"])
	assert.Equal(t, "2026-12-05T04:00:00Z", info["approximateArrivalOfFirstRecord"])
	assert.Equal(t, ConditionRetriesExhausted, raw["requestContext"].(map[string]any)["condition"])
	assert.Equal(t, 4.0, raw["requestContext"].(map[string]any)["approximateInvokeCount"])
	assert.Equal(t, "1.0", raw["version"])
	ev, err := rec.Event()
	require.NoError(t, err)
	require.Len(t, ev.Records, 2)
	assert.Equal(t, "INSERT", ev.Records[0].EventName)
	assert.Equal(t, "c-1", ev.Records[0].Change.NewImage["conversation_id"].String())
	assert.Equal(t, "5", ev.Records[0].Change.NewImage["severity"].Number())
	assert.Equal(t, "200", ev.Records[1].Change.SequenceNumber)
}
