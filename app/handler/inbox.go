package handler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/access911/access911-infra/app/intake"
	"github.com/access911/access911-infra/contract"
)

// Inbox is where API Gateway leaves deliveries sent to an inbox route (the
// archive bucket under contract.InboxPrefix).
type Inbox interface {
	// Fetch returns a delivery's body, its signature header and when it
	// arrived.
	Fetch(ctx context.Context, key string) (body []byte, signature string, received time.Time, err error)
	Delete(ctx context.Context, key string) error
}

// providerInbox serves the inbox route locally as API Gateway does in AWS:
// the signature header is required (400 without it), the body may be as
// large as the gateway allows, its model checks the envelope, and the answer is 200 "accepted" once the
// delivery is kept, whatever processing then finds (a forged delivery is
// dropped and counted, as the function does with an inbox object).
func (h *Handler) providerInbox(w http.ResponseWriter, r *http.Request) {
	signature := r.Header.Get(contract.SignatureHeader)
	if signature == "" {
		writeError(w, http.StatusBadRequest, contract.FieldError{Field: contract.SignatureHeader,
			Problem: "Missing required request parameters: [" + contract.SignatureHeader + "]"})
		return
	}
	body, ok := readBodyUpTo(w, r, contract.ProviderInbox.BodyLimit())
	if !ok {
		return
	}
	if _, err := contract.ProviderEnvelopeSchema.Validate(body); err != nil {
		writeValidation(w, err) // the gateway's model refuses it before S3
		return
	}
	status, res := h.acceptDelivery(r.Context(), body, signature, h.now())
	h.logger().Info("inbox delivery processed", "status", status, "result", res.Status, "problem", res.Problem)
	writeJSON(w, http.StatusOK, map[string]string{"status": "accepted"})
}

// ProcessInbox handles the bucket's ObjectCreated events for the inbox:
// each delivery goes through the provider path with its arrival time as
// the signature's reference, then is deleted. A delivery that could not be
// stored anywhere is kept and the error returned, so Lambda retries the
// event; a refused one (bad signature, broken envelope) is deleted and
// counted.
func (h *Handler) ProcessInbox(ctx context.Context, ev events.S3Event) error {
	if h.Inbox == nil {
		return errors.New("inbox event received but no inbox is configured")
	}
	var errs []error
	for _, rec := range ev.Records {
		key, err := url.QueryUnescape(rec.S3.Object.Key) // event keys are URL-encoded
		if err != nil || !strings.HasPrefix(key, contract.InboxPrefix) {
			h.logger().Warn("ignoring object outside the inbox", "key", rec.S3.Object.Key)
			continue
		}
		if err := h.processInboxObject(ctx, key); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (h *Handler) processInboxObject(ctx context.Context, key string) error {
	body, signature, received, err := h.Inbox.Fetch(ctx, key)
	if err != nil {
		return fmt.Errorf("inbox %s: %w", key, err)
	}
	status, res := h.acceptDelivery(ctx, body, signature, received)
	h.logger().Info("inbox delivery processed", "key", key, "status", status, "result", res.Status,
		"conversation_id", res.ConversationID, "problem", res.Problem)
	if status >= 500 {
		return fmt.Errorf("inbox %s: %s", key, res.Problem)
	}
	if err := h.Inbox.Delete(ctx, key); err != nil {
		return fmt.Errorf("inbox %s: processed, not deleted: %w", key, err)
	}
	return nil
}

// LambdaEntry is the binary's handler in both functions: API Gateway proxy
// events go to the router, the archive bucket's inbox events to
// ProcessInbox, and SQS batches (the drain function's event source mapping)
// to the drainer.
func LambdaEntry(h *Handler, d *intake.Drainer) func(context.Context, json.RawMessage) (any, error) {
	proxy := LambdaAdapter(h.Routes())
	return func(ctx context.Context, raw json.RawMessage) (any, error) {
		var probe struct {
			Records []struct {
				EventSource string `json:"eventSource"`
			} `json:"Records"`
		}
		source := ""
		if err := json.Unmarshal(raw, &probe); err == nil && len(probe.Records) > 0 {
			source = probe.Records[0].EventSource
		}
		switch source {
		case "aws:s3":
			var ev events.S3Event
			if err := json.Unmarshal(raw, &ev); err != nil {
				return nil, fmt.Errorf("s3 event: %w", err)
			}
			return nil, h.ProcessInbox(ctx, ev)
		case "aws:sqs":
			if d == nil {
				return nil, errors.New("sqs event received but this function has no drainer")
			}
			var ev events.SQSEvent
			if err := json.Unmarshal(raw, &ev); err != nil {
				return nil, fmt.Errorf("sqs event: %w", err)
			}
			return d.Handle(ctx, ev)
		}
		var req events.APIGatewayProxyRequest
		if err := json.Unmarshal(raw, &req); err != nil {
			return nil, fmt.Errorf("api gateway event: %w", err)
		}
		return proxy(ctx, req)
	}
}
