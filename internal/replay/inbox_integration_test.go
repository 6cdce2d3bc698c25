//go:build integration

package replay_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/access911/access911-infra/app/handler"
	"github.com/access911/access911-infra/contract"
	"github.com/access911/access911-infra/internal/emulator"
	"github.com/access911/access911-infra/internal/replay"
)

var moto = emulator.MotoForTests()

func TestMain(m *testing.M) {
	os.Setenv("AWS_ACCESS_KEY_ID", "testing")
	os.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	moto.Main(m)
}

// failureRecord is what Lambda sends to an asynchronous on-failure
// destination for an S3 event the function failed after its retries.
func failureRecord(bucket, key string) string {
	b, _ := json.Marshal(map[string]any{
		"version": "1.0", "timestamp": time.Now().UTC().Format(time.RFC3339),
		"requestContext": map[string]any{"requestId": "r-1", "condition": "RetriesExhausted", "approximateInvokeCount": 3,
			"functionArn": "arn:aws:lambda:us-east-1:000000000000:function:access911-intake:$LATEST"},
		"requestPayload": map[string]any{"Records": []any{map[string]any{
			"eventSource": "aws:s3", "awsRegion": "us-east-1", "eventName": "ObjectCreated:Put",
			"s3": map[string]any{"bucket": map[string]any{"name": bucket}, "object": map[string]any{"key": key}},
		}}},
		"responseContext": map[string]any{"statusCode": 200, "functionError": "Unhandled"},
	})
	return string(b)
}

// A failed inbox event is re-driven by copying its delivery onto itself:
// the signature stays, the original arrival is recorded (and read back by
// the function's inbox adapter), the record leaves the queue; a delivery
// processed since is reported gone. A dry run changes nothing.
func TestReplayInboxRedrivesFailedDeliveries(t *testing.T) {
	m := moto.Require(t)
	require.NoError(t, m.ResetMoto())
	ctx := context.Background()
	cfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion("us-east-1"))
	require.NoError(t, err)
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.BaseEndpoint, o.UsePathStyle = aws.String(m.URL), true })
	sqsc := sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.BaseEndpoint = aws.String(m.URL) })

	const bucket = "access911-archive-test"
	_, err = s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)})
	require.NoError(t, err)
	kept, gone := contract.InboxPrefix+"req-kept", contract.InboxPrefix+"req-gone"
	_, err = s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(kept),
		Body: bytes.NewReader([]byte(`{"type":"post_call_audio"}`)), ContentType: aws.String("application/json"),
		Metadata: map[string]string{contract.InboxSignatureMetadata: "t=1,v0=abc"}})
	require.NoError(t, err)
	head, err := s3c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(kept)})
	require.NoError(t, err)
	arrived := aws.ToTime(head.LastModified)

	q, err := sqsc.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("inbox-failures")})
	require.NoError(t, err)
	for _, key := range []string{kept, gone} {
		_, err = sqsc.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: q.QueueUrl, MessageBody: aws.String(failureRecord(bucket, key))})
		require.NoError(t, err)
	}
	opts := replay.InboxOptions{SQS: sqsc, S3: s3c, FailuresURL: aws.ToString(q.QueueUrl)}

	dry, err := replay.RunInbox(ctx, opts)
	require.NoError(t, err)
	assert.Equal(t, 2, dry.Found)
	assert.ElementsMatch(t, []string{kept, gone}, dry.Keys)
	assert.Zero(t, dry.Redriven, "a dry run re-drives nothing")

	time.Sleep(1100 * time.Millisecond) // the copy's LastModified differs from the arrival
	opts.Apply = true
	done, err := replay.RunInbox(ctx, opts)
	require.NoError(t, err)
	assert.Equal(t, 2, done.Found, "the dry run left both records in the queue")
	assert.Equal(t, 1, done.Redriven)
	assert.Equal(t, 1, done.Gone, "processed since: nothing to re-drive")

	after, err := s3c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(kept)})
	require.NoError(t, err)
	assert.Equal(t, "t=1,v0=abc", after.Metadata[contract.InboxSignatureMetadata], "the signature travels with the copy")
	assert.Equal(t, "application/json", aws.ToString(after.ContentType))
	_, _, received, err := (&handler.S3Archiver{Client: s3c, Bucket: bucket}).Fetch(ctx, kept)
	require.NoError(t, err)
	assert.True(t, received.Equal(arrived), "the function judges the signature against the original arrival %s, not %s", arrived, received)

	again, err := replay.RunInbox(ctx, opts)
	require.NoError(t, err)
	assert.Zero(t, again.Found, "re-driven records leave the queue")
}
