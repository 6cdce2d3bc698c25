package esm

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// SQSMapping does locally what a Lambda SQS event source mapping does in
// AWS, against a real SQS emulator: Concurrency pollers each receive up to
// BatchSize messages (waiting up to Window for a batch), hand them to the
// function as an SQS event, delete the messages the function did not report
// as failed (ReportBatchItemFailures) and leave the failed ones to come back
// after VisibilityTimeout; the queue's redrive policy moves a message to its
// dead-letter queue after maxReceiveCount receives. An error from the
// function fails the whole batch, as in AWS.
type SQSMapping struct {
	Client            *sqs.Client
	QueueURL          string
	QueueARN          string
	Function          func(context.Context, events.SQSEvent) (events.SQSEventResponse, error)
	BatchSize         int
	Window            time.Duration
	Concurrency       int
	VisibilityTimeout time.Duration
	// FunctionTimeout bounds one invocation, as the drain function's timeout.
	FunctionTimeout time.Duration

	wg sync.WaitGroup
}

// Start runs the pollers until ctx ends; Wait waits for them.
func (m *SQSMapping) Start(ctx context.Context) {
	for range max(1, m.Concurrency) {
		m.wg.Add(1)
		go func() {
			defer m.wg.Done()
			for ctx.Err() == nil {
				if err := m.poll(ctx); err != nil && ctx.Err() == nil {
					time.Sleep(200 * time.Millisecond) // the emulator hiccuped; poll again
				}
			}
		}()
	}
}

// Wait returns once every poller has stopped.
func (m *SQSMapping) Wait() { m.wg.Wait() }

func (m *SQSMapping) poll(ctx context.Context) error {
	out, err := m.Client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl:                    aws.String(m.QueueURL),
		MaxNumberOfMessages:         int32(min(max(m.BatchSize, 1), 10)),
		WaitTimeSeconds:             int32(max(m.Window/time.Second, 1)),
		VisibilityTimeout:           int32(m.VisibilityTimeout / time.Second),
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
	})
	if err != nil || len(out.Messages) == 0 {
		return err
	}
	ev := events.SQSEvent{}
	for _, msg := range out.Messages {
		attrs := map[string]string{}
		for k, v := range msg.Attributes {
			attrs[k] = v
		}
		ev.Records = append(ev.Records, events.SQSMessage{
			MessageId: aws.ToString(msg.MessageId), ReceiptHandle: aws.ToString(msg.ReceiptHandle),
			Body: aws.ToString(msg.Body), Attributes: attrs, EventSource: "aws:sqs", EventSourceARN: m.QueueARN,
		})
	}
	fctx, cancel := context.WithTimeout(ctx, m.FunctionTimeout)
	resp, err := m.Function(fctx, ev)
	cancel()
	if err != nil {
		return nil // the whole batch comes back after the visibility timeout
	}
	return m.deleteSucceeded(ctx, ev, resp)
}

func (m *SQSMapping) deleteSucceeded(ctx context.Context, ev events.SQSEvent, resp events.SQSEventResponse) error {
	failed := map[string]bool{}
	for _, f := range resp.BatchItemFailures {
		failed[f.ItemIdentifier] = true
	}
	var entries []types.DeleteMessageBatchRequestEntry
	for i, r := range ev.Records {
		if !failed[r.MessageId] {
			entries = append(entries, types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: aws.String(r.ReceiptHandle)})
		}
	}
	if len(entries) == 0 {
		return nil
	}
	out, err := m.Client.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(m.QueueURL), Entries: entries})
	if err != nil {
		return fmt.Errorf("delete drained messages: %w", err)
	}
	if len(out.Failed) > 0 {
		return errors.New("some drained messages were not deleted; they will be delivered again (and stored once)")
	}
	return nil
}
