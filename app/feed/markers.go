package feed

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/access911/access911-infra/app/calls"
	"github.com/access911/access911-infra/contract"
)

// The stream mapping starts at TRIM_HORIZON (a mapping created or replaced
// while calls arrive misses none of them), so a new mapping replays what
// the stream still holds within its maximum record age: calls an earlier
// mapping broadcast already, regrouped into other batches, which the
// workers' ledger (keyed by a message's calls) would not recognise. The
// swarm therefore marks each call it broadcast, and drops a call already
// marked before broadcasting a batch that may be a replay.

// BroadcastsAPI is the part of the DynamoDB client the markers use.
type BroadcastsAPI interface {
	BatchGetItem(context.Context, *dynamodb.BatchGetItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	BatchWriteItem(context.Context, *dynamodb.BatchWriteItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
}

// Broadcasts are the swarm's markers of the calls it broadcast, in the
// delivery ledger's table ("broadcast#<call>#<timestamp>", kept
// broadcastRetention: longer than the stream keeps a record).
type Broadcasts struct {
	DB    BroadcastsAPI
	Table string
	Now   func() time.Time
}

// broadcastRetention: DynamoDB Streams keep a record 24 hours.
const broadcastRetention = 25 * time.Hour

// Batch limits of DynamoDB (API Reference: BatchGetItem 100 keys,
// BatchWriteItem 25 requests).
const (
	batchGetMax   = 100
	batchWriteMax = 25
)

func broadcastKey(c calls.Call) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{contract.FeedDeliveryKey: &types.AttributeValueMemberS{
		Value: fmt.Sprintf("broadcast#%s#%d", c.ConversationID, c.Timestamp)}}
}

// Unseen returns the calls not marked as broadcast, in order.
func (b *Broadcasts) Unseen(ctx context.Context, cs []calls.Call) ([]calls.Call, error) {
	seen := map[string]bool{}
	for start := 0; start < len(cs); start += batchGetMax {
		var keys []map[string]types.AttributeValue
		for _, c := range cs[start:min(start+batchGetMax, len(cs))] {
			keys = append(keys, broadcastKey(c))
		}
		for len(keys) > 0 {
			out, err := b.DB.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
				b.Table: {Keys: keys, ProjectionExpression: aws.String("#k"), ExpressionAttributeNames: map[string]string{"#k": contract.FeedDeliveryKey}}}})
			if err != nil {
				return nil, fmt.Errorf("read broadcast markers: %w", err)
			}
			for _, item := range out.Responses[b.Table] {
				if k, ok := item[contract.FeedDeliveryKey].(*types.AttributeValueMemberS); ok {
					seen[k.Value] = true
				}
			}
			if keys = out.UnprocessedKeys[b.Table].Keys; len(keys) > 0 {
				time.Sleep(50 * time.Millisecond)
			}
		}
	}
	var out []calls.Call
	for _, c := range cs {
		if !seen[broadcastKey(c)[contract.FeedDeliveryKey].(*types.AttributeValueMemberS).Value] {
			out = append(out, c)
		}
	}
	return out, nil
}

// Mark records the calls as broadcast.
func (b *Broadcasts) Mark(ctx context.Context, cs []calls.Call) error {
	now := time.Now
	if b.Now != nil {
		now = b.Now
	}
	expires := &types.AttributeValueMemberN{Value: fmt.Sprint(now().Add(broadcastRetention).Unix())}
	for start := 0; start < len(cs); start += batchWriteMax {
		var puts []types.WriteRequest
		for _, c := range cs[start:min(start+batchWriteMax, len(cs))] {
			item := broadcastKey(c)
			item[contract.FeedExpiresAt] = expires
			puts = append(puts, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
		}
		for len(puts) > 0 {
			out, err := b.DB.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{b.Table: puts}})
			if err != nil {
				return fmt.Errorf("mark broadcast calls: %w", err)
			}
			if puts = out.UnprocessedItems[b.Table]; len(puts) > 0 {
				time.Sleep(50 * time.Millisecond) // throttled: DynamoDB asks for a back-off
			}
		}
	}
	return nil
}
