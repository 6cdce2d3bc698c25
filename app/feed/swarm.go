package feed

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/access911/access911-infra/app/feed/registry"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/access911/access911-infra/app/calls"
	"github.com/access911/access911-infra/app/metrics"
	"github.com/access911/access911-infra/contract"
)

// BatchSender is the part of the SQS client the swarm uses.
type BatchSender interface {
	SendMessageBatch(context.Context, *sqs.SendMessageBatchInput, ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error)
}

// Swarm turns the new calls of each stream batch into one message per
// partition of their areas (and one per supervisors' partition), spread
// over the fan-out queues (seed 002's "Lambda Swarm", coalesced: messages
// follow batches, not calls). Only INSERTs broadcast: an update or delete
// of a call is not a new call. The stream of each region carries the calls
// replicated from the other regions too, so each region's dispatchers get
// every call once.
type Swarm struct {
	SQS        BatchSender
	Queues     []string // queue URLs
	Partitions int
	// PerArea is how many partitions an area spreads over (default
	// DefaultPartitionsPerArea).
	PerArea int
	// Broadcasts, if set, drops the calls broadcast already (a new mapping
	// replaying the stream) and marks what the swarm broadcast.
	Broadcasts *Broadcasts
	// Invalidate, if set, gets every stream batch as well (the read cache's
	// invalidator): the swarm is the stream's one reader, as AWS advises for
	// a global table's stream, and fans the batch out.
	Invalidate func(ctx context.Context, ev events.DynamoDBEvent) error
	Log        *slog.Logger
	Now        func() time.Time
	// Region and Metrics, if set: each batch's lag of the calls replicated
	// from other regions (contract.ReplicatedCallLag) is emitted.
	Region  string
	Metrics *metrics.Emitter
}

// Handle broadcasts the batch's INSERTs together, hands the whole batch to
// Invalidate at the same time, and returns how many calls it sent out. A
// failure of either fails the batch: the mapping retries it, the markers
// and the ledger keep a call from reaching a dispatcher twice, and the
// cache's changes are idempotent.
func (s *Swarm) Handle(ctx context.Context, ev events.DynamoDBEvent) (int, error) {
	if s.Invalidate == nil {
		return s.broadcastInserts(ctx, ev)
	}
	var invalidated error
	done := make(chan struct{})
	go func() {
		defer close(done)
		invalidated = s.Invalidate(ctx, ev)
	}()
	n, err := s.broadcastInserts(ctx, ev)
	<-done
	if invalidated != nil {
		invalidated = fmt.Errorf("read cache invalidation: %w", invalidated)
	}
	return n, errors.Join(err, invalidated)
}

// broadcastInserts broadcasts the new calls of a stream batch.
func (s *Swarm) broadcastInserts(ctx context.Context, ev events.DynamoDBEvent) (int, error) {
	var batch []calls.Call
	for _, rec := range ev.Records {
		if rec.EventName != string(events.DynamoDBOperationTypeInsert) {
			continue
		}
		c, err := CallFromImage(rec.Change.NewImage)
		if err != nil {
			return 0, fmt.Errorf("stream record %s: %w", rec.EventID, err)
		}
		if contract.IsControlID(c.ConversationID) || contract.IsCanaryID(c.ConversationID) {
			continue // the failover control, or a drill's canary: not a caller's call
		}
		batch = append(batch, c)
	}
	s.emitReplicationLag(batch)
	return s.BroadcastNew(ctx, batch)
}

// emitReplicationLag records how late the batch's calls from other
// regions arrived: now less when the other region received them.
func (s *Swarm) emitReplicationLag(batch []calls.Call) {
	if s.Metrics == nil || s.Region == "" {
		return
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	lag, seen := int64(0), false
	for _, c := range batch {
		if c.Region != "" && c.Region != s.Region && c.ReceivedAt > 0 {
			lag, seen = max(lag, now().UnixMilli()-c.ReceivedAt*1000), true // received_at is in seconds
		}
	}
	if seen {
		s.Metrics.Emit([]metrics.Value{{Name: contract.ReplicatedCallLag, Value: float64(lag), Unit: metrics.Milliseconds}}, nil)
	}
}

// BroadcastNew broadcasts the calls not broadcast before and marks them;
// it returns how many it sent. A failure to mark is logged, not returned:
// the calls reached the queues, and only a later replay would repeat them.
func (s *Swarm) BroadcastNew(ctx context.Context, batch []calls.Call) (int, error) {
	if s.Broadcasts != nil && len(batch) > 0 {
		unseen, err := s.Broadcasts.Unseen(ctx, batch)
		if err != nil {
			return 0, err
		}
		batch = unseen
	}
	if err := s.Broadcast(ctx, batch); err != nil {
		return 0, err // the mapping retries the batch; the ledger skips what was delivered
	}
	if s.Broadcasts != nil && len(batch) > 0 {
		if err := s.Broadcasts.Mark(context.WithoutCancel(ctx), batch); err != nil {
			s.logger().Warn("broadcast markers not written: a replay of these calls would repeat them", "calls", len(batch), "err", err)
		}
	}
	return len(batch), nil
}

func (s *Swarm) logger() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

// Broadcast sends a batch of new calls' partition messages, ten per
// SendMessageBatch, every queue in parallel, stamped with when the
// broadcast started (dispatchers see the delivery latency).
func (s *Swarm) Broadcast(ctx context.Context, batch []calls.Call) error {
	if len(batch) == 0 {
		return nil
	}
	var wg sync.WaitGroup
	errs := make([]error, len(s.Queues))
	sentAt := time.Now().UnixMilli()
	perArea := s.PerArea
	if perArea == 0 {
		perArea = registry.DefaultPartitionsPerArea
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	liveAfter := now().Add(-contract.FeedLiveSeconds * time.Second).Unix()
	for q, msgs := range Fanout(batch, registry.Layout{Partitions: s.Partitions, PerArea: perArea, Queues: len(s.Queues), LiveAfter: liveAfter}) {
		if len(msgs) == 0 {
			continue
		}
		for i := range msgs {
			msgs[i].SentAtMs = sentAt
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[q] = sendAll(ctx, s.SQS, s.Queues[q], msgs)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// sendAll sends a queue's messages in as few SendMessageBatch calls as
// SQS accepts: each batch at most contract.SQSBatchMaxEntries messages AND
// contract.SQSBatchMaxBytes in all (a batch of ten 240 KB messages is
// refused whole). A message is at most contract.FeedMaxMessageBytes, below
// the batch's size, so each fits at least alone.
func sendAll(ctx context.Context, client BatchSender, queue string, msgs []PartitionMessage) error {
	bodies := make([][]byte, len(msgs))
	for i, m := range msgs {
		b, err := json.Marshal(m)
		if err != nil {
			return fmt.Errorf("encode partition %d's message: %w", m.Partition, err)
		}
		bodies[i] = b
	}
	for _, batch := range packBatches(bodies) {
		entries := make([]sqstypes.SendMessageBatchRequestEntry, len(batch))
		for i, body := range batch {
			entries[i] = sqstypes.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), MessageBody: aws.String(string(body))}
		}
		out, err := client.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(queue), Entries: entries})
		if err != nil {
			return fmt.Errorf("send %d partition messages (%d bytes) to %s: %w", len(batch), batchBytes(batch), queue, err)
		}
		if len(out.Failed) > 0 {
			f := out.Failed[0]
			return fmt.Errorf("%s refused %d of %d partition messages (first: %s %s)", queue, len(out.Failed), len(entries),
				aws.ToString(f.Code), aws.ToString(f.Message))
		}
	}
	return nil
}

// packBatches groups message bodies, in order, into SendMessageBatch
// batches within SQS's count and total size.
func packBatches(bodies [][]byte) [][][]byte {
	var out [][][]byte
	var cur [][]byte
	size := 0
	for _, b := range bodies {
		if len(cur) > 0 && (len(cur) == contract.SQSBatchMaxEntries || size+len(b) > contract.SQSBatchMaxBytes) {
			out = append(out, cur)
			cur, size = nil, 0
		}
		cur = append(cur, b)
		size += len(b)
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

func batchBytes(batch [][]byte) int {
	n := 0
	for _, b := range batch {
		n += len(b)
	}
	return n
}

// CallFromImage reads a call from a stream record's image.
func CallFromImage(image map[string]events.DynamoDBAttributeValue) (calls.Call, error) {
	item := make(map[string]types.AttributeValue, len(image))
	for k, v := range image {
		item[k] = attributeValue(v)
	}
	var c calls.Call
	if err := attributevalue.UnmarshalMap(item, &c); err != nil {
		return calls.Call{}, fmt.Errorf("read call: %w", err)
	}
	if c.ConversationID == "" {
		return calls.Call{}, errors.New("the image has no conversation_id")
	}
	return c, nil
}

// attributeValue converts Lambda's stream attribute to the SDK's.
func attributeValue(v events.DynamoDBAttributeValue) types.AttributeValue {
	switch v.DataType() {
	case events.DataTypeString:
		return &types.AttributeValueMemberS{Value: v.String()}
	case events.DataTypeNumber:
		return &types.AttributeValueMemberN{Value: v.Number()}
	case events.DataTypeBoolean:
		return &types.AttributeValueMemberBOOL{Value: v.Boolean()}
	case events.DataTypeBinary:
		return &types.AttributeValueMemberB{Value: v.Binary()}
	case events.DataTypeStringSet:
		return &types.AttributeValueMemberSS{Value: v.StringSet()}
	case events.DataTypeNumberSet:
		return &types.AttributeValueMemberNS{Value: v.NumberSet()}
	case events.DataTypeList:
		var l []types.AttributeValue
		for _, e := range v.List() {
			l = append(l, attributeValue(e))
		}
		return &types.AttributeValueMemberL{Value: l}
	case events.DataTypeMap:
		m := map[string]types.AttributeValue{}
		for k, e := range v.Map() {
			m[k] = attributeValue(e)
		}
		return &types.AttributeValueMemberM{Value: m}
	}
	return &types.AttributeValueMemberNULL{Value: true}
}

// Worker is seed 002's query and post workers for one SQS batch of
// partition messages: each message's partition is loaded and posted to in
// parallel (the seed's "10 small parallel queries" per batch of 10).
type Worker struct {
	Members   Members
	Poster    Poster
	Forgetter Forgetter
	// Parallelism is how many posts an invocation keeps in flight, shared
	// by the partitions of its batch (contract.FeedPostsInFlight in AWS):
	// it bounds the connections to the @connections endpoint.
	Parallelism int
	// Ledger, if set, makes each partition's delivery of a call happen once
	// (see Ledger); without it a repeated message posts again.
	Ledger DeliveryLedger
	// Metrics, if set, receives one EMF record per batch: posts sent,
	// failed and gone, repeats skipped, and the slowest delivery after the
	// broadcast.
	Metrics *metrics.Emitter
	Now     func() time.Time
}

// Handle delivers a batch; a message whose partition could not be read is
// reported as failed (and comes back), a post that failed otherwise is not
// retried through the queue: that would send the call again to the
// partition's other dispatchers.
func (w *Worker) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, Delivery, error) {
	var (
		mu       sync.Mutex
		total    Delivery
		failures []events.SQSBatchItemFailure
		wg       sync.WaitGroup
		oldest   int64 // the earliest broadcast delivered in this batch
		skipped  int   // repeated partition messages
		inFlight = make(chan struct{}, max(1, w.Parallelism))
	)
	for _, m := range ev.Records {
		wg.Add(1)
		go func(m events.SQSMessage) {
			defer wg.Done()
			var msg PartitionMessage
			err := json.Unmarshal([]byte(m.Body), &msg)
			var d Delivery
			repeat := false
			if err == nil {
				d, repeat, err = w.deliverOnce(ctx, msg, inFlight)
			}
			mu.Lock()
			defer mu.Unlock()
			if repeat {
				skipped++
				return
			}
			if err == nil && msg.SentAtMs > 0 && (oldest == 0 || msg.SentAtMs < oldest) {
				oldest = msg.SentAtMs
			}
			if err != nil {
				failures = append(failures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
				return
			}
			total.Sent, total.Calls, total.Filtered, total.Gone = total.Sent+d.Sent, total.Calls+d.Calls, total.Filtered+d.Filtered, total.Gone+d.Gone
			total.Failed = append(total.Failed, d.Failed...)
		}(m)
	}
	wg.Wait()
	w.emit(total, oldest, skipped)
	return events.SQSEventResponse{BatchItemFailures: failures}, total, nil
}

// DeliveryLedger claims a partition's delivery of a call (see Ledger).
type DeliveryLedger interface {
	Claim(ctx context.Context, key string) (bool, error)
	Done(ctx context.Context, key string) error
}

// deliverOnce delivers msg unless the ledger says another worker has
// (repeat). A failed read of the partition leaves the claim to lapse, so
// the message's next delivery, after the visibility timeout, takes it.
func (w *Worker) deliverOnce(ctx context.Context, msg PartitionMessage, inFlight chan struct{}) (d Delivery, repeat bool, err error) {
	key := DeliveryKey(msg)
	members := w.Members
	if w.Ledger != nil {
		// The partition's query runs while the claim is taken: one round
		// trip to DynamoDB less before the posts (a repeat wastes a read).
		pre := prefetch(ctx, w.Members, msg.Partition)
		claimed, err := w.Ledger.Claim(ctx, key)
		if err != nil || !claimed {
			return Delivery{}, !claimed && err == nil, err
		}
		members = pre
	}
	if d, err = deliver(ctx, members, w.Poster, w.Forgetter, msg, inFlight); err != nil {
		return d, false, err
	}
	if w.Ledger != nil {
		// Posted: a failure to record it only risks a repeat after the lease.
		_ = w.Ledger.Done(context.WithoutCancel(ctx), key)
	}
	return d, false, nil
}

// prefetched is a partition's members, read ahead of their use.
type prefetched struct {
	done  chan struct{}
	conns []registry.Connection
	err   error
}

// prefetch starts reading a partition's members.
func prefetch(ctx context.Context, m Members, partition int) *prefetched {
	f := &prefetched{done: make(chan struct{})}
	go func() {
		defer close(f.done)
		f.conns, f.err = m.Members(ctx, partition)
	}()
	return f
}

// Members waits for the read started by prefetch.
func (f *prefetched) Members(ctx context.Context, _ int) ([]registry.Connection, error) {
	select {
	case <-f.done:
		return f.conns, f.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// emit records a batch's delivery: the post-failure alarm reads
// FeedPostsFailed, the dashboard the rest.
func (w *Worker) emit(d Delivery, oldestSentAtMs int64, skipped int) {
	values := []metrics.Value{
		{Name: contract.FeedRepeatsSkipped, Value: float64(skipped), Unit: metrics.Count},
		{Name: contract.FeedPostsSent, Value: float64(d.Sent), Unit: metrics.Count},
		{Name: contract.FeedCallsDelivered, Value: float64(d.Calls), Unit: metrics.Count},
		{Name: contract.FeedPostsFailed, Value: float64(len(d.Failed)), Unit: metrics.Count},
		{Name: contract.FeedConnectionsGone, Value: float64(d.Gone), Unit: metrics.Count},
	}
	if oldestSentAtMs > 0 {
		now := time.Now
		if w.Now != nil {
			now = w.Now
		}
		values = append(values, metrics.Value{Name: contract.FeedDeliveryLatency,
			Value: float64(now().UnixMilli() - oldestSentAtMs), Unit: metrics.Milliseconds})
	}
	w.Metrics.Emit(values, nil)
}
