package handler

import (
	"context"
	"net/http"
	"time"

	"github.com/access911/access911-infra/app/elevenlabs"
	"github.com/access911/access911-infra/app/metrics"
	"github.com/access911/access911-infra/contract"
)

// SecretSource returns the provider's webhook secrets: the current one and,
// during a rotation, the previous one.
type SecretSource interface {
	WebhookSecrets(ctx context.Context) ([]string, error)
}

// StaticSecrets is a fixed secret value (the local server reads it from
// contract.EnvWebhookSecret), in either form elevenlabs.ParseSecrets reads.
type StaticSecrets []string

// WebhookSecrets returns the secrets.
func (s StaticSecrets) WebhookSecrets(context.Context) ([]string, error) { return s, nil }

const (
	jsonType  = "application/json"
	audioType = "audio/mpeg"
	// secretsHint tells an operator how to give the route its secret.
	secretsHint = "no webhook secret is configured: locally set " + contract.EnvWebhookSecret +
		" (the secret from the provider's webhook settings); in AWS put it in the Secrets Manager secret named by the stack output " + contract.OutputWebhookSecretArn
)

// WebhookResult is the provider route's answer.
type WebhookResult struct {
	Status         string `json:"status"` // stored, duplicate, queued, archived, ignored, refused
	Type           string `json:"type,omitempty"`
	ConversationID string `json:"conversation_id,omitempty"`
	Timestamp      int64  `json:"timestamp,omitempty"`
	AudioKey       string `json:"audio_key,omitempty"`
	// Linked is how many stored calls an audio delivery was attached to.
	Linked  *int   `json:"linked,omitempty"`
	Problem string `json:"problem,omitempty"`
}

// providerWebhook takes a signed post-call delivery and answers what
// acceptDelivery decided.
func (h *Handler) providerWebhook(w http.ResponseWriter, r *http.Request) {
	body, ok := readBodyUpTo(w, r, contract.ProviderWebhook.BodyLimit())
	if !ok {
		return
	}
	status, res := h.acceptDelivery(r.Context(), body, r.Header.Get(contract.SignatureHeader), h.now())
	writeDelivery(w, status, res)
}

func writeDelivery(w http.ResponseWriter, status int, res WebhookResult) {
	if status >= 400 {
		field := ""
		if status == http.StatusUnauthorized {
			field = contract.SignatureHeader
		}
		writeError(w, status, contract.FieldError{Field: field, Problem: res.Problem})
		return
	}
	writeJSON(w, status, res)
}

// acceptDelivery is the provider path, the same for a delivery posted to
// the function and one read from the inbox: signature first (401, checked
// against received), then the envelope (400), then each known type becomes
// a record; an unknown type is "ignored" (200). A signed delivery is never
// refused for its data.
func (h *Handler) acceptDelivery(ctx context.Context, body []byte, signature string, received time.Time) (int, WebhookResult) {
	if status, problem := h.verifySignature(ctx, body, signature, received); status != 0 {
		return status, WebhookResult{Status: "refused", Problem: problem}
	}
	d, err := elevenlabs.Decode(body)
	if err != nil {
		return http.StatusBadRequest, WebhookResult{Status: "refused", Problem: err.Error()}
	}
	h.Metrics.Emit([]metrics.Value{{Name: contract.WebhookDeliveries, Value: 1, Unit: metrics.Count}},
		map[string]any{"type": d.Type, "conversation_id": d.ConversationID})
	switch {
	case !d.Known():
		return http.StatusOK, WebhookResult{Status: "ignored", Type: d.Type}
	case d.Type == contract.EventAudio:
		return h.storeAudio(ctx, d, body)
	default:
		return h.storeProviderCall(ctx, d, body)
	}
}

// verifySignature returns 0 for a good signature, else the status and why.
func (h *Handler) verifySignature(ctx context.Context, body []byte, signature string, received time.Time) (int, string) {
	if h.WebhookSecrets == nil {
		return http.StatusServiceUnavailable, secretsHint
	}
	secrets, err := h.WebhookSecrets.WebhookSecrets(ctx)
	if err != nil {
		h.logger().Error("webhook secret", "err", err)
		return http.StatusServiceUnavailable, "the webhook secret could not be read; see the function's log"
	}
	if err := elevenlabs.Verify(signature, body, secrets, received); err != nil {
		h.Metrics.Emit([]metrics.Value{{Name: contract.WebhookRejected, Value: 1, Unit: metrics.Count}}, map[string]any{"reason": err.Error()})
		return http.StatusUnauthorized, err.Error()
	}
	return 0, ""
}

// storeProviderCall archives the raw delivery, then makes its record
// durable through the intake (201 "stored", or 202 "queued" on the intake
// queue). The archive key is the delivery's own, so a redelivery rewrites
// the same object and finds the stored call (200 "duplicate"). When neither
// the table nor the queue took it but the delivery is in the archive, the
// call is still durable: 202 "archived", never a 5xx the provider would
// count towards disabling us.
func (h *Handler) storeProviderCall(ctx context.Context, d elevenlabs.Delivery, body []byte) (int, WebhookResult) {
	c := *d.Call
	h.stamp(&c, h.now())
	res := WebhookResult{Type: d.Type, ConversationID: c.ConversationID, Timestamp: c.Timestamp}
	archived := h.archive(ctx, ProviderArchiveKey(c.ConversationID, d.Type, d.EventTimestamp), jsonType, body)
	if h.Archive != nil {
		if ok, err := h.Archive.Exists(ctx, AudioKey(c.ConversationID)); err != nil {
			h.logger().Warn("look for audio", "err", err, "conversation_id", c.ConversationID)
		} else if ok {
			c.AudioKey = AudioKey(c.ConversationID)
		}
	}
	_, outcome, err := h.intake(ctx, c)
	switch {
	case err != nil && archived:
		h.logger().Error("provider call neither stored nor queued; the delivery is archived", "err", err, "conversation_id", c.ConversationID)
		res.Status, res.Problem = "archived", "the call is in the archive; the table write and the queue failed and are logged"
		return http.StatusAccepted, res
	case err != nil:
		return h.notStored("store provider call", err)
	case outcome == Queued:
		res.Status = "queued"
		return http.StatusAccepted, res
	case outcome == Duplicate:
		res.Status = "duplicate"
		return http.StatusOK, res
	}
	res.Status = "stored"
	return http.StatusCreated, res
}

// storeAudio puts the call's audio next to its deliveries and links it
// from the conversation's stored calls. Storing the same audio twice
// rewrites the same object.
func (h *Handler) storeAudio(ctx context.Context, d elevenlabs.Delivery, body []byte) (int, WebhookResult) {
	res := WebhookResult{Type: d.Type, ConversationID: d.ConversationID, Timestamp: d.EventTimestamp}
	if d.AudioProblem != "" {
		// Keep what came: someone can look at it; the provider gets a 2xx.
		h.archive(ctx, ProviderArchiveKey(d.ConversationID, d.Type, d.EventTimestamp), jsonType, body)
		res.Status, res.Problem = "ignored", d.AudioProblem
		return http.StatusOK, res
	}
	if h.Archive == nil {
		res.Status, res.Problem = "ignored", "no archive bucket is configured, so audio is not kept"
		return http.StatusOK, res
	}
	key := AudioKey(d.ConversationID)
	if err := h.Archive.Archive(ctx, key, audioType, d.Audio); err != nil {
		return h.notStored("archive audio", err)
	}
	n, err := h.Store.SetAudioKey(ctx, d.ConversationID, key)
	if err != nil {
		// The audio is kept; the transcription links it when it is stored.
		h.logger().Error("link audio", "err", err, "conversation_id", d.ConversationID)
	}
	res.Status, res.AudioKey, res.Linked = "stored", key, &n
	return http.StatusCreated, res
}

// archive puts an object and reports whether it is there; without an
// archive or on failure it logs and returns false.
func (h *Handler) archive(ctx context.Context, key, contentType string, body []byte) bool {
	if h.Archive == nil {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := h.Archive.Archive(ctx, key, contentType, body); err != nil {
		h.logger().Error("archive delivery", "err", err, "key", key)
		return false
	}
	return true
}

// notStored is a delivery durable nowhere: it is not acknowledged.
func (h *Handler) notStored(what string, err error) (int, WebhookResult) {
	h.logger().Error(what, "err", err)
	return http.StatusServiceUnavailable, WebhookResult{Status: "refused", Problem: "the call could not be stored; it was not acknowledged"}
}
