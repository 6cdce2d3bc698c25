package feed

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/access911/access911-infra/contract"
)

// LedgerAPI is the part of the DynamoDB client the delivery ledger uses.
type LedgerAPI interface {
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
}

// Ledger makes a partition's delivery of a call happen once although SQS
// delivers a partition message at least once (a standard queue may hand the
// same message to two workers) and the stream mapping may broadcast a call
// again after a failed batch: before posting, a worker claims
// "<call>#<partition>" with a conditional put; a claim already done, or
// still held within its lease, means another worker delivered or is
// delivering it, and the message is skipped. A claim whose worker died
// (lease over, never marked done) can be taken again, so a crash costs a
// repeat for that partition's dispatchers, never a miss.
type Ledger struct {
	DB    LedgerAPI
	Table string
	// Lease is how long a claim is held without being marked done: the
	// worker function's timeout.
	Lease time.Duration
	Now   func() time.Time
}

// Ledger states.
const (
	deliveryPosting = "posting"
	deliveryDone    = "done"
	// deliveryRetention: a claim is kept an hour (TTL), longer than a
	// fan-out message lives on its queue.
	deliveryRetention = time.Hour
)

// DeliveryKey names one partition message's delivery: the partition, its
// kind, and a digest of the calls it carries (each call's id and time,
// sorted). SQS's repeated delivery and a stream batch retried whole give the
// same key; a batch the mapping bisected after a function error regroups
// its calls, and those calls may reach a dispatcher twice (each once per
// frame: the console drops a call it has, by conversation_id and timestamp).
func DeliveryKey(msg PartitionMessage) string {
	ids := make([]string, len(msg.Calls))
	for i, c := range msg.Calls {
		ids[i] = fmt.Sprintf("%s#%d", c.ConversationID, c.Timestamp)
	}
	sort.Strings(ids)
	sum := sha256.Sum256([]byte(strings.Join(ids, "\n")))
	kind := "calls"
	if msg.Supervisors {
		kind = "summary"
	}
	return fmt.Sprintf("%d#%s#%x", msg.Partition, kind, sum[:12])
}

// Claim takes the delivery of key; false means another worker has it.
func (l *Ledger) Claim(ctx context.Context, key string) (bool, error) {
	now := l.now()
	_, err := l.DB.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(l.Table),
		Item: map[string]types.AttributeValue{
			contract.FeedDeliveryKey: &types.AttributeValueMemberS{Value: key},
			"state":                  &types.AttributeValueMemberS{Value: deliveryPosting},
			"leaseUntil":             number(int(now.Add(l.Lease).UnixMilli())),
			contract.FeedExpiresAt:   number(int(now.Add(deliveryRetention).Unix())),
		},
		ConditionExpression:      aws.String("attribute_not_exists(#k) OR (#s = :posting AND leaseUntil < :now)"),
		ExpressionAttributeNames: map[string]string{"#k": contract.FeedDeliveryKey, "#s": "state"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":posting": &types.AttributeValueMemberS{Value: deliveryPosting}, ":now": number(int(now.UnixMilli())),
		},
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("claim delivery %s: %w", key, err)
	}
	return true, nil
}

// Done marks key delivered: no later copy of the message posts it again.
func (l *Ledger) Done(ctx context.Context, key string) error {
	_, err := l.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(l.Table),
		Key:                       map[string]types.AttributeValue{contract.FeedDeliveryKey: &types.AttributeValueMemberS{Value: key}},
		UpdateExpression:          aws.String("SET #s = :done"),
		ExpressionAttributeNames:  map[string]string{"#s": "state"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":done": &types.AttributeValueMemberS{Value: deliveryDone}},
	})
	if err != nil {
		return fmt.Errorf("mark delivery %s done: %w", key, err)
	}
	return nil
}

func (l *Ledger) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

// LedgerTableInput is the delivery ledger's table (by delivery key, TTL on
// expiresAt), for local runs; in AWS the feed's component creates it.
func LedgerTableInput(name string) *dynamodb.CreateTableInput {
	return &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String(contract.FeedDeliveryKey), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String(contract.FeedDeliveryKey), KeyType: types.KeyTypeHash}},
	}
}

func number(n int) *types.AttributeValueMemberN {
	return &types.AttributeValueMemberN{Value: strconv.Itoa(n)}
}
