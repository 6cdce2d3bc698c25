package handler

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/access911/access911-infra/app/elevenlabs"
	"github.com/access911/access911-infra/contract"
)

// FuzzRouter throws arbitrary requests at the whole router (method, path,
// query, content type, signature header, body): whatever comes in, the
// answer is never a 5xx (the store and queue here are healthy), always a
// JSON body, and never a panic.
func FuzzRouter(f *testing.F) {
	h, _, _ := newWebhookHandler()
	h.Queue = &memQueue{}
	routes := h.Routes()
	delivery, _ := elevenlabs.Fixture(contract.EventTranscription, "conv_fuzz", h.now(), 0)
	signed := elevenlabs.Sign(testSecret, h.now(), delivery)
	seeds := []struct {
		method, path, query, contentType, signature string
		body                                        []byte
	}{
		{"POST", "/calls", "", "application/json", "", []byte(goodCall)},
		{"GET", "/calls", "emergency_type=fire&limit=5&cursor=eyJpIjoieCJ9", "", "", nil},
		{"GET", "/calls/conv-1", "", "", "", nil},
		{"POST", "/simulate", "", "application/json", "", []byte(`{"scenario":"nashville_tornado","num_calls":3}`)},
		{"GET", "/health", "", "", "", nil},
		{"POST", contract.ProviderWebhook.Path, "", "application/json", signed, delivery},
		{"POST", contract.ProviderInbox.Path, "", "application/json", signed, delivery},
		{"OPTIONS", "/calls/x", "", "", "", nil},
		{"DELETE", "/calls/../../etc/passwd", "a=%zz", "text/plain", "t=1,v0=zz", []byte{0xff, 0xfe}},
		{"POST", "/calls", "", "application/json; charset=utf-8", "", []byte(`{"timestamp":1e999}`)},
	}
	for _, s := range seeds {
		f.Add(s.method, s.path, s.query, s.contentType, s.signature, s.body)
	}
	f.Fuzz(func(t *testing.T, method, path, query, contentType, signature string, body []byte) {
		if method == "" { // net/http reads an empty method as GET
			method = http.MethodGet
		}
		body = body[:min(len(body), 64<<10)] // the router refuses larger bodies before reading them
		req := &http.Request{Method: method, URL: &url.URL{Path: path, RawQuery: query}, Header: http.Header{},
			Body: io.NopCloser(bytes.NewReader(body)), ContentLength: int64(len(body)), RequestURI: path, Host: "x"}
		req = req.WithContext(t.Context())
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		if signature != "" {
			req.Header.Set(contract.SignatureHeader, signature)
		}
		rec := httptest.NewRecorder()
		routes.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %s?%s answered %d: %s", method, path, query, rec.Code, rec.Body.String())
		}
		if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
			t.Fatalf("%s %s answered Content-Type %q: %s", method, path, ct, rec.Body.String())
		}
		if !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("%s %s answered a body that is not JSON: %q", method, path, rec.Body.String())
		}
	})
}
