package intake

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/access911/access911-infra/app/calls"
	"github.com/access911/access911-infra/app/metrics"
	"github.com/access911/access911-infra/contract"
)

// Putter is the idempotent store write: created=false for a call already
// stored.
type Putter interface {
	Put(ctx context.Context, c calls.Call) (calls.Call, bool, error)
}

// Drainer is the drain function: it writes each message of an SQS batch
// with the conditional put, in parallel, and reports only the messages that
// failed (ReportBatchItemFailures), so the event source mapping deletes the
// rest and only the failed ones come back, up to maxReceiveCount times
// before the dead-letter queue.
type Drainer struct {
	Store   Putter
	Metrics *metrics.Emitter
	Log     *slog.Logger
	// PutAttempts bounds the tries of each put within one invocation
	// (default DefaultPutAttempts), with exponential backoff and full
	// jitter, as long as the invocation has time left. Under sustained
	// throttling the SDK's retry quota runs out and it stops retrying; the
	// drainer, which no caller waits on, keeps trying so a throttled table
	// does not walk queued calls to the dead-letter queue.
	PutAttempts int
	// Depth, if set, reads the queue's depth; the drainer emits it as the
	// QueueDepth metric (seed 000's key metric) at most every DepthEvery.
	Depth      func(ctx context.Context) (int, error)
	DepthEvery time.Duration

	depthMu   sync.Mutex
	depthSent time.Time
}

// Handle drains one batch.
func (d *Drainer) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	var (
		mu       sync.Mutex
		failures []events.SQSBatchItemFailure
		stored   int
		wg       sync.WaitGroup
	)
	for _, m := range ev.Records {
		wg.Add(1)
		go func(m events.SQSMessage) {
			defer wg.Done()
			created, err := d.drainOne(ctx, m)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				d.logger().Error("drain message", "err", err, "message_id", m.MessageId,
					"receive_count", m.Attributes["ApproximateReceiveCount"])
				failures = append(failures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
			} else if created {
				stored++
			}
		}(m)
	}
	wg.Wait()
	d.Metrics.Emit([]metrics.Value{
		{Name: contract.CallsDrained, Value: float64(stored), Unit: metrics.Count},
		{Name: contract.Errors, Value: float64(len(failures)), Unit: metrics.Count},
	}, map[string]any{"batch": len(ev.Records)})
	d.emitDepth(ctx)
	return events.SQSEventResponse{BatchItemFailures: failures}, nil
}

// emitDepth reports the queue's depth, rate-limited per instance so a busy
// drain does not double its SQS calls.
func (d *Drainer) emitDepth(ctx context.Context) {
	if d.Depth == nil {
		return
	}
	d.depthMu.Lock()
	due := time.Since(d.depthSent) >= d.DepthEvery
	if due {
		d.depthSent = time.Now()
	}
	d.depthMu.Unlock()
	if !due {
		return
	}
	n, err := d.Depth(ctx)
	if err != nil {
		d.logger().Warn("queue depth", "err", err)
		return
	}
	d.Metrics.Emit([]metrics.Value{{Name: contract.QueueDepth, Value: float64(n), Unit: metrics.Count}}, map[string]any{"queue": "intake"})
}

// DefaultPutAttempts is how often the drainer tries one put per invocation.
const DefaultPutAttempts = 6

// backoff bounds: 50 ms doubling to 2 s, full jitter.
const (
	backoffBase = 50 * time.Millisecond
	backoffMax  = 2 * time.Second
)

func (d *Drainer) drainOne(ctx context.Context, m events.SQSMessage) (bool, error) {
	c, err := Decode(m.Body)
	if err != nil {
		return false, err
	}
	attempts := d.PutAttempts
	if attempts == 0 {
		attempts = DefaultPutAttempts
	}
	for attempt := 1; ; attempt++ {
		_, created, err := d.Store.Put(ctx, c)
		if err == nil || attempt >= attempts {
			return created, err
		}
		wait := time.Duration(rand.Int64N(int64(min(backoffBase<<attempt, backoffMax))))
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < wait+backoffMax {
			return false, err // no time for another try: the message comes back
		}
		select {
		case <-ctx.Done():
			return false, err
		case <-time.After(wait):
		}
	}
}

func (d *Drainer) logger() *slog.Logger {
	if d.Log != nil {
		return d.Log
	}
	return slog.Default()
}
