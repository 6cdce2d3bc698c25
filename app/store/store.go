// Package store keeps calls in the DynamoDB calls table (aws-sdk-go-v2). It
// never imports Pulumi; the key schema comes from package calls.
package store

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/access911/access911-infra/app/calls"
	"github.com/access911/access911-infra/contract"
)

// Client tuning in the spirit of seed 000's boto3 Config.
const (
	// MaxConnections: seed 000, max_pool_connections = 50.
	MaxConnections = 50
	// MaxAttempts: seed 000, retries = {'max_attempts': 3}.
	MaxAttempts = 3
	// MaxBackoff caps the wait between attempts (the SDK's default is 20 s).
	MaxBackoff = time.Second
	// requestTimeout bounds one HTTP attempt; the Lambda timeout bounds the rest.
	requestTimeout = 5 * time.Second
)

// HTTPClient is the tuned HTTP client for DynamoDB: a pool of MaxConnections
// kept-alive connections per host, short dial and per-attempt timeouts.
func HTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = MaxConnections
	t.MaxIdleConnsPerHost = MaxConnections
	t.MaxConnsPerHost = MaxConnections
	t.IdleConnTimeout = 90 * time.Second
	t.DialContext = (&net.Dialer{Timeout: 2 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	return &http.Client{Transport: t, Timeout: requestTimeout}
}

// ClientOptions applies the tuned HTTP client and the standard retryer with
// MaxAttempts (exponential backoff with jitter, throttling-aware), its
// backoff capped at MaxBackoff: a caller is waiting, and a write that keeps
// failing is better queued (the durable intake) than retried for 20 s.
func ClientOptions(o *dynamodb.Options) {
	o.HTTPClient = HTTPClient()
	o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
		so.MaxAttempts = MaxAttempts
		so.MaxBackoff = MaxBackoff
	})
}

// API is the part of the DynamoDB client the store uses.
type API interface {
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	BatchWriteItem(context.Context, *dynamodb.BatchWriteItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
	UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
}

// Store reads and writes calls.
type Store struct {
	DB    API
	Table string
}

// ErrNotFound is returned when a call does not exist.
var ErrNotFound = errors.New("call not found")

// ErrBadCursor is returned for a cursor this store did not issue.
var ErrBadCursor = errors.New("cursor is not valid")

// Put stores a call once. A repeated delivery of the same call (same
// conversation_id and timestamp) stores nothing and returns the stored call
// with created=false, so the webhook answers the same either way.
func (s *Store) Put(ctx context.Context, c calls.Call) (stored calls.Call, created bool, err error) {
	item, err := attributevalue.MarshalMap(c)
	if err != nil {
		return calls.Call{}, false, fmt.Errorf("marshal call %q: %w", c.ConversationID, err)
	}
	_, err = s.DB.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:           &s.Table,
		Item:                item,
		ConditionExpression: aws.String("attribute_not_exists(#pk)"),
		ExpressionAttributeNames: map[string]string{
			"#pk": contract.TableHashKey,
		},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		var existing calls.Call
		if len(ccf.Item) == 0 {
			return s.getExact(ctx, c.ConversationID, c.Timestamp)
		}
		if err := attributevalue.UnmarshalMap(ccf.Item, &existing); err != nil {
			return calls.Call{}, false, fmt.Errorf("unmarshal existing call %q: %w", c.ConversationID, err)
		}
		return existing, false, nil
	}
	if err != nil {
		return calls.Call{}, false, fmt.Errorf("put call %q: %w", c.ConversationID, err)
	}
	return c, true, nil
}

func (s *Store) getExact(ctx context.Context, id string, ts int64) (calls.Call, bool, error) {
	out, err := s.DB.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      &s.Table,
		ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{
			contract.TableHashKey:  &types.AttributeValueMemberS{Value: id},
			contract.TableRangeKey: &types.AttributeValueMemberN{Value: strconv.FormatInt(ts, 10)},
		},
	})
	if err != nil {
		return calls.Call{}, false, fmt.Errorf("get call %q: %w", id, err)
	}
	var c calls.Call
	if err := attributevalue.UnmarshalMap(out.Item, &c); err != nil {
		return calls.Call{}, false, fmt.Errorf("unmarshal call %q: %w", id, err)
	}
	return c, false, nil
}

// Get returns the latest record of a conversation.
func (s *Store) Get(ctx context.Context, id string) (calls.Call, error) {
	out, err := s.DB.Query(ctx, &dynamodb.QueryInput{
		TableName:              &s.Table,
		KeyConditionExpression: aws.String("#pk = :id"),
		ExpressionAttributeNames: map[string]string{
			"#pk": contract.TableHashKey,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":id": &types.AttributeValueMemberS{Value: id},
		},
		ScanIndexForward: aws.Bool(false),
		Limit:            aws.Int32(1),
	})
	if err != nil {
		return calls.Call{}, fmt.Errorf("get call %q: %w", id, err)
	}
	if len(out.Items) == 0 {
		return calls.Call{}, ErrNotFound
	}
	var c calls.Call
	if err := attributevalue.UnmarshalMap(out.Items[0], &c); err != nil {
		return calls.Call{}, fmt.Errorf("unmarshal call %q: %w", id, err)
	}
	return c, nil
}

// Query selects calls of one emergency type in a time range.
type Query struct {
	EmergencyType string
	Since, Until  int64 // Unix seconds, inclusive; Until 0 = no upper bound
	Limit         int32
	Cursor        string // opaque, from a previous Page
}

// Page is one page of query results.
type Page struct {
	Calls      []calls.Call `json:"calls"`
	NextCursor string       `json:"next_cursor,omitempty"`
}

// QueryByType reads the emergency-type-index, newest first.
func (s *Store) QueryByType(ctx context.Context, q Query) (Page, error) {
	until := q.Until
	if until == 0 {
		until = 1<<53 - 1
	}
	in := &dynamodb.QueryInput{
		TableName:              &s.Table,
		IndexName:              aws.String(contract.EmergencyTypeIndex),
		KeyConditionExpression: aws.String("#t = :t AND #ts BETWEEN :since AND :until"),
		ExpressionAttributeNames: map[string]string{
			"#t": contract.IndexHashKey, "#ts": contract.IndexRangeKey,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":t":     &types.AttributeValueMemberS{Value: q.EmergencyType},
			":since": &types.AttributeValueMemberN{Value: strconv.FormatInt(q.Since, 10)},
			":until": &types.AttributeValueMemberN{Value: strconv.FormatInt(until, 10)},
		},
		ScanIndexForward: aws.Bool(false),
		Limit:            aws.Int32(q.Limit),
	}
	if q.Cursor != "" {
		key, err := decodeCursor(q.Cursor, q.EmergencyType, q.Since, until)
		if err != nil {
			return Page{}, err
		}
		in.ExclusiveStartKey = key
	}
	out, err := s.DB.Query(ctx, in)
	var apiErr smithy.APIError
	if q.Cursor != "" && errors.As(err, &apiErr) && apiErr.ErrorCode() == "ValidationException" {
		return Page{}, fmt.Errorf("%w: %s", ErrBadCursor, apiErr.ErrorMessage()) // a start key DynamoDB refuses is the caller's cursor
	}
	if err != nil {
		return Page{}, fmt.Errorf("query %s calls: %w", q.EmergencyType, err)
	}
	page := Page{Calls: make([]calls.Call, 0, len(out.Items))}
	if err := attributevalue.UnmarshalListOfMaps(out.Items, &page.Calls); err != nil {
		return Page{}, fmt.Errorf("unmarshal %s calls: %w", q.EmergencyType, err)
	}
	if len(out.LastEvaluatedKey) > 0 {
		page.NextCursor, err = encodeCursor(out.LastEvaluatedKey)
		if err != nil {
			return Page{}, err
		}
	}
	return page, nil
}

// cursorKey is the LastEvaluatedKey of the GSI: table key + index key.
type cursorKey struct {
	ID   string `json:"i"`
	TS   int64  `json:"t"`
	Type string `json:"e"`
}

func encodeCursor(key map[string]types.AttributeValue) (string, error) {
	var k struct {
		ID   string `dynamodbav:"conversation_id"`
		TS   int64  `dynamodbav:"timestamp"`
		Type string `dynamodbav:"emergency_type"`
	}
	if err := attributevalue.UnmarshalMap(key, &k); err != nil {
		return "", fmt.Errorf("encode cursor: %w", err)
	}
	b, _ := json.Marshal(cursorKey{ID: k.ID, TS: k.TS, Type: k.Type})
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// decodeCursor reads a cursor back into the index's start key, refusing one
// this query could not have issued: another emergency type, a time outside
// the query's range, or a conversation id no call can have (a cursor edited
// by hand, or reused with other parameters).
func decodeCursor(s, emergencyType string, since, until int64) (map[string]types.AttributeValue, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, ErrBadCursor
	}
	var k cursorKey
	if err := json.Unmarshal(b, &k); err != nil || k.Type != emergencyType || k.TS < since || k.TS > until ||
		contract.CallSchema.CheckField(contract.TableHashKey, k.ID) != "" {
		return nil, ErrBadCursor
	}
	ts := strconv.FormatInt(k.TS, 10)
	return map[string]types.AttributeValue{
		contract.TableHashKey:  &types.AttributeValueMemberS{Value: k.ID},
		contract.TableRangeKey: &types.AttributeValueMemberN{Value: ts},
		contract.IndexHashKey:  &types.AttributeValueMemberS{Value: k.Type},
	}, nil
}

// healthKey is a key no call can have (conversation ids match
// ^[A-Za-z0-9_.:-]+$, so the leading '#' keeps it apart).
var healthKey = map[string]types.AttributeValue{
	contract.TableHashKey:  &types.AttributeValueMemberS{Value: "#health"},
	contract.TableRangeKey: &types.AttributeValueMemberN{Value: "0"},
}

// Health proves the table answers a data-plane read: one eventually
// consistent GetItem of a key that never exists (0.5 RCU), not DescribeTable,
// whose control-plane quota health checkers would exhaust.
func (s *Store) Health(ctx context.Context) error {
	_, err := s.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.Table, Key: healthKey})
	if err != nil {
		return fmt.Errorf("table %q: %w", s.Table, err)
	}
	return nil
}

// SetAudioKey records where a conversation's audio is on every stored call
// of that conversation and returns how many it updated (0 when none is
// stored yet: the transcription, when it comes, finds the audio itself).
func (s *Store) SetAudioKey(ctx context.Context, id, key string) (int, error) {
	out, err := s.DB.Query(ctx, &dynamodb.QueryInput{
		TableName:                &s.Table,
		KeyConditionExpression:   aws.String("#pk = :id"),
		ProjectionExpression:     aws.String("#pk, #sk"),
		ExpressionAttributeNames: map[string]string{"#pk": contract.TableHashKey, "#sk": contract.TableRangeKey},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":id": &types.AttributeValueMemberS{Value: id},
		},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return 0, fmt.Errorf("find calls of %q: %w", id, err)
	}
	for _, item := range out.Items {
		_, err := s.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: &s.Table,
			Key: map[string]types.AttributeValue{
				contract.TableHashKey: item[contract.TableHashKey], contract.TableRangeKey: item[contract.TableRangeKey],
			},
			UpdateExpression:         aws.String("SET #audio = :key"),
			ConditionExpression:      aws.String("attribute_exists(#pk)"),
			ExpressionAttributeNames: map[string]string{"#audio": "audio_key", "#pk": contract.TableHashKey},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":key": &types.AttributeValueMemberS{Value: key},
			},
		})
		if err != nil {
			return 0, fmt.Errorf("set audio of %q: %w", id, err)
		}
	}
	return len(out.Items), nil
}
