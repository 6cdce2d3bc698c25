package esm

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/uuid"
)

// What a DynamoDB stream mapping does with a batch its function fails
// (Lambda developer guide, "Retaining discarded records for a DynamoDB event
// source"): with BisectBatchOnFunctionError it splits the batch in two and
// retries each half ("splitting a batch does not count towards the retry
// quota"); it retries until MaximumRetryAttempts or until a record is older
// than MaximumRecordAgeInSeconds; then it discards the batch, sends a record
// of it to the on-failure destination, and goes on with the shard.

// Conditions of a discarded batch, as Lambda names them in its record.
const (
	ConditionRetriesExhausted = "RetryAttemptsExhausted"
	ConditionRecordAge        = "RecordAgeExceeded"
)

// FailedBatch is a batch the reader discarded, and why.
type FailedBatch struct {
	Condition string
	Err       error // the function's last error (nil for RecordAgeExceeded)
	Attempts  int
	ShardID   string
	StreamArn string
	Mapping   string
	Records   []StreamRecord
}

// StreamStats counts what went wrong: invocations that returned an error,
// and records discarded to the on-failure destination.
type StreamStats struct {
	FailedInvocations atomic.Int64
	Discarded         atomic.Int64
}

func (r *StreamReader) log() *slog.Logger {
	if r.Log != nil {
		return r.Log
	}
	return slog.Default()
}

// invoke hands a batch to the function with the mapping's error handling.
func (r *StreamReader) invoke(ctx context.Context, sh shard, batch []StreamRecord, poll time.Duration) {
	attempts := 0
	for ctx.Err() == nil && len(batch) > 0 {
		if batch = r.dropExpired(ctx, sh, batch); len(batch) == 0 {
			return
		}
		err := r.Function(ctx, batch)
		if err == nil || ctx.Err() != nil {
			return
		}
		r.Stats.FailedInvocations.Add(1)
		r.log().Error("stream batch failed", "table", r.Table, "shard", aws.ToString(sh.id), "records", len(batch),
			"first", batch[0].SequenceNumber, "attempt", attempts+1, "err", err)
		if r.Bisect && len(batch) > 1 {
			half := len(batch) / 2
			r.invoke(ctx, sh, batch[:half], poll)
			r.invoke(ctx, sh, batch[half:], poll)
			return
		}
		attempts++
		if r.Retries != nil && attempts > *r.Retries {
			r.discard(ctx, FailedBatch{Condition: ConditionRetriesExhausted, Err: err, Attempts: attempts,
				ShardID: aws.ToString(sh.id), Records: batch})
			return
		}
		time.Sleep(poll)
	}
}

// dropExpired discards the records older than MaxRecordAge and returns the
// rest.
func (r *StreamReader) dropExpired(ctx context.Context, sh shard, batch []StreamRecord) []StreamRecord {
	if r.MaxRecordAge <= 0 {
		return batch
	}
	var fresh, stale []StreamRecord
	for _, rec := range batch {
		if !rec.Created.IsZero() && time.Since(rec.Created) > r.MaxRecordAge {
			stale = append(stale, rec)
		} else {
			fresh = append(fresh, rec)
		}
	}
	if len(stale) > 0 {
		r.discard(ctx, FailedBatch{Condition: ConditionRecordAge, ShardID: aws.ToString(sh.id), Records: stale})
	}
	return fresh
}

// discard logs and counts a batch and hands it to the on-failure
// destination; a destination that fails is logged (Lambda drops the record
// then too, and its DestinationDeliveryFailures metric counts it).
func (r *StreamReader) discard(ctx context.Context, f FailedBatch) {
	f.StreamArn, f.Mapping = r.StreamArn, r.Mapping
	r.Stats.Discarded.Add(int64(len(f.Records)))
	r.log().Error("stream records discarded", "table", r.Table, "shard", f.ShardID, "records", len(f.Records),
		"condition", f.Condition, "attempts", f.Attempts, "err", f.Err)
	if r.OnFailure == nil {
		return
	}
	if err := r.OnFailure(context.WithoutCancel(ctx), f); err != nil {
		r.log().Error("on-failure destination", "err", err)
	}
}

// LambdaFailureRecord is the record Lambda writes to a stream mapping's
// on-failure destination; an S3 destination also gets the invocation's
// payload (Lambda developer guide, services-dynamodb-errors).
type LambdaFailureRecord struct {
	RequestContext struct {
		RequestID              string `json:"requestId"`
		FunctionArn            string `json:"functionArn"`
		Condition              string `json:"condition"`
		ApproximateInvokeCount int    `json:"approximateInvokeCount"`
	} `json:"requestContext"`
	ResponseContext struct {
		StatusCode      int    `json:"statusCode"`
		ExecutedVersion string `json:"executedVersion"`
		FunctionError   string `json:"functionError"`
	} `json:"responseContext"`
	Version   string `json:"version"`
	Timestamp string `json:"timestamp"`
	BatchInfo struct {
		ShardID                         string `json:"shardId"`
		StartSequenceNumber             string `json:"startSequenceNumber"`
		EndSequenceNumber               string `json:"endSequenceNumber"`
		ApproximateArrivalOfFirstRecord string `json:"approximateArrivalOfFirstRecord"`
		ApproximateArrivalOfLastRecord  string `json:"approximateArrivalOfLastRecord"`
		BatchSize                       int    `json:"batchSize"`
		StreamArn                       string `json:"streamArn"`
	} `json:"DDBStreamBatchInfo"`
	// Payload is the invocation's event (a DynamoDB stream event), as JSON text.
	Payload string `json:"payload"`
}

// Event is the failed invocation's stream event.
func (rec LambdaFailureRecord) Event() (events.DynamoDBEvent, error) {
	var ev events.DynamoDBEvent
	if err := json.Unmarshal([]byte(rec.Payload), &ev); err != nil {
		return ev, fmt.Errorf("failure record %s: payload: %w", rec.RequestContext.RequestID, err)
	}
	return ev, nil
}

// Record is f as Lambda writes it, and the key Lambda gives it in an S3
// destination: aws/lambda/<ESM-UUID>/<shardID>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<UUID>.
func (f FailedBatch) Record(now time.Time) (key string, rec LambdaFailureRecord, err error) {
	payload, err := json.Marshal(StreamEvent(f.StreamArn, f.Records))
	if err != nil {
		return "", rec, fmt.Errorf("failure record payload: %w", err)
	}
	id := uuid.NewString()
	rec.RequestContext.RequestID, rec.RequestContext.FunctionArn = id, f.Mapping
	rec.RequestContext.Condition, rec.RequestContext.ApproximateInvokeCount = f.Condition, f.Attempts
	if f.Err != nil {
		rec.ResponseContext.StatusCode, rec.ResponseContext.FunctionError = 200, "Unhandled"
	}
	rec.ResponseContext.ExecutedVersion, rec.Version, rec.Timestamp = "$LATEST", "1.0", now.UTC().Format(time.RFC3339Nano)
	b := &rec.BatchInfo
	b.ShardID, b.BatchSize, b.StreamArn = f.ShardID, len(f.Records), f.StreamArn
	first, last := f.Records[0], f.Records[len(f.Records)-1]
	b.StartSequenceNumber, b.EndSequenceNumber = first.SequenceNumber, last.SequenceNumber
	b.ApproximateArrivalOfFirstRecord = first.Created.UTC().Format(time.RFC3339)
	b.ApproximateArrivalOfLastRecord = last.Created.UTC().Format(time.RFC3339)
	rec.Payload = string(payload)
	t := now.UTC()
	key = fmt.Sprintf("aws/lambda/%s/%s/%s/%s-%s", f.Mapping, f.ShardID, t.Format("2006/01/02"), t.Format("2006-01-02T15.04.05"), uuid.NewString())
	return key, rec, nil
}

// StreamEvent is records as the mapping hands them to a function: a
// Lambda DynamoDB stream event.
func StreamEvent(streamArn string, records []StreamRecord) events.DynamoDBEvent {
	ev := events.DynamoDBEvent{}
	for _, r := range records {
		ev.Records = append(ev.Records, events.DynamoDBEventRecord{EventName: r.EventName, EventSource: "aws:dynamodb",
			EventSourceArn: streamArn, Change: events.DynamoDBStreamRecord{
				Keys: EventImage(r.Keys), NewImage: EventImage(r.NewImage), SequenceNumber: r.SequenceNumber,
				ApproximateCreationDateTime: events.SecondsEpochTime{Time: r.Created}, StreamViewType: "NEW_AND_OLD_IMAGES"}})
	}
	return ev
}

// EventImage turns an item into a Lambda stream event's image.
func EventImage(item map[string]ddbtypes.AttributeValue) map[string]events.DynamoDBAttributeValue {
	if item == nil {
		return nil
	}
	out := make(map[string]events.DynamoDBAttributeValue, len(item))
	for k, v := range item {
		out[k] = eventValue(v)
	}
	return out
}

func eventValue(v ddbtypes.AttributeValue) events.DynamoDBAttributeValue {
	switch x := v.(type) {
	case *ddbtypes.AttributeValueMemberS:
		return events.NewStringAttribute(x.Value)
	case *ddbtypes.AttributeValueMemberN:
		return events.NewNumberAttribute(x.Value)
	case *ddbtypes.AttributeValueMemberBOOL:
		return events.NewBooleanAttribute(x.Value)
	case *ddbtypes.AttributeValueMemberB:
		return events.NewBinaryAttribute(x.Value)
	case *ddbtypes.AttributeValueMemberSS:
		return events.NewStringSetAttribute(x.Value)
	case *ddbtypes.AttributeValueMemberNS:
		return events.NewNumberSetAttribute(x.Value)
	case *ddbtypes.AttributeValueMemberL:
		l := make([]events.DynamoDBAttributeValue, len(x.Value))
		for i, e := range x.Value {
			l[i] = eventValue(e)
		}
		return events.NewListAttribute(l)
	case *ddbtypes.AttributeValueMemberM:
		return events.NewMapAttribute(EventImage(x.Value))
	}
	return events.NewNullAttribute()
}

// S3Destination is an S3 on-failure destination: it writes each discarded
// batch's record where Lambda would (on moto locally).
type S3Destination struct {
	Client *s3.Client
	Bucket string
}

// Put writes f's record.
func (d *S3Destination) Put(ctx context.Context, f FailedBatch) error {
	key, rec, err := f.Record(time.Now())
	if err != nil {
		return err
	}
	body, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	if _, err := d.Client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(d.Bucket), Key: aws.String(key),
		Body: bytes.NewReader(body), ContentType: aws.String("application/json")}); err != nil {
		return fmt.Errorf("failure record to s3://%s/%s: %w", d.Bucket, key, err)
	}
	return nil
}
