package feed

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/access911/access911-infra/app/feed/registry"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/access911/access911-infra/app/calls"
	"github.com/access911/access911-infra/app/metrics"
	"github.com/access911/access911-infra/contract"
)

// sent records the swarm's SendMessageBatch calls (SQS itself is tested on moto).
type sent struct {
	mu      sync.Mutex
	byQueue map[string][]PartitionMessage
	calls   int
}

func (s *sent) SendMessageBatch(_ context.Context, in *sqs.SendMessageBatchInput, _ ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	// SQS refuses a batch whole over its count or total size (API
	// Reference, SendMessageBatch: TooManyEntriesInBatchRequest,
	// BatchRequestTooLong).
	if len(in.Entries) > contract.SQSBatchMaxEntries {
		return nil, errors.New("AWS.SimpleQueueService.TooManyEntriesInBatchRequest")
	}
	total := 0
	for _, e := range in.Entries {
		total += len(aws.ToString(e.MessageBody))
	}
	if total > contract.SQSBatchMaxBytes {
		return nil, fmt.Errorf("AWS.SimpleQueueService.BatchRequestTooLong: %d bytes", total)
	}
	for _, e := range in.Entries {
		var m PartitionMessage
		if err := json.Unmarshal([]byte(aws.ToString(e.MessageBody)), &m); err != nil {
			panic(err)
		}
		s.byQueue[aws.ToString(in.QueueUrl)] = append(s.byQueue[aws.ToString(in.QueueUrl)], m)
	}
	return &sqs.SendMessageBatchOutput{}, nil
}

func image(id, typ string) map[string]events.DynamoDBAttributeValue {
	return map[string]events.DynamoDBAttributeValue{
		"conversation_id": events.NewStringAttribute(id), "timestamp": events.NewNumberAttribute("1764300000"),
		"emergency_type": events.NewStringAttribute(typ), "severity": events.NewNumberAttribute("4"),
		"latitude": events.NewNumberAttribute("36.16"), "longitude": events.NewNumberAttribute("-86.78"),
		"needs_geocoding": events.NewBooleanAttribute(false),
	}
}

// A stream batch's INSERTs go out together: one message per partition of
// their area (4) and per supervisors' partition (4), whatever the number of
// calls; updates and deletes broadcast nothing.
func TestSwarmCoalescesABatchsInserts(t *testing.T) {
	s := &sent{byQueue: map[string][]PartitionMessage{}}
	queues := []string{"q0", "q1", "q2"}
	sw := &Swarm{SQS: s, Queues: queues, Partitions: 25}
	n, err := sw.Handle(context.Background(), events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{
		{EventName: "INSERT", Change: events.DynamoDBStreamRecord{NewImage: image("new-1", "fire")}},
		{EventName: "MODIFY", Change: events.DynamoDBStreamRecord{NewImage: image("changed", "fire")}},
		{EventName: "INSERT", Change: events.DynamoDBStreamRecord{NewImage: image("new-2", "flood")}},
		{EventName: "INSERT", Change: events.DynamoDBStreamRecord{NewImage: map[string]events.DynamoDBAttributeValue{
			"conversation_id": events.NewStringAttribute(contract.ControlID("us-east-1")), "timestamp": events.NewNumberAttribute("0"),
			"allowed": events.NewBooleanAttribute(false)}}},
		{EventName: "REMOVE", Change: events.DynamoDBStreamRecord{OldImage: image("expired", "fire")}},
	}})
	require.NoError(t, err)
	assert.Equal(t, 2, n, "updates, deletes and the failover control broadcast nothing")
	total, supervisors := 0, 0
	for q, msgs := range s.byQueue {
		total += len(msgs)
		for _, m := range msgs {
			ids := []string{}
			for _, c := range m.Calls {
				ids = append(ids, c.ConversationID)
			}
			assert.Equal(t, []string{"new-1", "new-2"}, ids, "both calls in one message")
			assert.Equal(t, 36.16, m.Calls[0].Latitude)
			assert.Equal(t, queues[(m.Partition-1)%3], q)
			assert.Positive(t, m.SentAtMs)
			if m.Supervisors {
				supervisors++
			}
		}
	}
	assert.Equal(t, 8, total, "dn6m's 4 partitions and the supervisors' 4, not 25 per call")
	assert.Equal(t, 4, supervisors)
	assert.LessOrEqual(t, s.calls, 3, "at most one SendMessageBatch per queue")

	empty := &sent{byQueue: map[string][]PartitionMessage{}}
	n, err = (&Swarm{SQS: empty, Queues: queues, Partitions: 25}).Handle(context.Background(), events.DynamoDBEvent{
		Records: []events.DynamoDBEventRecord{{EventName: "MODIFY", Change: events.DynamoDBStreamRecord{NewImage: image("x", "fire")}}}})
	require.NoError(t, err)
	assert.Zero(t, n)
	assert.Zero(t, empty.calls, "no new call, nothing sent")
}

func TestWorkerDeliversEachPartitionMessage(t *testing.T) {
	m := partitionMembers{1: {{ID: "a", Area: "dn6m"}, {ID: "b", Area: "dn6m", EmergencyTypes: []string{"flood"}}}, 2: {{ID: "c", Area: "dn6m"}}}
	p := newPoster()
	w := &Worker{Members: m, Poster: p, Forgetter: &forgetter{}, Parallelism: 4}
	body := func(part int) string {
		b, _ := json.Marshal(PartitionMessage{Partition: part, Calls: []calls.Call{downtown}})
		return string(b)
	}
	resp, d, err := w.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{
		{MessageId: "1", Body: body(1)}, {MessageId: "2", Body: body(2)}, {MessageId: "bad", Body: "{"},
	}})
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"a": 1, "c": 1}, p.got)
	assert.Equal(t, 2, d.Sent)
	assert.Equal(t, 1, d.Filtered)
	assert.Equal(t, []events.SQSBatchItemFailure{{ItemIdentifier: "bad"}}, resp.BatchItemFailures)
}

func TestWorkerRecordsTheBatchAsMetrics(t *testing.T) {
	m := partitionMembers{1: {{ID: "a", Area: "dn6m"}, {ID: "gone", Area: "dn6m"}, {ID: "broken", Area: "dn6m"}}, 2: {{ID: "c", Area: "dn6m"}}}
	p := newPoster()
	p.gone["gone"], p.fail["broken"] = true, true
	var out bytes.Buffer
	now := time.UnixMilli(1_800_000_000_000)
	w := &Worker{Members: m, Poster: p, Forgetter: &forgetter{}, Parallelism: 4,
		Metrics: &metrics.Emitter{W: &out}, Now: func() time.Time { return now }}
	body := func(part int, sentAt int64) string {
		b, _ := json.Marshal(PartitionMessage{Partition: part, SentAtMs: sentAt, Calls: []calls.Call{downtown}})
		return string(b)
	}
	_, _, err := w.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{
		{MessageId: "1", Body: body(1, now.UnixMilli()-1500)}, {MessageId: "2", Body: body(2, now.UnixMilli()-300)},
	}})
	require.NoError(t, err)
	var rec map[string]any
	require.NoError(t, json.Unmarshal(out.Bytes(), &rec), out.String())
	assert.Equal(t, 2.0, rec[contract.FeedPostsSent])
	assert.Equal(t, 1.0, rec[contract.FeedPostsFailed], "a post that failed for another reason than a vanished connection")
	assert.Equal(t, 1.0, rec[contract.FeedConnectionsGone])
	assert.Equal(t, 1500.0, rec[contract.FeedDeliveryLatency], "from the earliest broadcast of the batch")
	names := []string{}
	for _, d := range rec["_aws"].(map[string]any)["CloudWatchMetrics"].([]any)[0].(map[string]any)["Metrics"].([]any) {
		names = append(names, d.(map[string]any)["Name"].(string))
	}
	assert.ElementsMatch(t, []string{contract.FeedRepeatsSkipped, contract.FeedPostsSent, contract.FeedCallsDelivered, contract.FeedPostsFailed,
		contract.FeedConnectionsGone, contract.FeedDeliveryLatency}, names)
	assert.Equal(t, 2.0, rec[contract.FeedCallsDelivered])
	assert.Equal(t, 0.0, rec[contract.FeedRepeatsSkipped])
}

// memoryLedger is the ledger's contract (Ledger itself is tested on
// DynamoDB Local): a key is claimed once, or again after its lease when
// never marked done.
type memoryLedger struct {
	mu      sync.Mutex
	state   map[string]string
	failFor string
}

func (l *memoryLedger) Claim(_ context.Context, key string) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if key == l.failFor {
		return false, errors.New("throttled")
	}
	if _, ok := l.state[key]; ok {
		return false, nil
	}
	l.state[key] = "posting"
	return true, nil
}

func (l *memoryLedger) Done(_ context.Context, key string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.state[key] = "done"
	return nil
}

// A partition message handed out twice (SQS delivers at least once), or a
// call broadcast again, posts once; a ledger failure sends the message back.
func TestWorkerDeliversARepeatedMessageOnce(t *testing.T) {
	m := partitionMembers{1: {{ID: "a", Area: "dn6m"}, {ID: "b", Area: "dn6m"}}, 2: {{ID: "c", Area: "dn6m"}}}
	p := newPoster()
	call := downtown
	ledger := &memoryLedger{state: map[string]string{}, failFor: DeliveryKey(PartitionMessage{Partition: 2, Calls: []calls.Call{call}})}
	var out bytes.Buffer
	w := &Worker{Members: m, Poster: p, Forgetter: &forgetter{}, Parallelism: 4, Ledger: ledger, Metrics: &metrics.Emitter{W: &out}}
	body := func(part int, sentAt int64) string {
		b, _ := json.Marshal(PartitionMessage{Partition: part, SentAtMs: sentAt, Calls: []calls.Call{call}})
		return string(b)
	}
	resp, _, err := w.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{
		{MessageId: "1", Body: body(1, 100)}, {MessageId: "1-again", Body: body(1, 100)}, {MessageId: "rebroadcast", Body: body(1, 200)},
		{MessageId: "2", Body: body(2, 100)},
	}})
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"a": 1, "b": 1}, p.got, "partition 1 posted once, partition 2 not yet")
	assert.Equal(t, []events.SQSBatchItemFailure{{ItemIdentifier: "2"}}, resp.BatchItemFailures, "the ledger failed: try again later")
	assert.Equal(t, "done", ledger.state[DeliveryKey(PartitionMessage{Partition: 1, Calls: []calls.Call{call}})])
	var rec map[string]any
	require.NoError(t, json.Unmarshal(out.Bytes(), &rec))
	assert.Equal(t, 2.0, rec[contract.FeedRepeatsSkipped])
}

// countingPoster records the most posts in flight at once.
type countingPoster struct {
	mu           sync.Mutex
	now, most, n int
}

func (p *countingPoster) Post(context.Context, string, []byte) error {
	p.mu.Lock()
	p.now++
	p.n++
	p.most = max(p.most, p.now)
	p.mu.Unlock()
	time.Sleep(2 * time.Millisecond)
	p.mu.Lock()
	p.now--
	p.mu.Unlock()
	return nil
}

// An invocation keeps at most Parallelism posts in flight over all the
// partitions of its batch (the capacity model's posts in flight, and the
// bound on connections to the @connections endpoint).
func TestWorkerBoundsPostsInFlightPerInvocation(t *testing.T) {
	m := partitionMembers{}
	var records []events.SQSMessage
	for part := 1; part <= 10; part++ {
		for i := range 20 {
			m[part] = append(m[part], registry.Connection{ID: fmt.Sprintf("%d-%d", part, i), Area: "dn6m"})
		}
		b, _ := json.Marshal(PartitionMessage{Partition: part, Calls: []calls.Call{downtown}})
		records = append(records, events.SQSMessage{MessageId: fmt.Sprint(part), Body: string(b)})
	}
	p := &countingPoster{}
	w := &Worker{Members: m, Poster: p, Forgetter: &forgetter{}, Parallelism: 7}
	_, d, err := w.Handle(context.Background(), events.SQSEvent{Records: records})
	require.NoError(t, err)
	assert.Equal(t, 200, d.Sent)
	assert.Equal(t, 200, p.n)
	assert.LessOrEqual(t, p.most, 7, "shared by the batch's 10 partitions, not 7 each")
	assert.Greater(t, p.most, 1, "posts run in parallel")
}
