package emulator

import (
	"context"
	"math"
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

// TableFaults makes a DynamoDB client fail the way a struggling table does,
// inside the SDK's retry loop (each attempt may fail, the retryer backs off
// and tries again, as against DynamoDB): a fraction PutThrottleRate of
// PutItem attempts fail with ProvisionedThroughputExceededException, and
// while the table is down every call fails with a 503. For tests and the
// local spike only; never wired into a production path.
type TableFaults struct {
	// Throttled and Unavailable count the attempts failed.
	Throttled, Unavailable atomic.Int64

	putThrottle atomic.Uint64 // math.Float64bits of the rate
	down        atomic.Bool
	mu          sync.Mutex
	rng         *rand.Rand
}

// NewTableFaults is a TableFaults with a deterministic random source.
func NewTableFaults(seed uint64) *TableFaults {
	return &TableFaults{rng: rand.New(rand.NewPCG(seed, 0xdd8))}
}

// SetPutThrottleRate sets the fraction of PutItem attempts throttled.
func (f *TableFaults) SetPutThrottleRate(rate float64) { f.putThrottle.Store(math.Float64bits(rate)) }

// SetDown starts or ends a table outage.
func (f *TableFaults) SetDown(down bool) { f.down.Store(down) }

// Apply is a dynamodb.Options function that installs the faults after the
// retry middleware, so every attempt goes through them.
func (f *TableFaults) Apply(o *dynamodb.Options) {
	o.APIOptions = append(o.APIOptions, func(stack *middleware.Stack) error {
		return stack.Finalize.Add(middleware.FinalizeMiddlewareFunc("inject-table-faults", f.handle), middleware.After)
	})
}

func (f *TableFaults) handle(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
	if f.down.Load() {
		f.Unavailable.Add(1)
		return middleware.FinalizeOutput{}, middleware.Metadata{}, &smithy.GenericAPIError{
			Code: "ServiceUnavailable", Message: "injected table outage", Fault: smithy.FaultServer}
	}
	if middleware.GetOperationName(ctx) == "PutItem" {
		f.mu.Lock()
		roll := f.rng.Float64()
		f.mu.Unlock()
		if roll < math.Float64frombits(f.putThrottle.Load()) {
			f.Throttled.Add(1)
			return middleware.FinalizeOutput{}, middleware.Metadata{}, &smithy.GenericAPIError{
				Code: "ProvisionedThroughputExceededException", Message: "injected throttling", Fault: smithy.FaultClient}
		}
	}
	return next.HandleFinalize(ctx, in)
}
