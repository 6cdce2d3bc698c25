package feed

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/access911/access911-infra/app/feed/registry"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/access911/access911-infra/app/calls"
	"github.com/access911/access911-infra/app/metrics"
	"github.com/access911/access911-infra/contract"
)

// largestCall is a call at the contract's maxima, every character of its
// free text one that JSON escapes to six bytes ("<" becomes \u003c).
func largestCall(i int) calls.Call {
	c := downtown
	c.ConversationID = fmt.Sprintf("%0128d", i)
	c.Location = strings.Repeat("<", contract.CallSchema.MaxLength("location"))
	c.Transcript = strings.Repeat("<", contract.CallSchema.MaxLength("transcript"))
	c.Status, c.Region, c.ReceivedAt = contract.StatusNotConnected, "us-east-1", 4_102_444_800
	return c
}

// Nothing the contract accepts makes a partition message SQS refuses or a
// post API Gateway refuses: the largest call fits a message, a message fits
// a batch alone, and a call's frame fits a post.
func TestTheLargestCallFitsAMessageABatchAndAPost(t *testing.T) {
	c := largestCall(1)
	msg, err := json.Marshal(PartitionMessage{Partition: 99999, Calls: []calls.Call{c}, Supervisors: true, SentAtMs: 1 << 60})
	require.NoError(t, err)
	assert.Less(t, len(msg), contract.FeedMaxMessageBytes, "one call per message at most")
	assert.Less(t, contract.FeedMaxMessageBytes+1024, contract.SQSBatchMaxBytes, "any message fits a batch alone")
	for _, frame := range callFrames([]calls.Call{c}, 1<<60) {
		assert.Less(t, len(frame), contract.FeedMaxPostBytes)
	}

	// A provider's delivery can carry more than the contract (an item is up
	// to 400 KB): such a call travels without its free text, never alone
	// over the message size.
	huge := c
	huge.Transcript, huge.Summary = strings.Repeat("x", 300_000), strings.Repeat("y", 60_000)
	out := chunks([]calls.Call{huge, c}, contract.FeedMaxMessageBytes)
	require.Len(t, out, 1)
	assert.Empty(t, out[0][0].Transcript)
	assert.Equal(t, huge.ConversationID, out[0][0].ConversationID)
	assert.Equal(t, c.Transcript, out[0][1].Transcript, "a call that fits keeps its transcript")
}

func TestPackBatchesWithinCountAndSize(t *testing.T) {
	big, mid, small := make([]byte, contract.FeedMaxMessageBytes), make([]byte, 30*1024), make([]byte, 100)
	for _, tc := range []struct {
		name    string
		bodies  [][]byte
		batches []int // messages per batch
	}{
		{"ten small share a batch", repeat(small, 25), []int{10, 10, 5}},
		{"a large one leaves room for small ones only", [][]byte{small, big, mid, mid}, []int{2, 2}},
		{"two large never share", repeat(big, 3), []int{1, 1, 1}},
		{"just at the size", [][]byte{make([]byte, contract.SQSBatchMaxBytes-100), small, small}, []int{2, 1}},
		{"nothing", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []int
			for _, b := range packBatches(tc.bodies) {
				got = append(got, len(b))
				assert.LessOrEqual(t, batchBytes(b), contract.SQSBatchMaxBytes)
			}
			assert.Equal(t, tc.batches, got)
		})
	}
}

func repeat(b []byte, n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = b
	}
	return out
}

// A burst of calls at the contract's maxima into one area: the swarm's
// batches are all accepted (the recorder refuses what SQS refuses), and
// every dispatcher of the area gets every call exactly once, in posts
// API Gateway accepts. 300 is the burst that stopped the feed; 1,900 is the
// capacity model's worst stream batch (the spike's calls in one second).
func TestABurstOfLargestCallsReachesEveryDispatcherOnce(t *testing.T) {
	for _, n := range []int{300, 1900} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			batch := make([]calls.Call, n)
			for i := range batch {
				batch[i] = largestCall(i)
			}
			s := &sent{byQueue: map[string][]PartitionMessage{}}
			queues := []string{"q0", "q1", "q2", "q3", "q4", "q5", "q6", "q7", "q8", "q9"}
			sw := &Swarm{SQS: s, Queues: queues, Partitions: 100}
			require.NoError(t, sw.Broadcast(context.Background(), batch))

			area := registry.AreaOf(batch[0])
			members := partitionMembers{}
			var dispatchers []string
			for _, p := range registry.AreaPartitions(area, 100, registry.DefaultPartitionsPerArea) {
				for d := range 2 {
					id := fmt.Sprintf("d-%d-%d", p, d)
					members[p] = append(members[p], registry.Connection{ID: id, Area: area})
					dispatchers = append(dispatchers, id)
				}
			}
			p := newPoster()
			w := &Worker{Members: members, Poster: p, Forgetter: &forgetter{}, Parallelism: 8}
			for _, q := range queues {
				deliverAll(t, w, s.byQueue[q])
			}
			for _, id := range dispatchers {
				got := map[string]int{}
				for _, cid := range p.callsOf(t, id) {
					got[cid]++
				}
				require.Len(t, got, n, id)
				for cid, times := range got {
					require.Equal(t, 1, times, "%s got %s", id, cid)
				}
				for _, f := range p.frames[id] {
					assert.Less(t, len(f), contract.FeedMaxPostBytes)
				}
			}
		})
	}
}

// deliverAll hands a queue's messages to the worker as SQS does, ten a batch.
func deliverAll(t *testing.T, w *Worker, msgs []PartitionMessage) {
	t.Helper()
	for start := 0; start < len(msgs); start += 10 {
		var ev events.SQSEvent
		for i, m := range msgs[start:min(start+10, len(msgs))] {
			b, err := json.Marshal(m)
			require.NoError(t, err)
			ev.Records = append(ev.Records, events.SQSMessage{MessageId: fmt.Sprint(start + i), Body: string(b)})
		}
		resp, _, err := w.Handle(context.Background(), ev)
		require.NoError(t, err)
		require.Empty(t, resp.BatchItemFailures)
	}
}

// After an outage, the calls a recovered region missed arrive through
// replication as new stream records. A call received more than
// contract.FeedLiveSeconds ago is backlog: its area's dispatchers are not
// pushed it as new (they read it with GET /calls), and the supervisors'
// summary counts it as backlog.
func TestReplicatedBacklogGoesToSupervisorsOnly(t *testing.T) {
	now := time.UnixMilli(1_800_000_000_000)
	live, late := downtown, downtown
	live.ConversationID, live.ReceivedAt = "live", now.Add(-2*time.Second).Unix()
	late.ConversationID, late.ReceivedAt = "late", now.Add(-time.Hour).Unix()
	edge := downtown
	edge.ConversationID, edge.ReceivedAt = "edge", now.Add(-contract.FeedLiveSeconds*time.Second).Unix()
	s := &sent{byQueue: map[string][]PartitionMessage{}}
	sw := &Swarm{SQS: s, Queues: []string{"q0"}, Partitions: 8, Now: func() time.Time { return now }}
	require.NoError(t, sw.Broadcast(context.Background(), []calls.Call{late, live, edge}))

	area := registry.AreaOf(downtown)
	members := partitionMembers{}
	for _, p := range registry.AreaPartitions(area, 8, registry.DefaultPartitionsPerArea) {
		members[p] = append(members[p], registry.Connection{ID: fmt.Sprint("d-", p), Area: area})
	}
	for _, p := range registry.SupervisorPartitions(8, registry.DefaultPartitionsPerArea) {
		members[p] = append(members[p], registry.Connection{ID: fmt.Sprint("s-", p)})
	}
	p := newPoster()
	deliverAll(t, &Worker{Members: members, Poster: p, Forgetter: &forgetter{}, Parallelism: 4}, s.byQueue["q0"])
	dispatchers, supervisors := 0, 0
	for id, frames := range p.frames {
		if strings.HasPrefix(id, "d-") {
			dispatchers++
			assert.Equal(t, []string{"live", "edge"}, p.callsOf(t, id), "%s: the live calls only", id)
			continue
		}
		supervisors++
		require.Len(t, frames, 1)
		var sum SummaryFrame
		require.NoError(t, json.Unmarshal(frames[0], &sum))
		assert.Equal(t, 1, sum.Backlog, "%s", id)
		assert.Equal(t, 3, sum.Areas[0].NewCalls, "the area's line counts the backlog too")
		var newest []string
		for _, c := range sum.Newest {
			newest = append(newest, c.ConversationID)
		}
		assert.ElementsMatch(t, []string{"live", "edge"}, newest)
	}
	assert.Positive(t, dispatchers)
	assert.Positive(t, supervisors)
}

// The swarm measures replication as the receiving region sees it: how late
// the calls received in other regions reach this region's stream.
func TestSwarmEmitsTheReplicatedCallsLag(t *testing.T) {
	now := time.UnixMilli(1_800_000_000_000)
	var out bytes.Buffer
	sw := &Swarm{Region: "us-west-2", Metrics: &metrics.Emitter{W: &out}, Now: func() time.Time { return now }}
	own, east, eu := downtown, downtown, downtown
	own.Region, own.ReceivedAt = "us-west-2", now.Add(-time.Hour).Unix() // its own: no lag to measure
	east.Region, east.ReceivedAt = "us-east-1", now.Add(-2*time.Second).Unix()
	eu.Region, eu.ReceivedAt = "eu-west-1", now.Add(-90*time.Second).Unix()
	sw.emitReplicationLag([]calls.Call{own, east, eu})
	var rec map[string]any
	require.NoError(t, json.Unmarshal(out.Bytes(), &rec), out.String())
	assert.Equal(t, 90_000.0, rec[contract.ReplicatedCallLag], "the latest of the batch")

	out.Reset()
	sw.emitReplicationLag([]calls.Call{own})
	assert.Empty(t, out.String(), "no replicated call, no data point")
}
