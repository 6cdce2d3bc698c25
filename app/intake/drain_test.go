package intake

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/access911/access911-infra/app/calls"
)

// putter keys calls as the table does and can fail chosen ids.
type putter struct {
	mu     sync.Mutex
	stored map[string]calls.Call
	fail   map[string]bool
	puts   int
}

func (p *putter) Put(_ context.Context, c calls.Call) (calls.Call, bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.puts++
	if p.fail[c.ConversationID] {
		return calls.Call{}, false, errors.New("ProvisionedThroughputExceededException")
	}
	if old, ok := p.stored[c.ConversationID]; ok {
		return old, false, nil
	}
	p.stored[c.ConversationID] = c
	return c, true, nil
}

func message(t *testing.T, id string) events.SQSMessage {
	t.Helper()
	b, err := json.Marshal(calls.Call{ConversationID: id, Timestamp: 1764300000, EmergencyType: "fire", Severity: 3})
	require.NoError(t, err)
	return events.SQSMessage{MessageId: "m-" + id, Body: string(b)}
}

func TestDrainReportsOnlyFailedMessages(t *testing.T) {
	tests := []struct {
		name       string
		batch      []events.SQSMessage
		failIDs    map[string]bool
		wantFailed []string
		wantStored int
	}{
		{"all stored", []events.SQSMessage{message(t, "a"), message(t, "b"), message(t, "c")}, nil, nil, 3},
		{"one throttled", []events.SQSMessage{message(t, "a"), message(t, "b")}, map[string]bool{"b": true}, []string{"m-b"}, 1},
		{"poison message", []events.SQSMessage{message(t, "a"), {MessageId: "m-poison", Body: "not json"}}, nil, []string{"m-poison"}, 1},
		{"a call without a key", []events.SQSMessage{{MessageId: "m-empty", Body: `{"location":"x"}`}}, nil, []string{"m-empty"}, 0},
		{"redelivered in one batch", []events.SQSMessage{message(t, "a"), message(t, "a")}, nil, nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &putter{stored: map[string]calls.Call{}, fail: tt.failIDs}
			resp, err := (&Drainer{Store: p, PutAttempts: 1}).Handle(context.Background(), events.SQSEvent{Records: tt.batch})
			require.NoError(t, err, "partial failures are reported, never an error (that would retry the whole batch)")
			var failed []string
			for _, f := range resp.BatchItemFailures {
				failed = append(failed, f.ItemIdentifier)
			}
			assert.ElementsMatch(t, tt.wantFailed, failed)
			assert.Len(t, p.stored, tt.wantStored)
		})
	}
}

func TestRedeliveryStoresOnce(t *testing.T) {
	p := &putter{stored: map[string]calls.Call{}}
	d := &Drainer{Store: p}
	batch := events.SQSEvent{Records: []events.SQSMessage{message(t, "a"), message(t, "b")}}
	for range 3 { // the mapping delivers the same batch again, e.g. after a timeout
		resp, err := d.Handle(context.Background(), batch)
		require.NoError(t, err)
		assert.Empty(t, resp.BatchItemFailures)
	}
	assert.Len(t, p.stored, 2, "at-least-once delivery, exactly one record each")
	assert.Equal(t, 6, p.puts)
}

func TestDecodeRoundTrip(t *testing.T) {
	c := calls.Call{ConversationID: "conv_1", Timestamp: 1764300000, Location: "Main St", Latitude: 36.1, Longitude: -86.7,
		EmergencyType: "medical", Severity: 4, Status: "received", Region: "us-east-1", ReceivedAt: 1764300001, Source: "elevenlabs"}
	b, err := json.Marshal(c)
	require.NoError(t, err)
	got, err := Decode(string(b))
	require.NoError(t, err)
	assert.Equal(t, c, got, "the queued record is the record stored")
}

// flaky fails each call's first tries, as a throttled table does.
type flaky struct {
	putter
	failFirst int
	tries     map[string]int
}

func (f *flaky) Put(ctx context.Context, c calls.Call) (calls.Call, bool, error) {
	f.mu.Lock()
	f.tries[c.ConversationID]++
	n := f.tries[c.ConversationID]
	f.mu.Unlock()
	if n <= f.failFirst {
		return calls.Call{}, false, errors.New("ProvisionedThroughputExceededException")
	}
	return f.putter.Put(ctx, c)
}

func TestDrainRetriesAThrottledPutWithinTheInvocation(t *testing.T) {
	f := &flaky{putter: putter{stored: map[string]calls.Call{}}, failFirst: 3, tries: map[string]int{}}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := (&Drainer{Store: f}).Handle(ctx, events.SQSEvent{Records: []events.SQSMessage{message(t, "a"), message(t, "b")}})
	require.NoError(t, err)
	assert.Empty(t, resp.BatchItemFailures, "three throttled tries, the fourth stores: nothing comes back")
	assert.Equal(t, map[string]int{"a": 4, "b": 4}, f.tries)

	f = &flaky{putter: putter{stored: map[string]calls.Call{}}, failFirst: 100, tries: map[string]int{}}
	resp, err = (&Drainer{Store: f, PutAttempts: 2}).Handle(ctx, events.SQSEvent{Records: []events.SQSMessage{message(t, "a")}})
	require.NoError(t, err)
	assert.Len(t, resp.BatchItemFailures, 1, "out of attempts: the message comes back after the visibility timeout")
	assert.Equal(t, 2, f.tries["a"])
}
