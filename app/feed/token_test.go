package feed

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDispatcherTokens(t *testing.T) {
	now := time.Unix(1764300000, 0)
	good := MintToken("fsec_current", "dispatcher-7", time.Hour, now)
	tests := []struct {
		name    string
		token   string
		secrets []string
		at      time.Time
		want    error
	}{
		{"valid", good, []string{"fsec_current"}, now, nil},
		{"valid with the previous secret during a rotation", MintToken("fsec_old", "d", time.Hour, now), []string{"fsec_current", "fsec_old"}, now, nil},
		{"wrong secret", MintToken("fsec_other", "d", time.Hour, now), []string{"fsec_current"}, now, ErrTokenSecret},
		{"expired", good, []string{"fsec_current"}, now.Add(time.Hour), ErrTokenExpired},
		{"missing", "", []string{"fsec_current"}, now, ErrNoToken},
		{"not a token", "Bearer abc", []string{"fsec_current"}, now, ErrBadToken},
		{"claims edited", strings.Replace(good, good[3:10], "AAAAAAA", 1), []string{"fsec_current"}, now, ErrTokenSecret},
		{"signature cut", good[:len(good)-2], []string{"fsec_current"}, now, ErrBadToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := VerifyToken(tt.token, tt.secrets, tt.at)
			assert.ErrorIs(t, err, tt.want)
		})
	}
	c, err := VerifyToken(good, []string{"fsec_current"}, now)
	require.NoError(t, err)
	assert.Equal(t, Claims{Subject: "dispatcher-7", Expires: now.Add(time.Hour).Unix()}, c)
}
