// Package feed is the live dispatcher feed's connection registry (seed 002):
// each WebSocket connection is stored with a partition (one of the
// supervisors' partitions), and each area it serves with a membership item
// in one of that area's partitions; each partition's connectionCount is kept
// exact by changing it in the same DynamoDB transaction as the item. A
// broadcast then fans out one message per partition of the calls' areas. It
// never imports Pulumi.
package registry

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
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
	// PerArea is how many partitions an area spreads over (default
	// DefaultPartitionsPerArea).
	PerArea int
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

// Layout is the registry's partition layout over queues.
func (r *Registry) Layout(queues int) Layout {
	return Layout{Partitions: r.PartitionCount, PerArea: r.perArea(), Queues: queues}
}

func (r *Registry) perArea() int {
	if r.PerArea > 0 {
		return r.PerArea
	}
	return DefaultPartitionsPerArea
}

// Connect registers a connection in the least loaded of the supervisors'
// partitions and counts it there, atomically; connecting the same id twice
// registers it once. It returns the partition.
func (r *Registry) Connect(ctx context.Context, id string) (int, error) {
	partition, err := r.pick(ctx, SupervisorPartitions(r.PartitionCount, r.perArea()))
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

// Disconnect removes a connection and its area memberships and uncounts
// them, atomically; a connection already gone (a second $disconnect, a stale
// row already cleaned) changes nothing and returns ErrGone.
func (r *Registry) Disconnect(ctx context.Context, id string) error {
	row, err := r.row(ctx, id)
	if err != nil {
		return err
	}
	items := []types.TransactWriteItem{{Delete: &types.Delete{
		TableName:                 aws.String(r.Connections),
		Key:                       key(id),
		ConditionExpression:       aws.String("#p = :p"),
		ExpressionAttributeNames:  map[string]string{"#p": contract.FeedPartitionKey},
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": number(row.partition)},
	}}}
	deltas := map[int]int{row.partition: -1}
	for area, p := range row.members {
		items = append(items, types.TransactWriteItem{Delete: &types.Delete{TableName: aws.String(r.Connections), Key: key(memberID(id, area))}})
		deltas[p]--
	}
	items = append(items, r.counts(deltas)...)
	err = r.transact(ctx, items)
	if alreadyRegistered(err) {
		return ErrGone // removed by a concurrent disconnect
	}
	if err != nil {
		return fmt.Errorf("disconnect %s: %w", id, err)
	}
	return nil
}

// Subscribe sets the areas a connection serves and the emergency types it
// receives (none: every type). Each area gets a membership item in the
// least loaded of the area's partitions; areas dropped lose theirs, areas
// kept keep their partition; all in one transaction with the counts. A
// subscription without areas is a supervisor's (summaries only).
func (r *Registry) Subscribe(ctx context.Context, id string, areas, emergencyTypes []string) error {
	row, err := r.row(ctx, id)
	if err != nil {
		return err
	}
	update := &types.Update{
		TableName:                aws.String(r.Connections),
		Key:                      key(id),
		ConditionExpression:      aws.String("attribute_exists(#id)"),
		ExpressionAttributeNames: map[string]string{"#id": contract.FeedConnectionKey, "#s": contract.FeedSubscription, "#a": contract.FeedSubscriptionAreas, "#m": feedMembers},
	}
	sets, removes, values := []string{}, []string{}, map[string]types.AttributeValue{}
	setOrRemove := func(name, placeholder string, v []string) {
		if len(v) == 0 {
			removes = append(removes, name)
			return
		}
		sets = append(sets, name+" = "+placeholder)
		values[placeholder] = &types.AttributeValueMemberSS{Value: v}
	}
	setOrRemove("#s", ":s", emergencyTypes)
	setOrRemove("#a", ":a", areas)
	members, items, err := r.moveMemberships(ctx, id, row, areas, emergencyTypes)
	if err != nil {
		return err
	}
	if len(members) == 0 {
		removes = append(removes, "#m")
	} else {
		sets = append(sets, "#m = :m")
		m := map[string]types.AttributeValue{}
		for a, p := range members {
			m[a] = number(p)
		}
		values[":m"] = &types.AttributeValueMemberM{Value: m}
	}
	expr := ""
	if len(sets) > 0 {
		expr = "SET " + strings.Join(sets, ", ")
	}
	if len(removes) > 0 {
		expr += " REMOVE " + strings.Join(removes, ", ")
	}
	update.UpdateExpression = aws.String(strings.TrimSpace(expr))
	if len(values) > 0 {
		update.ExpressionAttributeValues = values
	}
	err = r.transact(ctx, append([]types.TransactWriteItem{{Update: update}}, items...))
	if alreadyRegistered(err) {
		return ErrGone
	}
	if err != nil {
		return fmt.Errorf("subscribe %s: %w", id, err)
	}
	return nil
}

// feedMembers is a connection row's map of area -> the partition of its
// membership item.
const feedMembers = "members"

// moveMemberships are the transaction items that bring a connection's
// memberships from what row holds to areas: new areas get an item (and a
// count) in the least loaded of their partitions, dropped ones lose theirs,
// kept ones are updated in place with the new types.
func (r *Registry) moveMemberships(ctx context.Context, id string, row connectionRow, areas, emergencyTypes []string) (map[string]int, []types.TransactWriteItem, error) {
	members := map[string]int{}
	deltas := map[int]int{} // one count update per partition: a transaction touches an item once
	var items []types.TransactWriteItem
	for area, p := range row.members {
		if !slices.Contains(areas, area) {
			items = append(items, types.TransactWriteItem{Delete: &types.Delete{TableName: aws.String(r.Connections), Key: key(memberID(id, area))}})
			deltas[p]--
		}
	}
	for _, area := range areas {
		p, kept := row.members[area]
		if !kept {
			var err error
			if p, err = r.pick(ctx, AreaPartitions(area, r.PartitionCount, r.perArea())); err != nil {
				return nil, nil, err
			}
			deltas[p]++
		}
		members[area] = p
		item := map[string]types.AttributeValue{
			contract.FeedConnectionKey: &types.AttributeValueMemberS{Value: memberID(id, area)},
			contract.FeedPartitionKey:  number(p),
			contract.FeedMemberOf:      &types.AttributeValueMemberS{Value: id},
			contract.FeedMemberArea:    &types.AttributeValueMemberS{Value: area},
			contract.FeedExpiresAt:     number(row.expiresAt),
		}
		if len(emergencyTypes) > 0 {
			item[contract.FeedSubscription] = &types.AttributeValueMemberSS{Value: emergencyTypes}
		}
		items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: aws.String(r.Connections), Item: item}})
	}
	return members, append(items, r.counts(deltas)...), nil
}

// counts are the count updates of several partitions, one item each (a
// transaction may touch an item once), in partition order.
func (r *Registry) counts(deltas map[int]int) []types.TransactWriteItem {
	var out []types.TransactWriteItem
	for _, p := range slices.Sorted(maps.Keys(deltas)) {
		if deltas[p] != 0 {
			out = append(out, r.count(p, deltas[p]))
		}
	}
	return out
}

// memberID is the key of a connection's membership item for an area.
func memberID(id, area string) string { return id + "#" + area }

func key(id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{contract.FeedConnectionKey: &types.AttributeValueMemberS{Value: id}}
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

// Connection is a registered connection as the query workers load it:
// a connection row (a supervisor's, or a dispatcher's own, which lists its
// Areas) or a dispatcher's membership in one Area.
type Connection struct {
	ID string
	// EmergencyTypes it subscribed to; empty means every type.
	EmergencyTypes []string
	// Area is the membership's area ("" on a connection row).
	Area string
	// Areas are the areas a connection row's dispatcher serves (none: a
	// supervisor).
	Areas []string
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
			out = append(out, connectionOf(item))
		}
	}
	return out, nil
}

// connectionOf reads a connection row or a membership item.
func connectionOf(item map[string]types.AttributeValue) Connection {
	str := func(k string) string {
		v, _ := item[k].(*types.AttributeValueMemberS)
		if v == nil {
			return ""
		}
		return v.Value
	}
	set := func(k string) []string {
		v, _ := item[k].(*types.AttributeValueMemberSS)
		if v == nil {
			return nil
		}
		return v.Value
	}
	c := Connection{ID: str(contract.FeedConnectionKey), EmergencyTypes: set(contract.FeedSubscription),
		Area: str(contract.FeedMemberArea), Areas: set(contract.FeedSubscriptionAreas)}
	if of := str(contract.FeedMemberOf); of != "" {
		c.ID = of
	}
	return c
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

// pick is the least loaded of Choices distinct random partitions among
// candidates (a partition never counted reads as 0).
func (r *Registry) pick(ctx context.Context, among []int) (int, error) {
	choices := r.Choices
	if choices == 0 {
		choices = DefaultChoices
	}
	candidates := map[int]bool{}
	for _, i := range rand.Perm(len(among))[:min(choices, len(among))] {
		candidates[among[i]] = true
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

// connectionRow is what a connection's own row says: its partition, its
// memberships (area -> partition) and when it expires.
type connectionRow struct {
	partition, expiresAt int
	members              map[string]int
}

func (r *Registry) row(ctx context.Context, id string) (connectionRow, error) {
	out, err := r.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(r.Connections), ConsistentRead: aws.Bool(true), Key: key(id)})
	if err != nil {
		return connectionRow{}, fmt.Errorf("read connection %s: %w", id, err)
	}
	if out.Item == nil {
		return connectionRow{}, ErrGone
	}
	row := connectionRow{partition: intOf(out.Item[contract.FeedPartitionKey]), expiresAt: intOf(out.Item[contract.FeedExpiresAt]),
		members: map[string]int{}}
	if m, ok := out.Item[feedMembers].(*types.AttributeValueMemberM); ok {
		for area, p := range m.Value {
			row.members[area] = intOf(p)
		}
	}
	return row, nil
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
