// Package feed is the live dispatcher feed's connection registry (seed 002):
// each WebSocket connection is stored with a partition, and each
// partition's connectionCount is kept exact by changing it in the same
// DynamoDB transaction as the connection. A broadcast then fans out one
// message per partition. It never imports Pulumi.
package feed

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/access911/access911-infra/contract"
)

// API is the part of the DynamoDB client the registry uses.
type API interface {
	BatchGetItem(context.Context, *dynamodb.BatchGetItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	TransactWriteItems(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
	UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
}

// Registry keeps the connections and partitions tables.
type Registry struct {
	DB          API
	Connections string
	Partitions  string
	// PartitionCount is how many partitions there are (1..PartitionCount).
	PartitionCount int
	// Choices is how many random partitions a connect compares (default
	// DefaultChoices); see pick.
	Choices int
	// Now is the clock; tests replace it.
	Now func() time.Time
}

// DefaultChoices: the least loaded of four random partitions. Seed 002
// picks "the partitionId with less connectionCount as possible"; reading
// all 2500 counters on every connect would cost a scan per dispatcher, and
// the least loaded of a few random choices keeps the partitions within a
// small spread of each other at the cost of one BatchGetItem.
const DefaultChoices = 4

// ErrGone marks a connection that is not registered (already gone).
var ErrGone = errors.New("connection not registered")

// Connect registers a connection in the least loaded of a few random
// partitions and counts it there, atomically; connecting the same id twice
// registers it once. It returns the partition.
func (r *Registry) Connect(ctx context.Context, id string) (int, error) {
	partition, err := r.pick(ctx)
	if err != nil {
		return 0, err
	}
	expires := r.now().Add(contract.FeedConnectionTTLSeconds * time.Second).Unix()
	err = r.transact(ctx, []types.TransactWriteItem{
		{Put: &types.Put{
			TableName: aws.String(r.Connections),
			Item: map[string]types.AttributeValue{
				contract.FeedConnectionKey: &types.AttributeValueMemberS{Value: id},
				contract.FeedPartitionKey:  number(partition),
				contract.FeedExpiresAt:     number(int(expires)),
			},
			ConditionExpression:      aws.String("attribute_not_exists(#id)"),
			ExpressionAttributeNames: map[string]string{"#id": contract.FeedConnectionKey},
		}},
		r.count(partition, 1),
	})
	if alreadyRegistered(err) {
		return r.partitionOf(ctx, id)
	}
	if err != nil {
		return 0, fmt.Errorf("connect %s: %w", id, err)
	}
	return partition, nil
}

// Disconnect removes a connection and uncounts it, atomically; a connection
// already gone (a second $disconnect, a stale row already cleaned) changes
// nothing and returns ErrGone.
func (r *Registry) Disconnect(ctx context.Context, id string) error {
	partition, err := r.partitionOf(ctx, id)
	if err != nil {
		return err
	}
	err = r.transact(ctx, []types.TransactWriteItem{
		{Delete: &types.Delete{
			TableName:                 aws.String(r.Connections),
			Key:                       map[string]types.AttributeValue{contract.FeedConnectionKey: &types.AttributeValueMemberS{Value: id}},
			ConditionExpression:       aws.String("#p = :p"),
			ExpressionAttributeNames:  map[string]string{"#p": contract.FeedPartitionKey},
			ExpressionAttributeValues: map[string]types.AttributeValue{":p": number(partition)},
		}},
		r.count(partition, -1),
	})
	if alreadyRegistered(err) {
		return ErrGone // removed by a concurrent disconnect
	}
	if err != nil {
		return fmt.Errorf("disconnect %s: %w", id, err)
	}
	return nil
}

// Subscribe sets the emergency types a connection receives (none: all).
func (r *Registry) Subscribe(ctx context.Context, id string, emergencyTypes []string) error {
	in := &dynamodb.UpdateItemInput{
		TableName:                aws.String(r.Connections),
		Key:                      map[string]types.AttributeValue{contract.FeedConnectionKey: &types.AttributeValueMemberS{Value: id}},
		ConditionExpression:      aws.String("attribute_exists(#id)"),
		ExpressionAttributeNames: map[string]string{"#id": contract.FeedConnectionKey, "#s": contract.FeedSubscription},
		UpdateExpression:         aws.String("REMOVE #s"),
	}
	if len(emergencyTypes) > 0 {
		in.UpdateExpression = aws.String("SET #s = :s")
		in.ExpressionAttributeValues = map[string]types.AttributeValue{":s": &types.AttributeValueMemberSS{Value: emergencyTypes}}
	}
	_, err := r.DB.UpdateItem(ctx, in)
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return ErrGone
	}
	if err != nil {
		return fmt.Errorf("subscribe %s: %w", id, err)
	}
	return nil
}

// transactAttempts bounds the retries of a transaction that collided with
// another one on the same partition counter (TransactionConflict): many
// dispatchers connecting at once share partitions.
const transactAttempts = 8

// transact runs the items as one transaction, retrying with jittered
// backoff while DynamoDB cancels it for a conflict with a concurrent one.
func (r *Registry) transact(ctx context.Context, items []types.TransactWriteItem) error {
	for attempt := 1; ; attempt++ {
		_, err := r.DB.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		if err == nil || !conflicted(err) || attempt == transactAttempts {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Duration(rand.Int64N(int64(10*time.Millisecond) << attempt))):
		}
	}
}

// conflicted tells a transaction cancelled because a concurrent one touched
// the same item, which is worth trying again.
func conflicted(err error) bool {
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		var tip *types.TransactionInProgressException
		return errors.As(err, &tip)
	}
	for _, reason := range tce.CancellationReasons {
		if code := aws.ToString(reason.Code); code == "TransactionConflict" || code == "ThrottlingError" {
			return true
		}
	}
	return false
}

// Connection is a registered connection as the query workers load it.
type Connection struct {
	ID string
	// EmergencyTypes it subscribed to; empty means every type.
	EmergencyTypes []string
}

// Members are a partition's connections (the query workers' read).
func (r *Registry) Members(ctx context.Context, partition int) ([]Connection, error) {
	var out []Connection
	p := dynamodb.NewQueryPaginator(r.DB, &dynamodb.QueryInput{
		TableName: aws.String(r.Connections), IndexName: aws.String(contract.FeedPartitionIndex),
		KeyConditionExpression:    aws.String("#p = :p"),
		ExpressionAttributeNames:  map[string]string{"#p": contract.FeedPartitionKey},
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": number(partition)},
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("partition %d: %w", partition, err)
		}
		for _, item := range page.Items {
			c := Connection{}
			if v, ok := item[contract.FeedConnectionKey].(*types.AttributeValueMemberS); ok {
				c.ID = v.Value
			}
			if v, ok := item[contract.FeedSubscription].(*types.AttributeValueMemberSS); ok {
				c.EmergencyTypes = v.Value
			}
			out = append(out, c)
		}
	}
	return out, nil
}

// Count is a partition's connectionCount.
func (r *Registry) Count(ctx context.Context, partition int) (int, error) {
	out, err := r.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(r.Partitions), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{contract.FeedPartitionKey: number(partition)}})
	if err != nil {
		return 0, fmt.Errorf("partition %d: %w", partition, err)
	}
	return intOf(out.Item[contract.FeedConnectionCount]), nil
}

// count is the atomic change of one partition's connectionCount.
func (r *Registry) count(partition, delta int) types.TransactWriteItem {
	return types.TransactWriteItem{Update: &types.Update{
		TableName:                 aws.String(r.Partitions),
		Key:                       map[string]types.AttributeValue{contract.FeedPartitionKey: number(partition)},
		UpdateExpression:          aws.String("ADD #c :d"),
		ExpressionAttributeNames:  map[string]string{"#c": contract.FeedConnectionCount},
		ExpressionAttributeValues: map[string]types.AttributeValue{":d": number(delta)},
	}}
}

// pick is the least loaded of Choices distinct random partitions (a
// partition never counted reads as 0).
func (r *Registry) pick(ctx context.Context) (int, error) {
	choices := r.Choices
	if choices == 0 {
		choices = DefaultChoices
	}
	candidates := map[int]bool{}
	for len(candidates) < min(choices, r.PartitionCount) {
		candidates[1+rand.IntN(r.PartitionCount)] = true
	}
	var keys []map[string]types.AttributeValue
	for p := range candidates {
		keys = append(keys, map[string]types.AttributeValue{contract.FeedPartitionKey: number(p)})
	}
	out, err := r.DB.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
		r.Partitions: {Keys: keys, ConsistentRead: aws.Bool(true)},
	}})
	if err != nil {
		return 0, fmt.Errorf("read partitions: %w", err)
	}
	counts := map[int]int{}
	for _, item := range out.Responses[r.Partitions] {
		counts[intOf(item[contract.FeedPartitionKey])] = intOf(item[contract.FeedConnectionCount])
	}
	best, bestCount := 0, 0
	for p := range candidates {
		if c := counts[p]; best == 0 || c < bestCount || (c == bestCount && p < best) {
			best, bestCount = p, c
		}
	}
	return best, nil
}

func (r *Registry) partitionOf(ctx context.Context, id string) (int, error) {
	out, err := r.DB.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(r.Connections), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{contract.FeedConnectionKey: &types.AttributeValueMemberS{Value: id}},
	})
	if err != nil {
		return 0, fmt.Errorf("read connection %s: %w", id, err)
	}
	if out.Item == nil {
		return 0, ErrGone
	}
	return intOf(out.Item[contract.FeedPartitionKey]), nil
}

func (r *Registry) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// alreadyRegistered tells a transaction cancelled by its connection's
// condition (registered already on connect, gone on disconnect).
func alreadyRegistered(err error) bool {
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		return false
	}
	for _, reason := range tce.CancellationReasons {
		if aws.ToString(reason.Code) == "ConditionalCheckFailed" {
			return true
		}
	}
	return false
}

func number(n int) *types.AttributeValueMemberN {
	return &types.AttributeValueMemberN{Value: strconv.Itoa(n)}
}

func intOf(v types.AttributeValue) int {
	n, ok := v.(*types.AttributeValueMemberN)
	if !ok {
		return 0
	}
	i, _ := strconv.Atoi(n.Value)
	return i
}
