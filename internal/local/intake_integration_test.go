//go:build integration

package local

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/access911/access911-infra/app/calls"
	"github.com/access911/access911-infra/app/intake"
	"github.com/access911/access911-infra/artifact"
	"github.com/access911/access911-infra/internal/emulator"
	"github.com/access911/access911-infra/internal/replay"
)

// startIntakeServer is a local server with the durable intake on the shared
// emulators, the table behind faults.
func startIntakeServer(t *testing.T, io IntakeOptions) (*Server, *emulator.TableFaults) {
	t.Helper()
	ddb, mt := ddbLocal.Require(t), moto.Require(t)
	root, err := artifact.FindUp(".", "go.mod")
	require.NoError(t, err)
	faults := emulator.NewTableFaults(7)
	io.SQSEndpoint = mt.URL
	s, err := Start(context.Background(), Options{ProjectDir: root, Stack: "us-east-1", DynamoDBEndpoint: ddb.URL,
		Intake: &io, Faults: faults})
	require.NoError(t, err)
	t.Cleanup(s.Close)
	return s, faults
}

func TestSpikeWithHalfTheWritesThrottledStoresEveryCallOnce(t *testing.T) {
	s, faults := startIntakeServer(t, IntakeOptions{})
	res, err := RunSpike(context.Background(), s, faults, SpikeOptions{Calls: 300, Rate: 300, Workers: 32,
		Fault: FaultThrottle, ThrottleRate: 0.5, DrainTimeout: 3 * time.Minute})
	require.NoError(t, err)
	t.Log(res.Line(), res.Statuses)
	assert.Equal(t, 300, res.Sent)
	assert.Equal(t, 300, res.Accepted, "every valid call answered 201 or 202")
	assert.Greater(t, res.Statuses[http.StatusAccepted], 0, "some calls went through the queue")
	assert.Equal(t, 300, res.Stored)
	assert.Zero(t, res.Duplicates)
	assert.Zero(t, res.Lost)
	assert.Zero(t, res.DeadLetters)
	assert.Greater(t, res.Throttled, int64(0))
}

func TestTableOutageIsAnsweredWith202sThenEveryCallIsStored(t *testing.T) {
	// A 1 s drain timeout: redelivery after 6 s, so 5 receives outlast the
	// 10 s outage (in AWS: 30 s and 180 s, 15 minutes).
	s, faults := startIntakeServer(t, IntakeOptions{DrainTimeout: time.Second})
	res, err := RunSpike(context.Background(), s, faults, SpikeOptions{Calls: 100, Rate: 50, Workers: 8,
		Fault: FaultOutage, Outage: 10 * time.Second, DrainTimeout: 3 * time.Minute})
	require.NoError(t, err)
	t.Log(res.Line(), res.Statuses)
	assert.Equal(t, map[int]int{http.StatusAccepted: 100}, res.Statuses, "the table is down for the whole send: every call queued")
	assert.Equal(t, 100, res.Stored)
	assert.Zero(t, res.Lost)
	assert.Zero(t, res.Duplicates)
	assert.Greater(t, res.Unavailable, int64(0))
}

func enqueue(t *testing.T, s *Server, ids ...string) {
	t.Helper()
	for _, id := range ids {
		require.NoError(t, s.Intake.Queue.Enqueue(context.Background(), calls.Call{ConversationID: id, Timestamp: 1764300000,
			Location: "Main St", Latitude: 36.1, Longitude: -86.7, EmergencyType: "fire", Severity: 3, Status: "received", Region: "us-east-1"}))
	}
}

// A drainer that dies after storing a batch but before the mapping deletes
// it: the batch comes back after the visibility timeout and is stored once.
func TestDrainerKilledMidBatchStillStoresOnce(t *testing.T) {
	s, _ := startIntakeServer(t, IntakeOptions{Concurrency: -1, VisibilityTimeout: 2 * time.Second})
	ids := []string{"kill-1", "kill-2", "kill-3", "kill-4", "kill-5"}
	enqueue(t, s, ids...)
	ctx := context.Background()
	var stored sync.WaitGroup
	stored.Add(1)
	var once sync.Once
	killed := s.Intake.NewMapping(func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		_, _ = s.Intake.Drainer.Handle(ctx, ev) // stores the batch...
		once.Do(stored.Done)
		<-ctx.Done() // ...and dies before answering: nothing is deleted
		return events.SQSEventResponse{}, ctx.Err()
	}, 1, s.Config, 2*time.Second)
	kctx, kill := context.WithCancel(ctx)
	killed.Start(kctx)
	stored.Wait()
	kill()

	healthy := s.Intake.NewMapping(s.Intake.Drainer.Handle, 1, s.Config, 2*time.Second)
	hctx, stop := context.WithCancel(ctx)
	defer stop()
	healthy.Start(hctx)
	require.NoError(t, waitDrained(ctx, s, time.Minute))
	for _, id := range ids {
		assert.Equal(t, 1, countOf(t, s, id), id)
	}
}

func countOf(t *testing.T, s *Server, id string) int {
	t.Helper()
	res := SpikeResult{}
	require.NoError(t, countStored(context.Background(), s, []string{id}, &res))
	return res.Stored + res.Duplicates
}

// failing makes the drain fail one conversation, as a bug in the drain
// would: its message dead-letters; once fixed, replay stores it once.
type failing struct {
	intake.Putter
	mu  sync.Mutex
	bad map[string]bool
}

func (f *failing) Put(ctx context.Context, c calls.Call) (calls.Call, bool, error) {
	f.mu.Lock()
	bad := f.bad[c.ConversationID]
	f.mu.Unlock()
	if bad {
		return calls.Call{}, false, errors.New("a bug in the drain")
	}
	return f.Putter.Put(ctx, c)
}

func TestPoisonMessageDeadLettersAndReplayStoresItOnce(t *testing.T) {
	s, _ := startIntakeServer(t, IntakeOptions{VisibilityTimeout: time.Second})
	ctx := context.Background()
	f := &failing{Putter: s.Store, bad: map[string]bool{"poison-1": true}}
	s.Intake.Drainer.Store, s.Intake.Drainer.PutAttempts = f, 1
	enqueue(t, s, "poison-1", "fine-1")

	require.Eventually(t, func() bool {
		_, _, dead, err := s.Intake.Depths(ctx)
		return err == nil && dead == 1
	}, time.Minute, 250*time.Millisecond, "after maxReceiveCount (5) deliveries the call is in the dead-letter queue")
	assert.Equal(t, 0, countOf(t, s, "poison-1"))
	assert.Equal(t, 1, countOf(t, s, "fine-1"))

	dry, err := replay.Run(ctx, replay.Options{Client: s.Intake.Client, DLQURL: s.Intake.DLQURL, QueueURL: s.Intake.QueueURL})
	require.NoError(t, err)
	assert.Equal(t, []string{"poison-1"}, dry.Calls, "the dry run lists it")
	assert.Zero(t, dry.Moved, "and moves nothing")

	f.mu.Lock()
	f.bad = nil // the fix
	f.mu.Unlock()
	moved, err := replay.Run(ctx, replay.Options{Client: s.Intake.Client, DLQURL: s.Intake.DLQURL, QueueURL: s.Intake.QueueURL, Apply: true})
	require.NoError(t, err)
	assert.Equal(t, 1, moved.Moved)
	again, err := replay.Run(ctx, replay.Options{Client: s.Intake.Client, DLQURL: s.Intake.DLQURL, QueueURL: s.Intake.QueueURL, Apply: true})
	require.NoError(t, err)
	assert.Zero(t, again.Moved, "a second replay finds nothing to move")
	require.NoError(t, waitDrained(ctx, s, time.Minute))
	assert.Equal(t, 1, countOf(t, s, "poison-1"), "stored once after the fix")
}
