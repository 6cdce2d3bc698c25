package feed

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/access911/access911-infra/app/calls"
)

// Seed 002's fan-out: a new call becomes one message per partition, spread
// over several queues; a query worker loads one partition's connections;
// post workers send the call to each connection that wants its type.

// DefaultQueues: seed 002, "spread the load into many queues (I used 10)".
const DefaultQueues = 10

// PartitionMessage is what the swarm queues: one call for one partition.
type PartitionMessage struct {
	Partition int        `json:"partition"`
	Call      calls.Call `json:"call"`
	// SentAtMs is when the swarm broadcast the call (Unix milliseconds).
	SentAtMs int64 `json:"sent_at_ms,omitempty"`
}

// CallMessage is what a dispatcher receives for each new call.
type CallMessage struct {
	Type     string     `json:"type"` // "call"
	Call     calls.Call `json:"call"`
	SentAtMs int64      `json:"sent_at_ms,omitempty"`
}

// Fanout is the swarm's output: for each queue, the messages it gets.
// Partition p goes to queue (p-1) mod queues, so every queue carries the
// same share and a partition always uses the same queue.
func Fanout(c calls.Call, partitions, queues int) [][]PartitionMessage {
	out := make([][]PartitionMessage, queues)
	for p := 1; p <= partitions; p++ {
		q := (p - 1) % queues
		out[q] = append(out[q], PartitionMessage{Partition: p, Call: c})
	}
	return out
}

// Members reads one partition's connections.
type Members interface {
	Members(ctx context.Context, partition int) ([]Connection, error)
}

// Poster sends data to one WebSocket connection (API Gateway's
// PostToConnection); ErrGone means the connection no longer exists (410).
type Poster interface {
	Post(ctx context.Context, connectionID string, data []byte) error
}

// Forgetter removes a connection that is gone (and uncounts it).
type Forgetter interface {
	Disconnect(ctx context.Context, id string) error
}

// Delivery is what one partition message came to.
type Delivery struct {
	Sent, Filtered, Gone int
	Failed               []string // connection ids whose post failed otherwise
}

// Deliver is the query and post workers for one partition message: load
// the partition's connections, post the call to each that subscribed to its
// type (or to all types), and forget those that are gone. Posts run in
// parallel, at most parallelism at a time.
func Deliver(ctx context.Context, m Members, p Poster, f Forgetter, msg PartitionMessage, parallelism int) (Delivery, error) {
	return deliver(ctx, m, p, f, msg, make(chan struct{}, max(1, parallelism)))
}

// deliver is Deliver with its posts bounded by inFlight, which a worker
// shares between the partitions of a batch.
func deliver(ctx context.Context, m Members, p Poster, f Forgetter, msg PartitionMessage, inFlight chan struct{}) (Delivery, error) {
	conns, err := m.Members(ctx, msg.Partition)
	if err != nil {
		return Delivery{}, err
	}
	data, err := json.Marshal(CallMessage{Type: "call", Call: msg.Call, SentAtMs: msg.SentAtMs})
	if err != nil {
		return Delivery{}, fmt.Errorf("encode call %q: %w", msg.Call.ConversationID, err)
	}
	var (
		d  Delivery
		mu sync.Mutex
		wg sync.WaitGroup
	)
	for _, c := range conns {
		if len(c.EmergencyTypes) > 0 && !slices.Contains(c.EmergencyTypes, msg.Call.EmergencyType) {
			d.Filtered++
			continue
		}
		wg.Add(1)
		inFlight <- struct{}{}
		go func(c Connection) {
			defer wg.Done()
			defer func() { <-inFlight }()
			err := p.Post(ctx, c.ID, data)
			if errors.Is(err, ErrGone) {
				if ferr := f.Disconnect(ctx, c.ID); ferr != nil && !errors.Is(ferr, ErrGone) {
					err = ferr
				}
			}
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				d.Sent++
			case errors.Is(err, ErrGone):
				d.Gone++
			default:
				d.Failed = append(d.Failed, c.ID)
			}
		}(c)
	}
	wg.Wait()
	return d, nil
}
