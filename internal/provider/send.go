// Package provider sends deliveries to a deployment or a local server as the
// call provider does: realistic, signed, of every event type.
package provider

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/access911/access911-infra/app/elevenlabs"
	"github.com/access911/access911-infra/contract"
)

// Delivery is one signed provider delivery to send (webhook-send).
type Delivery struct {
	Type           string
	ConversationID string
	// Secret signs the delivery: the secret configured in the provider's
	// webhook settings.
	Secret string
	// AudioBytes sizes a post_call_audio's audio.
	AudioBytes int
	At         time.Time
}

// WebhookURL is the provider route under a base URL (an API's invoke URL or
// the local server), or target itself when it already names the route.
func WebhookURL(target string) string {
	target = strings.TrimSuffix(target, "/")
	if strings.HasSuffix(target, contract.ProviderWebhook.Path) {
		return target
	}
	return target + contract.ProviderWebhook.Path
}

// SendDelivery builds the delivery in the provider's shape, signs it as the
// provider does and posts it; it returns the status and the answer.
func SendDelivery(ctx context.Context, target string, d Delivery) (int, string, error) {
	if d.At.IsZero() {
		d.At = time.Now()
	}
	body, err := elevenlabs.Fixture(d.Type, d.ConversationID, d.At, d.AudioBytes)
	if err != nil {
		return 0, "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, WebhookURL(target), bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(contract.SignatureHeader, elevenlabs.Sign(d.Secret, d.At, body))
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return 0, "", fmt.Errorf("post %s: %w", WebhookURL(target), err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, strings.TrimSpace(string(b)), err
}

// NewConversationID is a fresh id in the provider's style.
func NewConversationID() string {
	b := make([]byte, 10)
	_, _ = rand.Read(b)
	return "conv_" + hex.EncodeToString(b)
}

// NewSecret is a one-off webhook secret for a local run that was given none.
func NewSecret() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return "wsec_" + hex.EncodeToString(b)
}
