package local

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/access911/access911-infra/contract"
	"github.com/access911/access911-infra/internal/emulator"
)

// Spike faults.
const (
	FaultThrottle = "throttle"
	FaultOutage   = "outage"
)

// SpikeOptions shapes a local spike.
type SpikeOptions struct {
	// Calls are sent at Rate calls/s by Workers concurrent callers.
	Calls   int
	Rate    float64
	Workers int
	// Fault is FaultThrottle (ThrottleRate of the table's write attempts
	// refused, for the whole run) or FaultOutage (the table down for
	// Outage from the first call).
	Fault        string
	ThrottleRate float64
	Outage       time.Duration
	// DrainTimeout bounds the wait for the queue to empty.
	DrainTimeout time.Duration
	Progress     io.Writer
}

// SpikeResult is what the spike found, call by call.
type SpikeResult struct {
	Sent, Accepted, Stored, Duplicates, Lost int
	// Statuses counts the answers by HTTP status.
	Statuses map[int]int
	Drained  time.Duration
	// Throttled and Unavailable count the injected failures.
	Throttled, Unavailable int64
	DeadLetters            int
}

// Line is the spike's last line.
func (r SpikeResult) Line() string {
	return fmt.Sprintf("spike: sent %d, accepted %d, stored %d, duplicates %d, lost %d, drained in %.1f s",
		r.Sent, r.Accepted, r.Stored, r.Duplicates, r.Lost, r.Drained.Seconds())
}

// RunSpike sends a spike of distinct calls to a local server with the
// durable intake while faults hit the table, waits for the queue to drain,
// then reads every accepted call back: stored once, or lost.
func RunSpike(ctx context.Context, s *Server, faults *emulator.TableFaults, o SpikeOptions) (SpikeResult, error) {
	if s.Intake == nil {
		return SpikeResult{}, fmt.Errorf("the spike needs the local durable intake")
	}
	res := SpikeResult{Statuses: map[int]int{}}
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	switch o.Fault {
	case FaultThrottle:
		faults.SetPutThrottleRate(o.ThrottleRate)
		defer faults.SetPutThrottleRate(0)
	case FaultOutage:
		faults.SetDown(true)
		timer := time.AfterFunc(o.Outage, func() { faults.SetDown(false) })
		defer func() { timer.Stop(); faults.SetDown(false) }()
	default:
		return res, fmt.Errorf("unknown fault %q (%s or %s)", o.Fault, FaultThrottle, FaultOutage)
	}
	accepted := sendSpike(ctx, s.URL, run, o, &res)
	progress(o.Progress, "sent %d calls: %v; waiting for the intake queue to drain ...", res.Sent, res.Statuses)
	start := time.Now()
	if err := waitDrained(ctx, s, o.DrainTimeout); err != nil {
		return res, err
	}
	res.Drained = time.Since(start)
	res.Throttled, res.Unavailable = faults.Throttled.Load(), faults.Unavailable.Load()
	if _, _, dead, err := s.Intake.Depths(ctx); err == nil {
		res.DeadLetters = dead
	}
	return res, countStored(ctx, s, accepted, &res)
}

// sendSpike posts o.Calls distinct calls at o.Rate and returns the ids of
// those answered 201 or 202 (or 200: already stored).
func sendSpike(ctx context.Context, base, run string, o SpikeOptions, res *SpikeResult) []string {
	client := &http.Client{Timeout: 35 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: o.Workers}}
	jobs := make(chan int)
	var mu sync.Mutex
	var accepted []string
	var wg sync.WaitGroup
	for range o.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				id := "spike-" + run + "-" + strconv.Itoa(i)
				status := postSpikeCall(ctx, client, base, id, i)
				mu.Lock()
				res.Sent++
				res.Statuses[status]++
				if status == http.StatusCreated || status == http.StatusAccepted || status == http.StatusOK {
					res.Accepted++
					accepted = append(accepted, id)
				}
				mu.Unlock()
			}
		}()
	}
	tick := time.NewTicker(time.Duration(float64(time.Second) / o.Rate))
	defer tick.Stop()
	for i := 0; i < o.Calls && ctx.Err() == nil; i++ {
		jobs <- i
		<-tick.C
	}
	close(jobs)
	wg.Wait()
	return accepted
}

func postSpikeCall(ctx context.Context, client *http.Client, base, id string, i int) int {
	body, _ := json.Marshal(map[string]any{"conversation_id": id, "timestamp": 1764300000 + int64(i%3600),
		"location": "I-40 at mile 210, Nashville", "latitude": 36.16, "longitude": -86.78, "emergency_type": "tornado",
		"severity": 1 + i%5, "call_duration_secs": 30 + i%300})
	resp, err := post(ctx, client, base+contract.CreateCall.Path, body)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// waitDrained waits until the queue holds nothing visible or in flight.
func waitDrained(ctx context.Context, s *Server, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		queued, inFlight, _, err := s.Intake.Depths(ctx)
		if err == nil && queued == 0 && inFlight == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the intake queue did not drain within %s (%d queued, %d in flight)", timeout, queued, inFlight)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// countStored reads each accepted call's records back: one is stored, none
// is lost, more are duplicates.
func countStored(ctx context.Context, s *Server, ids []string, res *SpikeResult) error {
	db := s.Store.DB.(*dynamodb.Client)
	for _, id := range ids {
		out, err := db.Query(ctx, &dynamodb.QueryInput{
			TableName: aws.String(s.Table), KeyConditionExpression: aws.String("#pk = :id"), Select: types.SelectCount,
			ExpressionAttributeNames:  map[string]string{"#pk": contract.TableHashKey},
			ExpressionAttributeValues: map[string]types.AttributeValue{":id": &types.AttributeValueMemberS{Value: id}},
			ConsistentRead:            aws.Bool(true),
		})
		if err != nil {
			return fmt.Errorf("read back %s: %w", id, err)
		}
		switch n := int(out.Count); {
		case n == 0:
			res.Lost++
		default:
			res.Stored++
			res.Duplicates += n - 1
		}
	}
	return nil
}

func progress(w io.Writer, format string, args ...any) {
	if w != nil {
		fmt.Fprintf(w, format+"\n", args...)
	}
}
