package elevenlabs

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestVerify(t *testing.T) {
	now := time.Unix(1764300000, 0)
	body := []byte(`{"type":"post_call_transcription","event_timestamp":1764300000,"data":{}}`)
	const current, previous = "wsec_current", "wsec_previous"
	signed := Sign(current, now, body)
	tests := []struct {
		name    string
		header  string
		body    []byte
		secrets []string
		at      time.Time
		want    error
	}{
		{"valid", signed, body, []string{current}, now, nil},
		{"valid with the previous secret during a rotation", Sign(previous, now, body), body, []string{current, previous}, now, nil},
		{"signed 29 minutes ago", Sign(current, now.Add(-29*time.Minute), body), body, []string{current}, now, nil},
		{"stale: signed 31 minutes ago", Sign(current, now.Add(-31*time.Minute), body), body, []string{current}, now, ErrStale},
		{"from 31 minutes in the future", Sign(current, now.Add(31*time.Minute), body), body, []string{current}, now, ErrStale},
		{"wrong secret", Sign("wsec_other", now, body), body, []string{current, previous}, now, ErrWrongSecret},
		{"rotated out: previous no longer accepted", Sign(previous, now, body), body, []string{current}, now, ErrWrongSecret},
		{"body changed after signing", signed, append([]byte(" "), body...), []string{current}, now, ErrWrongSecret},
		{"timestamp changed after signing", strings.Replace(signed, "t=1764300000", "t=1764300001", 1), body, []string{current}, now, ErrWrongSecret},
		{"missing header", "", body, []string{current}, now, ErrNoSignature},
		{"no v0", "t=1764300000", body, []string{current}, now, ErrBadSignature},
		{"no t", "v0=" + strings.Repeat("ab", 32), body, []string{current}, now, ErrBadSignature},
		{"v0 not hex", "t=1764300000,v0=zz", body, []string{current}, now, ErrBadSignature},
		{"v0 too short", "t=1764300000,v0=abcd", body, []string{current}, now, ErrBadSignature},
		{"t not a number", "t=soon,v0=" + strings.Repeat("ab", 32), body, []string{current}, now, ErrBadSignature},
		{"garbage", "Bearer xyz", body, []string{current}, now, ErrBadSignature},
		{"no secret configured", signed, body, nil, now, ErrNoSecret},
		{"one of several v0 matches", signed + ",v0=" + strings.Repeat("00", 32), body, []string{current}, now, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.ErrorIs(t, Verify(tt.header, tt.body, tt.secrets, tt.at), tt.want)
		})
	}
}

func TestSignIsTheProvidersScheme(t *testing.T) {
	// HMAC-SHA256("wsec_test", "1700000000.{}") computed independently
	// (python3 -c 'import hmac,hashlib;print(hmac.new(b"wsec_test",b"1700000000.{}",hashlib.sha256).hexdigest())').
	assert.Equal(t, "t=1700000000,v0=358df3463bc6f62de29c4cf4191d4c023203ff2a0b0b3208ed46426e73f9385a",
		Sign("wsec_test", time.Unix(1700000000, 0), []byte("{}")))
}

func TestParseSecrets(t *testing.T) {
	tests := []struct {
		value   string
		want    []string
		wantErr string
	}{
		{"wsec_abc", []string{"wsec_abc"}, ""},
		{"  wsec_abc\n", []string{"wsec_abc"}, ""},
		{`{"current":"wsec_new","previous":"wsec_old"}`, []string{"wsec_new", "wsec_old"}, ""},
		{`{"current":"wsec_new"}`, []string{"wsec_new"}, ""},
		{``, nil, "no webhook secret"},
		{`{"previous":"wsec_old"}`, nil, `"current" is empty`},
		{`{"current":"a","next":"b"}`, nil, "unknown field"},
		{`{"current":`, nil, "want the secret or"},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			got, err := ParseSecrets(tt.value)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}
