package feed

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/access911/access911-infra/contract"
)

// Dispatchers authenticate on $connect with a token: the feed carries
// callers' locations. A token is "v1.<base64url claims>.<hex HMAC-SHA256 of
// "v1.<claims>" with the feed secret>", minted by whoever holds the secret
// (`access911 watch` does for an operator); browsers cannot set headers on a
// WebSocket, so it travels as the query parameter TokenParam.
const (
	TokenParam   = contract.FeedTokenParam
	tokenVersion = "v1"
)

// Token errors; each refuses the connection.
var (
	ErrNoToken      = errors.New("no token: connect with ?" + TokenParam + "=<dispatcher token>")
	ErrBadToken     = errors.New("the token is not a dispatcher token")
	ErrTokenExpired = errors.New("the token has expired")
	ErrTokenSecret  = errors.New("the token was not signed with the feed secret")
)

// Claims are what a token says.
type Claims struct {
	// Subject names the dispatcher (for the access log).
	Subject string `json:"sub"`
	// Expires is the Unix time after which the token is refused.
	Expires int64 `json:"exp"`
}

// MintToken signs claims for subject, valid for ttl.
func MintToken(secret, subject string, ttl time.Duration, now time.Time) string {
	claims, _ := json.Marshal(Claims{Subject: subject, Expires: now.Add(ttl).Unix()})
	payload := tokenVersion + "." + base64.RawURLEncoding.EncodeToString(claims)
	return payload + "." + hex.EncodeToString(tokenMAC(secret, payload))
}

// VerifyToken checks a token against each secret (the current one and,
// during a rotation, the previous one) in constant time, then its expiry.
func VerifyToken(token string, secrets []string, now time.Time) (Claims, error) {
	if token == "" {
		return Claims{}, ErrNoToken
	}
	i := strings.LastIndex(token, ".")
	if i < 0 || !strings.HasPrefix(token, tokenVersion+".") {
		return Claims{}, ErrBadToken
	}
	payload, sig := token[:i], token[i+1:]
	got, err := hex.DecodeString(sig)
	if err != nil || len(got) != sha256.Size {
		return Claims{}, ErrBadToken
	}
	ok := false
	for _, s := range secrets {
		ok = ok || hmac.Equal(got, tokenMAC(s, payload))
	}
	if !ok {
		return Claims{}, ErrTokenSecret
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(payload, tokenVersion+"."))
	var c Claims
	if err != nil || json.Unmarshal(raw, &c) != nil || c.Subject == "" {
		return Claims{}, ErrBadToken
	}
	if now.Unix() >= c.Expires {
		return Claims{}, ErrTokenExpired
	}
	return c, nil
}

func tokenMAC(secret, payload string) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(payload))
	return m.Sum(nil)
}
