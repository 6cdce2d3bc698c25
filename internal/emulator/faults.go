// Throttle injects DynamoDB's throttling into an SDK client, for tests
// only: it is never wired into a production path.
package emulator

import (
	"context"
	"math/rand/v2"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
)

// Throttle makes BatchWriteItem push back the two ways DynamoDB does: a
// fraction FailRate of calls fail with ProvisionedThroughputExceededException,
// and of the rest a fraction PartialRate is only half processed, the other
// half coming back as UnprocessedItems. It sits in the Initialize step,
// before the SDK's retryer, so every injected failure reaches the caller's
// own retry logic.
type Throttle struct {
	FailRate, PartialRate float64
	// Failed and Partial count what was injected.
	Failed, Partial atomic.Int64

	mu  sync.Mutex
	rng *rand.Rand
}

// NewThrottle is a Throttle with a deterministic random source.
func NewThrottle(failRate, partialRate float64, seed uint64) *Throttle {
	return &Throttle{FailRate: failRate, PartialRate: partialRate, rng: rand.New(rand.NewPCG(seed, 0x7e57))}
}

func (th *Throttle) roll() float64 {
	th.mu.Lock()
	defer th.mu.Unlock()
	return th.rng.Float64()
}

// Apply is a dynamodb.Options function that installs the fault injection.
func (th *Throttle) Apply(o *dynamodb.Options) {
	o.APIOptions = append(o.APIOptions, func(stack *middleware.Stack) error {
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("inject-throttling", th.handle), middleware.After)
	})
}

func (th *Throttle) handle(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
	bw, ok := in.Parameters.(*dynamodb.BatchWriteItemInput)
	if !ok {
		return next.HandleInitialize(ctx, in)
	}
	if th.roll() < th.FailRate {
		th.Failed.Add(1)
		return middleware.InitializeOutput{}, middleware.Metadata{}, &smithy.GenericAPIError{
			Code: "ProvisionedThroughputExceededException", Message: "injected by faults.Throttle", Fault: smithy.FaultClient}
	}
	if th.roll() >= th.PartialRate {
		return next.HandleInitialize(ctx, in)
	}
	th.Partial.Add(1)
	sent := map[string][]types.WriteRequest{}
	held := map[string][]types.WriteRequest{}
	for table, reqs := range bw.RequestItems {
		half := (len(reqs) + 1) / 2
		sent[table], held[table] = reqs[:half], reqs[half:]
	}
	trimmed := *bw
	trimmed.RequestItems = sent
	in.Parameters = &trimmed
	out, md, err := next.HandleInitialize(ctx, in)
	if err != nil {
		return out, md, err
	}
	res := out.Result.(*dynamodb.BatchWriteItemOutput)
	if res.UnprocessedItems == nil {
		res.UnprocessedItems = map[string][]types.WriteRequest{}
	}
	for table, reqs := range held {
		if len(reqs) > 0 {
			res.UnprocessedItems[table] = append(res.UnprocessedItems[table], reqs...)
		}
	}
	return out, md, nil
}
