package handler

import (
	"context"
	"errors"
	"time"

	"github.com/access911/access911-infra/app/calls"
	"github.com/access911/access911-infra/app/metrics"
	"github.com/access911/access911-infra/contract"
)

// Outcome is how a valid call became durable.
type Outcome int

const (
	// Stored: written to the table now (201).
	Stored Outcome = iota
	// Duplicate: the same call was stored before (200).
	Duplicate
	// Queued: on the durable intake queue; the drain function stores it
	// (202).
	Queued
)

// DirectWriteBudget bounds the direct table write before a call is queued
// instead: a throttled or unavailable table must not hold the caller for
// the SDK's whole retry schedule while the queue can take the call at once.
const DirectWriteBudget = 3 * time.Second

// intake makes a validated, stamped call durable, in the table or on the
// queue, and says which. In direct mode the table comes first and the queue
// takes the call when the write fails; in buffered mode the queue comes
// first and the table takes it when the queue fails. An error means the
// call is durable nowhere and must not be acknowledged.
func (h *Handler) intake(ctx context.Context, c calls.Call) (calls.Call, Outcome, error) {
	if h.IntakeMode == contract.IntakeBuffered && h.Queue != nil {
		qerr := h.enqueue(ctx, c)
		if qerr == nil {
			return c, Queued, nil
		}
		h.logger().Error("enqueue failed; writing the call directly", "err", qerr, "conversation_id", c.ConversationID)
		stored, outcome, err := h.put(ctx, c)
		if err != nil {
			err = errors.Join(err, qerr)
		}
		return stored, outcome, err
	}
	stored, outcome, err := h.put(ctx, c)
	if err == nil || h.Queue == nil {
		return stored, outcome, err
	}
	h.logger().Warn("table write failed; queueing the call", "err", err, "conversation_id", c.ConversationID)
	if qerr := h.enqueue(ctx, c); qerr != nil {
		return calls.Call{}, Stored, errors.Join(err, qerr)
	}
	return c, Queued, nil
}

func (h *Handler) put(ctx context.Context, c calls.Call) (calls.Call, Outcome, error) {
	ctx, cancel := context.WithTimeout(ctx, DirectWriteBudget)
	defer cancel()
	stored, created, err := h.Store.Put(ctx, c)
	switch {
	case err != nil:
		return calls.Call{}, Stored, err
	case !created:
		return stored, Duplicate, nil
	}
	h.Metrics.Emit([]metrics.Value{{Name: contract.CallsWritten, Value: 1, Unit: metrics.Count}}, map[string]any{"source": sourceOf(c)})
	return stored, Stored, nil
}

func (h *Handler) enqueue(ctx context.Context, c calls.Call) error {
	if err := h.Queue.Enqueue(ctx, c); err != nil {
		return err
	}
	h.Metrics.Emit([]metrics.Value{{Name: contract.CallsQueued, Value: 1, Unit: metrics.Count}}, map[string]any{"source": sourceOf(c)})
	return nil
}

func sourceOf(c calls.Call) string {
	if c.Source != "" {
		return c.Source
	}
	return "api"
}

// queuedBody is the 202 answer.
type queuedBody struct {
	Status         string `json:"status"`
	ConversationID string `json:"conversation_id"`
	Timestamp      int64  `json:"timestamp"`
}
