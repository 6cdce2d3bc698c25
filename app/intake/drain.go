package intake

import (
	"context"
	"log/slog"
	"sync"

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
	return events.SQSEventResponse{BatchItemFailures: failures}, nil
}

func (d *Drainer) drainOne(ctx context.Context, m events.SQSMessage) (bool, error) {
	c, err := Decode(m.Body)
	if err != nil {
		return false, err
	}
	_, created, err := d.Store.Put(ctx, c)
	return created, err
}

func (d *Drainer) logger() *slog.Logger {
	if d.Log != nil {
		return d.Log
	}
	return slog.Default()
}
