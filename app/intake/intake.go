// Package intake is the durable intake: the SQS queue a valid call is put
// on when it cannot be (or, in buffered mode, is not) written to the table
// at once, and the drainer that writes queued calls with the same
// idempotent conditional put. At-least-once delivery plus the idempotent
// store gives each call exactly one record. It never imports Pulumi.
package intake

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/access911/access911-infra/app/calls"
)

// Queue takes validated, stamped calls durably.
type Queue interface {
	Enqueue(ctx context.Context, c calls.Call) error
}

// SQSAPI is the part of the SQS client the queue uses.
type SQSAPI interface {
	SendMessage(context.Context, *sqs.SendMessageInput, ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
	GetQueueAttributes(context.Context, *sqs.GetQueueAttributesInput, ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
}

// SQSQueue is the intake queue. SendMessage returns only once SQS has
// stored the message redundantly, which is when a call may be acknowledged.
type SQSQueue struct {
	Client SQSAPI
	URL    string
}

// Enqueue sends one call as its JSON record.
func (q *SQSQueue) Enqueue(ctx context.Context, c calls.Call) error {
	body, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("encode call %q: %w", c.ConversationID, err)
	}
	if _, err := q.Client.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl:    aws.String(q.URL),
		MessageBody: aws.String(string(body)),
	}); err != nil {
		return fmt.Errorf("enqueue call %q: %w", c.ConversationID, err)
	}
	return nil
}

// Depth is the queue's approximate number of visible messages.
func (q *SQSQueue) Depth(ctx context.Context) (int, error) {
	out, err := q.Client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       aws.String(q.URL),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameApproximateNumberOfMessages},
	})
	if err != nil {
		return 0, fmt.Errorf("queue depth: %w", err)
	}
	return strconv.Atoi(out.Attributes[string(types.QueueAttributeNameApproximateNumberOfMessages)])
}

// Decode reads a queued call. A message that is not a call is a poison
// message: it fails every delivery and lands in the dead-letter queue.
func Decode(body string) (calls.Call, error) {
	var c calls.Call
	if err := json.Unmarshal([]byte(body), &c); err != nil {
		return calls.Call{}, fmt.Errorf("queued message is not a call: %w", err)
	}
	if c.ConversationID == "" || c.Timestamp == 0 {
		return calls.Call{}, fmt.Errorf("queued message has no conversation_id or timestamp")
	}
	return c, nil
}
