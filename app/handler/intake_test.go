package handler

import (
	"context"
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/access911/access911-infra/app/calls"
	"github.com/access911/access911-infra/contract"
)

// memQueue stands for the intake queue (handler.Queue is our interface; the
// SQS queue itself is tested on moto).
type memQueue struct {
	mu    sync.Mutex
	calls []calls.Call
	fail  bool
}

func (q *memQueue) Enqueue(_ context.Context, c calls.Call) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.fail {
		return assert.AnError
	}
	q.calls = append(q.calls, c)
	return nil
}

func TestIntakeModes(t *testing.T) {
	tests := []struct {
		mode                 string
		tableDown, queueDown bool
		status               int
		stored, queued       int
	}{
		{contract.IntakeDirect, false, false, http.StatusCreated, 1, 0},
		{contract.IntakeDirect, true, false, http.StatusAccepted, 0, 1},
		{contract.IntakeDirect, false, true, http.StatusCreated, 1, 0},
		{contract.IntakeDirect, true, true, http.StatusServiceUnavailable, 0, 0},
		{contract.IntakeBuffered, false, false, http.StatusAccepted, 0, 1},
		{contract.IntakeBuffered, true, false, http.StatusAccepted, 0, 1},
		{contract.IntakeBuffered, false, true, http.StatusCreated, 1, 0},
		{contract.IntakeBuffered, true, true, http.StatusServiceUnavailable, 0, 0},
		{"", true, false, http.StatusAccepted, 0, 1}, // the default is direct
	}
	for _, tt := range tests {
		name := tt.mode + map[bool]string{true: " table down", false: ""}[tt.tableDown] + map[bool]string{true: " queue down", false: ""}[tt.queueDown]
		t.Run(name, func(t *testing.T) {
			h, st := newTestHandler()
			q := &memQueue{fail: tt.queueDown}
			h.Queue, h.IntakeMode, st.failPut = q, tt.mode, tt.tableDown
			rec := do(t, h.Routes(), "POST", "/calls", goodCall)
			require.Equal(t, tt.status, rec.Code, rec.Body.String())
			assert.Len(t, st.items, tt.stored)
			assert.Len(t, q.calls, tt.queued)
			if tt.status == http.StatusAccepted {
				assert.JSONEq(t, `{"status":"queued","conversation_id":"conv-1","timestamp":1700000000}`, rec.Body.String())
				assert.Equal(t, "us-east-1", q.calls[0].Region, "queued stamped, as it will be stored")
			}
		})
	}
}

func TestProviderCallIsQueuedWhenTheTableFails(t *testing.T) {
	h, st, _ := newWebhookHandler()
	q := &memQueue{}
	h.Queue, st.failPut = q, true
	rec := deliver(t, h, testSecret, fixture(t, h, contract.EventTranscription, "conv_q", 0))
	require.Equal(t, http.StatusAccepted, rec.Code, rec.Body.String())
	assert.Equal(t, "queued", result(t, rec).Status)
	require.Len(t, q.calls, 1)
	assert.Equal(t, "medical", q.calls[0].EmergencyType)
}

func TestNoQueueKeepsTheOldAnswer(t *testing.T) {
	h, st := newTestHandler()
	st.failPut = true
	rec := do(t, h.Routes(), "POST", "/calls", goodCall)
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code, "durable nowhere: not acknowledged, and not a 500")
	assert.Contains(t, rec.Body.String(), "not acknowledged")
}
