package handler

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/access911/access911-infra/app/elevenlabs"
	"github.com/access911/access911-infra/contract"
)

// memInbox holds inbox objects as API Gateway leaves them in the bucket.
type memInbox struct {
	mu      sync.Mutex
	objects map[string]inboxObject
}

type inboxObject struct {
	body      []byte
	signature string
	received  time.Time
}

func (m *memInbox) Fetch(_ context.Context, key string) ([]byte, string, time.Time, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.objects[key]
	if !ok {
		return nil, "", time.Time{}, assert.AnError
	}
	return o.body, o.signature, o.received, nil
}

func (m *memInbox) Delete(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.objects, key)
	return nil
}

func s3Event(keys ...string) events.S3Event {
	var ev events.S3Event
	for _, k := range keys {
		ev.Records = append(ev.Records, events.S3EventRecord{EventSource: "aws:s3",
			S3: events.S3Entity{Object: events.S3Object{Key: k}}})
	}
	return ev
}

func TestInboxDeliveriesAreProcessedAndDeleted(t *testing.T) {
	h, st, arch := newWebhookHandler()
	inbox := &memInbox{objects: map[string]inboxObject{}}
	h.Inbox = inbox
	arrived := h.now()
	transcript := fixture(t, h, contract.EventTranscription, "conv_in", 0)
	audio := fixture(t, h, contract.EventAudio, "conv_in", 7<<20) // a 9.3 MB delivery: past Lambda's 6 MB
	forged := fixture(t, h, contract.EventTranscription, "conv_forged", 0)
	inbox.objects["inbox/elevenlabs/req-1"] = inboxObject{transcript, elevenlabs.Sign(testSecret, arrived, transcript), arrived}
	inbox.objects["inbox/elevenlabs/req-2"] = inboxObject{audio, elevenlabs.Sign(testSecret, arrived, audio), arrived}
	inbox.objects["inbox/elevenlabs/req-3"] = inboxObject{forged, elevenlabs.Sign("wsec_attacker", arrived, forged), arrived}
	// Processed an hour after arrival (a retried event): the signature is
	// judged against when the delivery arrived, not when it is read.
	h.Now = func() time.Time { return arrived.Add(time.Hour) }

	require.NoError(t, h.ProcessInbox(context.Background(), s3Event("inbox/elevenlabs/req-1", "inbox/elevenlabs/req-2", "inbox/elevenlabs/req-3")))
	assert.Empty(t, inbox.objects, "processed and refused deliveries are removed")
	assert.Len(t, st.items, 1, "the forged delivery stored nothing")
	c := st.items[callKey{"conv_in", arrived.Unix()}]
	assert.Equal(t, "calls/elevenlabs/conv_in/audio.mp3", c.AudioKey)
	assert.Len(t, arch.keys["calls/elevenlabs/conv_in/audio.mp3"], 7<<20, "7 MB of audio, more than Lambda could be handed")
}

func TestInboxKeepsWhatCouldNotBeStored(t *testing.T) {
	h, st, arch := newWebhookHandler()
	st.failPut, arch.fail = true, true
	body := fixture(t, h, contract.EventTranscription, "conv_down", 0)
	h.Inbox = &memInbox{objects: map[string]inboxObject{
		"inbox/elevenlabs/req-9": {body, elevenlabs.Sign(testSecret, h.now(), body), h.now()},
	}}
	err := h.ProcessInbox(context.Background(), s3Event("inbox/elevenlabs/req-9"))
	require.Error(t, err, "Lambda retries the event")
	assert.Len(t, h.Inbox.(*memInbox).objects, 1, "the delivery stays in the inbox")
}

func TestInboxRouteLocally(t *testing.T) {
	h, st, arch := newWebhookHandler()
	post := func(body []byte, signature string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", contract.ProviderInbox.Path, strings.NewReader(string(body)))
		if signature != "" {
			req.Header.Set(contract.SignatureHeader, signature)
		}
		rec := httptest.NewRecorder()
		h.Routes().ServeHTTP(rec, req)
		return rec
	}
	envelope := len(fixture(t, h, contract.EventAudio, "conv_max", 0))
	fits := (contract.APIGatewayMaxBodyBytes - envelope) / 4 * 3
	audio := fixture(t, h, contract.EventAudio, "conv_max", fits)
	rec := post(audio, elevenlabs.Sign(testSecret, h.now(), audio))
	assert.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.JSONEq(t, `{"status":"accepted"}`, rec.Body.String())
	assert.Len(t, arch.keys["calls/elevenlabs/conv_max/audio.mp3"], fits, "audio up to API Gateway's 10 MB")

	over := fixture(t, h, contract.EventAudio, "conv_max", fits+3)
	assert.Equal(t, http.StatusRequestEntityTooLarge, post(over, elevenlabs.Sign(testSecret, h.now(), over)).Code)
	missing := post(audio, "")
	assert.Equal(t, http.StatusBadRequest, missing.Code, "the gateway requires the signature header")
	assert.Contains(t, missing.Body.String(), contract.SignatureHeader)

	forged := fixture(t, h, contract.EventTranscription, "conv_forged", 0)
	assert.Equal(t, http.StatusOK, post(forged, elevenlabs.Sign("wsec_attacker", h.now(), forged)).Code,
		"accepted like the gateway accepts it...")
	assert.Empty(t, st.items, "...and dropped")
}

func TestLambdaEntryRoutesBothEventKinds(t *testing.T) {
	h, st, _ := newWebhookHandler()
	body := fixture(t, h, contract.EventTranscription, "conv_entry", 0)
	h.Inbox = &memInbox{objects: map[string]inboxObject{
		"inbox/elevenlabs/r%3D1": {body, elevenlabs.Sign(testSecret, h.now(), body), h.now()},
	}}
	entry := LambdaEntry(h, nil)

	raw, _ := json.Marshal(s3Event("inbox/elevenlabs/r%253D1")) // keys arrive URL-encoded
	_, err := entry(context.Background(), raw)
	require.NoError(t, err)
	assert.Len(t, st.items, 1)

	raw, _ = json.Marshal(events.APIGatewayProxyRequest{HTTPMethod: "GET", Path: "/calls/conv_entry"})
	out, err := entry(context.Background(), raw)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, out.(events.APIGatewayProxyResponse).StatusCode)
}

// A delivery replayed by copying it onto itself keeps its signature judged
// against the original arrival, not the copy's LastModified.
func TestArrivalPrefersTheRecordedArrival(t *testing.T) {
	copied := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	original := copied.Add(-6 * time.Hour)
	for name, tc := range map[string]struct {
		metadata map[string]string
		want     time.Time
	}{
		"delivered by API Gateway": {nil, copied},
		"replayed":                 {map[string]string{contract.InboxReceivedMetadata: original.Format(time.RFC3339Nano)}, original},
		"unreadable record":        {map[string]string{contract.InboxReceivedMetadata: "yesterday"}, copied},
	} {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.want, arrival(tc.metadata, copied))
		})
	}
}
