package handler

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/access911/access911-infra/app/elevenlabs"
	"github.com/access911/access911-infra/contract"
)

const testSecret = "wsec_test_current"

func newWebhookHandler() (*Handler, *memStore, *recordingArchive) {
	h, st := newTestHandler()
	arch := &recordingArchive{}
	h.Archive = arch
	h.WebhookSecrets = StaticSecrets{testSecret}
	return h, st, arch
}

// deliver posts body to the provider route, signed at the handler's clock
// with secret ("" sends no signature).
func deliver(t *testing.T, h *Handler, secret string, body []byte) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest("POST", contract.ProviderWebhook.Path, strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	if secret != "" {
		req.Header.Set(contract.SignatureHeader, elevenlabs.Sign(secret, h.now(), body))
	}
	rec := httptest.NewRecorder()
	h.Routes().ServeHTTP(rec, req)
	return rec
}

func fixture(t *testing.T, h *Handler, eventType, id string, audioBytes int) []byte {
	t.Helper()
	b, err := elevenlabs.Fixture(eventType, id, h.now(), audioBytes)
	require.NoError(t, err)
	return b
}

func result(t *testing.T, rec *httptest.ResponseRecorder) WebhookResult {
	t.Helper()
	var r WebhookResult
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &r), rec.Body.String())
	return r
}

func TestWebhookSignatures(t *testing.T) {
	h, st, _ := newWebhookHandler()
	body := fixture(t, h, contract.EventTranscription, "conv_sig", 0)
	stale := func(r *http.Request) {
		r.Header.Set(contract.SignatureHeader, elevenlabs.Sign(testSecret, h.now().Add(-31*time.Minute), body))
	}
	tests := []struct {
		name   string
		sign   func(r *http.Request)
		status int
	}{
		{"missing", func(*http.Request) {}, http.StatusUnauthorized},
		{"wrong secret", func(r *http.Request) {
			r.Header.Set(contract.SignatureHeader, elevenlabs.Sign("wsec_wrong", h.now(), body))
		}, http.StatusUnauthorized},
		{"stale", stale, http.StatusUnauthorized},
		{"malformed", func(r *http.Request) { r.Header.Set(contract.SignatureHeader, "sha256=abc") }, http.StatusUnauthorized},
		{"valid", func(r *http.Request) {
			r.Header.Set(contract.SignatureHeader, elevenlabs.Sign(testSecret, h.now(), body))
		}, http.StatusCreated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest("POST", contract.ProviderWebhook.Path, strings.NewReader(string(body)))
			tt.sign(req)
			rec := httptest.NewRecorder()
			h.Routes().ServeHTTP(rec, req)
			assert.Equal(t, tt.status, rec.Code, rec.Body.String())
			assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
			if tt.status == http.StatusUnauthorized {
				assert.Contains(t, rec.Body.String(), `"field":"ElevenLabs-Signature"`)
				assert.Empty(t, st.items, "nothing is stored for an unsigned delivery")
			}
		})
	}
}

func TestWebhookRotationAcceptsBothSecrets(t *testing.T) {
	h, st, _ := newWebhookHandler()
	h.WebhookSecrets = StaticSecrets{"wsec_new", testSecret}
	assert.Equal(t, http.StatusCreated, deliver(t, h, testSecret, fixture(t, h, contract.EventTranscription, "conv_old", 0)).Code)
	assert.Equal(t, http.StatusCreated, deliver(t, h, "wsec_new", fixture(t, h, contract.EventTranscription, "conv_new", 0)).Code)
	assert.Len(t, st.items, 2)
}

func TestWebhookWithoutSecretIs503SayingHowToSetIt(t *testing.T) {
	h, _, _ := newWebhookHandler()
	h.WebhookSecrets = nil
	rec := deliver(t, h, testSecret, fixture(t, h, contract.EventTranscription, "conv_x", 0))
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
	assert.Contains(t, rec.Body.String(), contract.EnvWebhookSecret)
}

func TestTranscriptionIsStoredOnceAndArchived(t *testing.T) {
	h, st, arch := newWebhookHandler()
	body := fixture(t, h, contract.EventTranscription, "conv_t", 0)
	first := deliver(t, h, testSecret, body)
	require.Equal(t, http.StatusCreated, first.Code, first.Body.String())
	r := result(t, first)
	assert.Equal(t, WebhookResult{Status: "stored", Type: contract.EventTranscription, ConversationID: "conv_t", Timestamp: h.now().Unix()}, r)

	again := deliver(t, h, testSecret, body)
	assert.Equal(t, http.StatusOK, again.Code, "a redelivery is idempotent")
	assert.Equal(t, "duplicate", result(t, again).Status)
	require.Len(t, st.items, 1)

	c := st.items[callKey{"conv_t", h.now().Unix()}]
	assert.Equal(t, "medical", c.EmergencyType)
	assert.Equal(t, "us-east-1", c.Region, "stamped like any call")
	key := "calls/elevenlabs/conv_t/post_call_transcription-" + "1700000100.json"
	assert.Equal(t, body, arch.keys[key], "the full raw delivery is archived")
	assert.Equal(t, "application/json", arch.types[key])
}

func TestUnknownTypeIsIgnored(t *testing.T) {
	h, st, _ := newWebhookHandler()
	rec := deliver(t, h, testSecret, []byte(`{"type":"voice_removed","event_timestamp":1700000100,"data":{}}`))
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "ignored", result(t, rec).Status)
	assert.Empty(t, st.items)
}

func TestInitiationFailureIsStored(t *testing.T) {
	h, st, _ := newWebhookHandler()
	rec := deliver(t, h, testSecret, fixture(t, h, contract.EventInitiationFailure, "conv_f", 0))
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	c := st.items[callKey{"conv_f", h.now().Unix()}]
	assert.Equal(t, contract.StatusNotConnected, c.Status)
	assert.Equal(t, "busy", c.FailureReason)
	got := do(t, h.Routes(), "GET", "/calls/conv_f", "")
	assert.Equal(t, http.StatusOK, got.Code, "a dispatcher can read it")
}

func TestAudioIsArchivedAndLinkedEitherOrder(t *testing.T) {
	for _, audioFirst := range []bool{false, true} {
		h, st, arch := newWebhookHandler()
		transcript := fixture(t, h, contract.EventTranscription, "conv_a", 0)
		audio := fixture(t, h, contract.EventAudio, "conv_a", 2000)
		steps := [][]byte{transcript, audio}
		if audioFirst {
			steps = [][]byte{audio, transcript}
		}
		for _, b := range steps {
			rec := deliver(t, h, testSecret, b)
			require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
		}
		key := "calls/elevenlabs/conv_a/audio.mp3"
		assert.Len(t, arch.keys[key], 2000, "the decoded audio, next to the transcript")
		assert.Equal(t, "audio/mpeg", arch.types[key])
		assert.Equal(t, key, st.items[callKey{"conv_a", h.now().Unix()}].AudioKey, "audio first: %v", audioFirst)
	}
}

func TestAudioAtTheLambdaPayloadLimit(t *testing.T) {
	h, _, arch := newWebhookHandler()
	// The largest audio whose delivery still fits: base64 is 4/3 the size.
	envelope := len(fixture(t, h, contract.EventAudio, "conv_big", 0))
	fits := (contract.MaxWebhookBodyBytes - envelope) / 4 * 3
	body := fixture(t, h, contract.EventAudio, "conv_big", fits)
	require.LessOrEqual(t, len(body), contract.MaxWebhookBodyBytes)
	rec := deliver(t, h, testSecret, body)
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	assert.Len(t, arch.keys["calls/elevenlabs/conv_big/audio.mp3"], fits)

	over := fixture(t, h, contract.EventAudio, "conv_big", fits+3)
	require.Greater(t, len(over), contract.MaxWebhookBodyBytes)
	rec = deliver(t, h, testSecret, over)
	assert.Equal(t, http.StatusRequestEntityTooLarge, rec.Code)
	assert.Contains(t, rec.Body.String(), "larger than")
}

func TestStoreFailureAfterArchiveIs202(t *testing.T) {
	h, st, arch := newWebhookHandler()
	st.failPut = true
	rec := deliver(t, h, testSecret, fixture(t, h, contract.EventTranscription, "conv_down", 0))
	assert.Equal(t, http.StatusAccepted, rec.Code, "durable in the archive: acknowledged, not a 5xx")
	assert.Equal(t, "archived", result(t, rec).Status)
	assert.Len(t, arch.keys, 1)

	arch.fail = true
	rec = deliver(t, h, testSecret, fixture(t, h, contract.EventTranscription, "conv_down2", 0))
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code, "durable nowhere: not acknowledged")
}

func TestPostCallsStillRefusesUnknownFields(t *testing.T) {
	h, _, _ := newWebhookHandler()
	rec := do(t, h.Routes(), "POST", "/calls", strings.Replace(goodCall, `}`, `,"has_audio":true}`, 1))
	assert.Equal(t, http.StatusBadRequest, rec.Code)
	assert.Contains(t, rec.Body.String(), `"field":"has_audio"`)
}
