// Package replay moves dead-lettered calls back to the intake queue, where
// the drain function stores them with the same conditional put: a call
// replayed twice (or already stored) is still stored once. With --inbox it
// re-drives provider deliveries whose inbox events failed every retry
// (inbox.go).
package replay

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/access911/access911-infra/app/intake"
)

// Options says what to replay.
type Options struct {
	Client   *sqs.Client
	DLQURL   string
	QueueURL string
	// Apply moves the messages; without it nothing changes (a dry run).
	Apply bool
	// Max bounds how many messages one run moves (0: all).
	Max int
	Log io.Writer
}

// Report is what a run found and did.
type Report struct {
	Found, Moved int
	// Calls are the conversation ids found ("(not a call)" for a message
	// that does not decode: it is moved all the same, and will dead-letter
	// again until its cause is fixed).
	Calls []string
}

// Run lists the dead-lettered calls and, with Apply, moves them: each batch
// is sent to the intake queue, then deleted from the dead-letter queue, so
// a crash in between leaves a copy in both (stored once by the drain), never
// in neither.
func Run(ctx context.Context, o Options) (Report, error) {
	if o.Apply {
		return move(ctx, o)
	}
	return list(ctx, o)
}

// list reads every message (hiding each for a minute so no message is
// counted twice), then makes them all visible again: nothing moves.
func list(ctx context.Context, o Options) (Report, error) {
	var r Report
	var held []types.ChangeMessageVisibilityBatchRequestEntry
	defer func() { release(context.WithoutCancel(ctx), o, held) }()
	for {
		msgs, err := receive(ctx, o, 60*time.Second)
		if err != nil || len(msgs) == 0 {
			return r, err
		}
		for _, m := range msgs {
			r.Found++
			r.Calls = append(r.Calls, callID(m))
			held = append(held, types.ChangeMessageVisibilityBatchRequestEntry{
				Id: aws.String(strconv.Itoa(len(held))), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0})
		}
	}
}

// release makes listed messages visible again, ten at a time.
func release(ctx context.Context, o Options, held []types.ChangeMessageVisibilityBatchRequestEntry) {
	for len(held) > 0 {
		n := min(10, len(held))
		if _, err := o.Client.ChangeMessageVisibilityBatch(ctx, &sqs.ChangeMessageVisibilityBatchInput{
			QueueUrl: aws.String(o.DLQURL), Entries: held[:n]}); err != nil && o.Log != nil {
			fmt.Fprintf(o.Log, "could not make %d listed messages visible again (they will be after a minute): %v\n", n, err)
		}
		held = held[n:]
	}
}

func move(ctx context.Context, o Options) (Report, error) {
	var r Report
	for o.Max == 0 || r.Moved < o.Max {
		msgs, err := receive(ctx, o, 60*time.Second)
		if err != nil || len(msgs) == 0 {
			return r, err
		}
		r.Found += len(msgs)
		send := make([]types.SendMessageBatchRequestEntry, len(msgs))
		del := make([]types.DeleteMessageBatchRequestEntry, len(msgs))
		for i, m := range msgs {
			r.Calls = append(r.Calls, callID(m))
			send[i] = types.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), MessageBody: m.Body}
			del[i] = types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: m.ReceiptHandle}
		}
		out, err := o.Client.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(o.QueueURL), Entries: send})
		if err != nil {
			return r, fmt.Errorf("send to the intake queue: %w", err)
		}
		if len(out.Failed) > 0 {
			return r, fmt.Errorf("the intake queue refused %d of %d messages; they stay in the dead-letter queue", len(out.Failed), len(send))
		}
		if _, err := o.Client.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(o.DLQURL), Entries: del}); err != nil {
			return r, fmt.Errorf("sent, but not deleted from the dead-letter queue (a second copy is harmless): %w", err)
		}
		r.Moved += len(msgs)
		if o.Log != nil {
			fmt.Fprintf(o.Log, "moved %d\n", r.Moved)
		}
	}
	return r, nil
}

func receive(ctx context.Context, o Options, visibility time.Duration) ([]types.Message, error) {
	out, err := o.Client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl: aws.String(o.DLQURL), MaxNumberOfMessages: 10, WaitTimeSeconds: 1,
		VisibilityTimeout: int32(visibility / time.Second),
	})
	if err != nil {
		return nil, fmt.Errorf("read the dead-letter queue: %w", err)
	}
	return out.Messages, nil
}

func callID(m types.Message) string {
	c, err := intake.Decode(aws.ToString(m.Body))
	if err != nil {
		return "(not a call)"
	}
	return c.ConversationID
}

// NewClient is an SQS client for the queue's region (from its URL,
// https://sqs.<region>.amazonaws.com/..., unless given), pointed at endpoint
// when set.
func NewClient(ctx context.Context, queueURL, region, endpoint string) (*sqs.Client, error) {
	cfg, err := regionConfig(ctx, queueURL, region)
	if err != nil {
		return nil, err
	}
	return sqs.NewFromConfig(cfg, func(o *sqs.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
	}), nil
}

// NewS3Client is an S3 client for the queue's region, as NewClient.
func NewS3Client(ctx context.Context, queueURL, region, endpoint string) (*s3.Client, error) {
	cfg, err := regionConfig(ctx, queueURL, region)
	if err != nil {
		return nil, err
	}
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		if endpoint != "" {
			o.BaseEndpoint, o.UsePathStyle = aws.String(endpoint), true // emulators serve buckets by path
		}
	}), nil
}

// regionConfig is the AWS configuration in the queue's region.
func regionConfig(ctx context.Context, queueURL, region string) (aws.Config, error) {
	if region == "" {
		if u, err := url.Parse(queueURL); err == nil {
			if parts := strings.Split(u.Hostname(), "."); len(parts) >= 2 && parts[0] == "sqs" {
				region = parts[1]
			}
		}
	}
	if region == "" {
		return aws.Config{}, fmt.Errorf("cannot tell the region from %q: give --region", queueURL)
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion(region))
	if err != nil {
		return aws.Config{}, fmt.Errorf("aws config: %w", err)
	}
	return cfg, nil
}
