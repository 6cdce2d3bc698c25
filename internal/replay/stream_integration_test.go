//go:build integration

package replay_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/access911/access911-infra/app/feed"
	"github.com/access911/access911-infra/internal/emulator/esm"
	"github.com/access911/access911-infra/internal/replay"
)

// A batch the swarm's mapping discarded is found in the failure bucket,
// listed without change, and with --apply handed back to the swarm (which
// reads each call from it) and its record deleted.
func TestReplayRebroadcastsDiscardedStreamBatches(t *testing.T) {
	srv := moto.Require(t)
	ctx := context.Background()
	client := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("testing", "testing", "")})
	bucket := fmt.Sprint("failures-", time.Now().UnixNano())
	_, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)})
	require.NoError(t, err)
	dest := &esm.S3Destination{Client: client, Bucket: bucket}
	call := func(id string) esm.StreamRecord {
		return esm.StreamRecord{EventName: "INSERT", SequenceNumber: id, Created: time.Now(), NewImage: map[string]ddbtypes.AttributeValue{
			"conversation_id": &ddbtypes.AttributeValueMemberS{Value: id}, "timestamp": &ddbtypes.AttributeValueMemberN{Value: "1764300000"},
			"emergency_type": &ddbtypes.AttributeValueMemberS{Value: "fire"}, "severity": &ddbtypes.AttributeValueMemberN{Value: "4"}}}
	}
	require.NoError(t, dest.Put(ctx, esm.FailedBatch{Condition: esm.ConditionRetriesExhausted, ShardID: "shard-1",
		Mapping: "m-1", StreamArn: "arn:stream", Attempts: 4, Records: []esm.StreamRecord{call("lost-1"), call("lost-2")}}))

	var got []string
	invoke := func(_ context.Context, ev events.DynamoDBEvent) error {
		for _, rec := range ev.Records {
			c, err := feed.CallFromImage(rec.Change.NewImage) // what the swarm reads
			if err != nil {
				return err
			}
			got = append(got, c.ConversationID)
		}
		return nil
	}
	o := replay.StreamOptions{S3: client, Bucket: bucket, Invoke: invoke}
	rep, err := replay.RunStreamFailures(ctx, o)
	require.NoError(t, err)
	assert.Equal(t, replay.StreamReport{Records: 1, Calls: 2, IDs: []string{"lost-1", "lost-2"}}, rep)
	assert.Empty(t, got, "a dry run invokes nothing")

	o.Apply = true
	rep, err = replay.RunStreamFailures(ctx, o)
	require.NoError(t, err)
	assert.Equal(t, 1, rep.Redriven)
	assert.Equal(t, []string{"lost-1", "lost-2"}, got)
	rep, err = replay.RunStreamFailures(ctx, o)
	require.NoError(t, err)
	assert.Zero(t, rep.Records, "a re-broadcast record is deleted")
}
