package esm

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/access911/access911-infra/capacity"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
)

// StreamReader does locally what a Lambda event source mapping on a
// DynamoDB stream does in AWS, against DynamoDB Local: it follows every
// shard of the table's stream from now on and hands the records whose event
// name passes Filter (the mapping's filter criteria) to Function in
// batches, as the deployed mapping does: a batch closes when it holds
// BatchSize records or Window after its first record, one batch at a time
// per shard (the mapping's parallelization factor 1), in order. A failed
// batch is handled as the mapping's error settings say (failures.go):
// bisected, retried MaxRetries times, records past MaxRecordAge discarded,
// and what is discarded handed to OnFailure; the shard then moves on.
type StreamReader struct {
	Streams  *dynamodbstreams.Client
	DB       *dynamodb.Client
	Table    string
	Filter   func(eventName string) bool
	Function func(ctx context.Context, batch []StreamRecord) error
	// BatchSize and Window: the mapping's batch size and batching window
	// (default 1000 and none, as the mapping's; the local feed passes its
	// deployed mapping's, capacity.FeedStreamBatchSize and FeedStreamBatchingWindow).
	BatchSize int
	Window    time.Duration
	// Poll is the pace of a shard's reads (default capacity.FeedStreamPollInterval,
	// the mapping's documented rate): a
	// shard is read at most once per Poll, busy or idle, as the mapping does.
	Poll time.Duration
	// The mapping's error handling (Lambda parameters for DynamoDB event
	// source mappings): MaxRetries is MaximumRetryAttempts (-1, the
	// default when Retries is nil: until the record expires), Bisect is
	// BisectBatchOnFunctionError, MaxRecordAge is MaximumRecordAgeInSeconds
	// (0: none), OnFailure the on-failure destination.
	Retries      *int
	Bisect       bool
	MaxRecordAge time.Duration
	OnFailure    func(ctx context.Context, f FailedBatch) error
	// Log receives every failed invocation and every discarded batch (nil:
	// slog's default).
	Log *slog.Logger
	// Stats counts failed invocations and discarded records.
	Stats StreamStats
	// StreamArn and Mapping name the stream and mapping in failure records.
	StreamArn, Mapping string

	mu      sync.Mutex
	shards  map[string]bool
	catchUp bool
	wg      sync.WaitGroup
	// caughtUp counts the shards still reading their history at Start.
	caughtUp sync.WaitGroup
}

// Start follows the stream until ctx ends.
func (r *StreamReader) Start(ctx context.Context) error {
	out, err := r.DB.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(r.Table)})
	if err != nil {
		return fmt.Errorf("describe %s: %w", r.Table, err)
	}
	arn := aws.ToString(out.Table.LatestStreamArn)
	if arn == "" {
		return fmt.Errorf("table %s has no stream", r.Table)
	}
	r.StreamArn = arn
	r.shards = map[string]bool{}
	// From now on: the shards that exist are read from their start and what
	// they hold already is skipped (DynamoDB Local's LATEST iterators can
	// miss the first new records); shards that appear later are read whole.
	r.catchUp = true
	if err := r.discover(ctx, arn, types.ShardIteratorTypeTrimHorizon); err != nil {
		return err
	}
	r.mu.Lock()
	r.catchUp = false
	r.mu.Unlock()
	// Return once the history is read past: a record written after Start
	// returns is handed on, never taken for history.
	r.caughtUp.Wait()
	r.wg.Add(1)
	go func() { // new shards appear as old ones close
		defer r.wg.Done()
		for ctx.Err() == nil {
			time.Sleep(time.Second)
			if err := r.discover(ctx, arn, types.ShardIteratorTypeTrimHorizon); err != nil && ctx.Err() == nil {
				r.log().Warn("stream shard discovery (retried in a second)", "table", r.Table, "err", err)
			}
		}
	}()
	return nil
}

// Wait returns once the reader has stopped.
func (r *StreamReader) Wait() { r.wg.Wait() }

func (r *StreamReader) discover(ctx context.Context, arn string, from types.ShardIteratorType) error {
	var start *string
	for { // DescribeStream lists at most 100 shards a page
		out, err := r.Streams.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(arn), ExclusiveStartShardId: start})
		if err != nil {
			return fmt.Errorf("describe stream: %w", err)
		}
		for _, sh := range out.StreamDescription.Shards {
			if err := r.followNew(ctx, shard{arn: arn, id: sh.ShardId, closed: sh.SequenceNumberRange != nil &&
				sh.SequenceNumberRange.EndingSequenceNumber != nil}, from); err != nil {
				return err
			}
		}
		if start = out.StreamDescription.LastEvaluatedShardId; start == nil {
			return nil
		}
	}
}

// followNew starts reading a shard not seen before. At start (LATEST) a
// closed shard holds nothing new and is skipped.
func (r *StreamReader) followNew(ctx context.Context, sh shard, from types.ShardIteratorType) error {
	id := aws.ToString(sh.id)
	r.mu.Lock()
	known := r.shards[id]
	sh.skipExisting = r.catchUp
	r.mu.Unlock()
	if known {
		return nil
	}
	it, err := r.iterator(ctx, sh, from, "")
	if err != nil {
		return err // not marked known: the next discovery tries the shard again
	}
	r.mu.Lock()
	r.shards[id] = true
	r.mu.Unlock()
	if sh.skipExisting {
		r.caughtUp.Add(1)
		sh.caughtUp = r.caughtUp.Done
	}
	r.wg.Add(1)
	go func() { defer r.wg.Done(); r.follow(ctx, sh, it) }()
	return nil
}

type shard struct {
	arn    string
	id     *string
	closed bool
	// skipExisting: the records the shard holds when it is first read are
	// history; only what comes after is handed on. caughtUp is called once
	// the history is read past (or the shard's reading ends).
	skipExisting bool
	caughtUp     func()
}

func (r *StreamReader) iterator(ctx context.Context, sh shard, from types.ShardIteratorType, after string) (*string, error) {
	in := &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(sh.arn), ShardId: sh.id, ShardIteratorType: from}
	if after != "" {
		in.ShardIteratorType, in.SequenceNumber = types.ShardIteratorTypeAfterSequenceNumber, aws.String(after)
	}
	it, err := r.Streams.GetShardIterator(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("shard %s: %w", aws.ToString(sh.id), err)
	}
	return it.ShardIterator, nil
}

// StreamRecord is one record of a batch: its event name, keys and new
// image, its sequence number and when it was written (approximately).
type StreamRecord struct {
	EventName      string
	Keys           map[string]ddbtypes.AttributeValue
	NewImage       map[string]ddbtypes.AttributeValue
	SequenceNumber string
	Created        time.Time
}

// follow reads one shard in order and hands its records on in batches. An
// iterator the stream no longer honours (expired, or trimmed past) is
// replaced by one after the last record read, or at the shard's start when
// none was read yet.
func (r *StreamReader) follow(ctx context.Context, sh shard, iterator *string) {
	poll, size, window := r.Poll, r.BatchSize, r.Window
	if poll == 0 {
		poll = capacity.FeedStreamPollInterval
	}
	if size == 0 {
		size = 1000
	}
	var batch []StreamRecord
	var opened time.Time // when the batch got its first record
	last, skipping := "", sh.skipExisting
	caughtUp := sync.OnceFunc(func() {
		if sh.caughtUp != nil {
			sh.caughtUp()
		}
	})
	defer caughtUp()
	var read time.Time // when the shard was last read
	for iterator != nil && ctx.Err() == nil {
		if !skipping { // history is read at once; the mapping's pace is for what is new
			time.Sleep(time.Until(read.Add(poll)))
		}
		read = time.Now()
		out, err := r.Streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: iterator})
		if err != nil {
			time.Sleep(poll)
			if fresh, ierr := r.iterator(ctx, sh, types.ShardIteratorTypeTrimHorizon, last); ierr == nil {
				iterator = fresh
			}
			continue
		}
		for _, rec := range out.Records {
			last = aws.ToString(rec.Dynamodb.SequenceNumber)
			name := string(rec.EventName)
			if skipping || (r.Filter != nil && !r.Filter(name)) {
				continue
			}
			if len(batch) == 0 {
				opened = time.Now()
			}
			batch = append(batch, StreamRecord{EventName: name, Keys: convertImage(rec.Dynamodb.Keys), NewImage: convertImage(rec.Dynamodb.NewImage),
				SequenceNumber: last, Created: aws.ToTime(rec.Dynamodb.ApproximateCreationDateTime)})
			if len(batch) == size {
				r.invoke(ctx, sh, batch, poll)
				batch = nil
			}
		}
		iterator = out.NextShardIterator
		if len(batch) > 0 && time.Since(opened) >= window {
			r.invoke(ctx, sh, batch, poll)
			batch = nil
		}
		if len(out.Records) == 0 && skipping {
			skipping = false // caught up with the shard's history
			caughtUp()
		}
	}
}

// convertImage turns a stream image into the DynamoDB client's attribute
// values (the two SDK packages have twin types).
func convertImage(image map[string]types.AttributeValue) map[string]ddbtypes.AttributeValue {
	out := make(map[string]ddbtypes.AttributeValue, len(image))
	for k, v := range image {
		out[k] = convertValue(v)
	}
	return out
}

func convertValue(v types.AttributeValue) ddbtypes.AttributeValue {
	switch x := v.(type) {
	case *types.AttributeValueMemberS:
		return &ddbtypes.AttributeValueMemberS{Value: x.Value}
	case *types.AttributeValueMemberN:
		return &ddbtypes.AttributeValueMemberN{Value: x.Value}
	case *types.AttributeValueMemberBOOL:
		return &ddbtypes.AttributeValueMemberBOOL{Value: x.Value}
	case *types.AttributeValueMemberB:
		return &ddbtypes.AttributeValueMemberB{Value: x.Value}
	case *types.AttributeValueMemberSS:
		return &ddbtypes.AttributeValueMemberSS{Value: x.Value}
	case *types.AttributeValueMemberNS:
		return &ddbtypes.AttributeValueMemberNS{Value: x.Value}
	case *types.AttributeValueMemberL:
		l := make([]ddbtypes.AttributeValue, len(x.Value))
		for i, e := range x.Value {
			l[i] = convertValue(e)
		}
		return &ddbtypes.AttributeValueMemberL{Value: l}
	case *types.AttributeValueMemberM:
		return &ddbtypes.AttributeValueMemberM{Value: convertImage(x.Value)}
	}
	return &ddbtypes.AttributeValueMemberNULL{Value: true}
}
