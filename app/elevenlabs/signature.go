// Package elevenlabs takes the telephony provider's post-call webhooks: it
// verifies their signature and maps each delivery to a call record. It never
// imports Pulumi.
package elevenlabs

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/access911/access911-infra/contract"
)

// Signature errors; each is answered 401.
var (
	ErrNoSignature   = errors.New("the " + contract.SignatureHeader + " header is missing")
	ErrBadSignature  = errors.New("the " + contract.SignatureHeader + " header is not t=<unix seconds>,v0=<hex HMAC-SHA256>")
	ErrStale         = errors.New("the signature's timestamp is more than 30 minutes from now")
	ErrWrongSecret   = errors.New("the signature does not match the webhook secret")
	ErrNoSecret      = errors.New("no webhook secret is configured")
	tolerance        = time.Duration(contract.SignatureToleranceSecs) * time.Second
	signatureVersion = "v0"
)

// Sign returns the header value the provider sends for body at t.
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + "," + signatureVersion + "=" + hex.EncodeToString(mac(secret, ts, body))
}

func mac(secret, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts))
	m.Write([]byte("."))
	m.Write(body)
	return m.Sum(nil)
}

// Verify checks header against body with each secret (the current one and,
// during a rotation, the previous one): the timestamp within 30 minutes of
// now, and a v0 signature equal to one computed with a secret, compared in
// constant time.
func Verify(header string, body []byte, secrets []string, now time.Time) error {
	if len(secrets) == 0 {
		return ErrNoSecret
	}
	if strings.TrimSpace(header) == "" {
		return ErrNoSignature
	}
	ts, sigs, err := parseHeader(header)
	if err != nil {
		return err
	}
	t, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return ErrBadSignature
	}
	if d := now.Sub(time.Unix(t, 0)); d > tolerance || d < -tolerance {
		return ErrStale
	}
	for _, secret := range secrets {
		want := mac(secret, ts, body)
		for _, sig := range sigs {
			if hmac.Equal(want, sig) {
				return nil
			}
		}
	}
	return ErrWrongSecret
}

// parseHeader splits "t=...,v0=..." into the timestamp and every v0
// signature (a header may carry several).
func parseHeader(header string) (string, [][]byte, error) {
	var ts string
	var sigs [][]byte
	for _, part := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return "", nil, ErrBadSignature
		}
		switch k {
		case "t":
			ts = v
		case signatureVersion:
			b, err := hex.DecodeString(v)
			if err != nil || len(b) != sha256.Size {
				return "", nil, ErrBadSignature
			}
			sigs = append(sigs, b)
		}
	}
	if ts == "" || len(sigs) == 0 {
		return "", nil, ErrBadSignature
	}
	return ts, sigs, nil
}

// Secrets is the webhook secret value as stored in Secrets Manager or in
// contract.EnvWebhookSecret: either the secret itself, or during a rotation
// {"current":"...","previous":"..."}; both are accepted until previous is
// removed.
type Secrets struct {
	Current  string `json:"current"`
	Previous string `json:"previous,omitempty"`
}

// ParseSecrets reads a secret value in either form.
func ParseSecrets(value string) ([]string, error) {
	value = strings.TrimSpace(value)
	if value == "" {
		return nil, ErrNoSecret
	}
	if !strings.HasPrefix(value, "{") {
		return []string{value}, nil
	}
	var s Secrets
	dec := json.NewDecoder(strings.NewReader(value))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf(`webhook secret: want the secret or {"current":"...","previous":"..."}: %w`, err)
	}
	if s.Current == "" {
		return nil, errors.New(`webhook secret: "current" is empty`)
	}
	out := []string{s.Current}
	if s.Previous != "" {
		out = append(out, s.Previous)
	}
	return out, nil
}
