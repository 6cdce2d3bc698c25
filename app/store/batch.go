package store

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/access911/access911-infra/app/calls"
)

const (
	// BatchSize is DynamoDB's BatchWriteItem limit of 25 put requests.
	BatchSize = 25
	// BatchParallelism bounds concurrent BatchWriteItem calls.
	BatchParallelism = 8
	// batchMaxAttempts bounds how often one chunk is (re)sent before its
	// remaining items count as failed.
	batchMaxAttempts = 12
	// backoffBase and backoffCap shape the exponential backoff with full
	// jitter between retries of unprocessed items.
	backoffBase = 25 * time.Millisecond
	backoffCap  = 2 * time.Second
)

// BatchResult reports a batch write.
type BatchResult struct {
	Written    int           `json:"written"`
	Retried    int           `json:"retried"` // item re-sends (unprocessed or throttled)
	Failed     int           `json:"failed"`
	Batches    int           `json:"batches"`
	Duration   time.Duration `json:"-"`
	DurationMs int64         `json:"duration_ms"`
}

// BatchPut writes calls with BatchWriteItem in chunks of 25, at most
// BatchParallelism chunks at a time. UnprocessedItems and throttling errors
// are retried with exponential backoff and full jitter, so under throttling
// every call is still written exactly once (a put of the same key
// overwrites). Items still unwritten after batchMaxAttempts, or when ctx
// ends, are reported as failed.
func (s *Store) BatchPut(ctx context.Context, cs []calls.Call) (BatchResult, error) {
	start := time.Now()
	var chunks [][]types.WriteRequest
	for i := 0; i < len(cs); i += BatchSize {
		end := min(i+BatchSize, len(cs))
		reqs := make([]types.WriteRequest, 0, end-i)
		for _, c := range cs[i:end] {
			item, err := attributevalue.MarshalMap(c)
			if err != nil {
				return BatchResult{}, fmt.Errorf("marshal call %q: %w", c.ConversationID, err)
			}
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
		}
		chunks = append(chunks, reqs)
	}

	var (
		mu       sync.Mutex
		res      = BatchResult{Batches: len(chunks)}
		firstErr error
		wg       sync.WaitGroup
		sem      = make(chan struct{}, BatchParallelism)
	)
	for _, chunk := range chunks {
		wg.Add(1)
		sem <- struct{}{}
		go func(pending []types.WriteRequest) {
			defer wg.Done()
			defer func() { <-sem }()
			written, retried, err := s.writeChunk(ctx, pending)
			mu.Lock()
			defer mu.Unlock()
			res.Written += written
			res.Retried += retried
			res.Failed += len(pending) - written
			if err != nil && firstErr == nil {
				firstErr = err
			}
		}(chunk)
	}
	wg.Wait()
	res.Duration = time.Since(start)
	res.DurationMs = res.Duration.Milliseconds()
	if res.Failed > 0 {
		return res, fmt.Errorf("%d of %d calls not written: %w", res.Failed, len(cs), firstErr)
	}
	return res, nil
}

// writeChunk sends one chunk until every item is processed or attempts run
// out; it returns how many items were written and re-sent.
func (s *Store) writeChunk(ctx context.Context, pending []types.WriteRequest) (written, retried int, err error) {
	total := len(pending)
	for attempt := 0; len(pending) > 0; attempt++ {
		if attempt > 0 {
			retried += len(pending)
			if err := sleep(ctx, backoff(attempt)); err != nil {
				return total - len(pending), retried, err
			}
		}
		if attempt >= batchMaxAttempts {
			return total - len(pending), retried, fmt.Errorf("unprocessed after %d attempts: %w", batchMaxAttempts, errLastAttempt(err))
		}
		out, callErr := s.DB.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{
			RequestItems: map[string][]types.WriteRequest{s.Table: pending},
		})
		if callErr != nil {
			if retryable(callErr) && ctx.Err() == nil {
				err = callErr
				continue // the whole chunk again
			}
			return total - len(pending), retried, fmt.Errorf("batch write: %w", callErr)
		}
		pending = out.UnprocessedItems[s.Table]
		err = nil
	}
	return total, retried, nil
}

func errLastAttempt(err error) error {
	if err == nil {
		return errors.New("DynamoDB kept returning unprocessed items")
	}
	return err
}

// retryable reports throttling and transient server errors; the SDK's own
// retryer has already spent its attempts on these.
func retryable(err error) bool {
	var api smithy.APIError
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded",
			"InternalServerError", "ServiceUnavailable":
			return true
		}
		return api.ErrorFault() == smithy.FaultServer
	}
	var rerr interface{ Temporary() bool }
	return errors.As(err, &rerr) && rerr.Temporary()
}

// backoff is exponential with full jitter: uniform in [0, min(cap, base*2^n)).
func backoff(attempt int) time.Duration {
	ceiling := backoffBase << min(attempt, 16)
	if ceiling > backoffCap || ceiling <= 0 {
		ceiling = backoffCap
	}
	return time.Duration(rand.Int64N(int64(ceiling)))
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
