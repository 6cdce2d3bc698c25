package contract

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// What encoding/json would store altered is refused, naming the field; what
// it stores as sent passes.
func TestAlteredTextNamesTheField(t *testing.T) {
	for _, tc := range []struct {
		name, body, field, problem string
	}{
		{"lone high surrogate", `{"location":"Main \ud800 St"}`, "location", "lone surrogate escape (\\ud800)"},
		{"lone low surrogate", `{"severity":3,"location":"\udc00"}`, "location", "lone surrogate"},
		{"high surrogate then a letter", `{"location":"\ud83dx"}`, "location", "lone surrogate"},
		{"invalid UTF-8", "{\"location\":\"Main \xff St\"}", "location", "is not valid UTF-8"},
		{"nested value", `{"transcript":[{"text":"\ud800"}],"location":"ok"}`, "transcript", "lone surrogate"},
		{"in a field's name", "{\"loc\xffation\":\"x\"}", `"loc\ufffdation"`, "name is not valid UTF-8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fe, bad := alteredText([]byte(tc.body))
			assert.True(t, bad)
			assert.Equal(t, tc.field, fe.Field)
			assert.Contains(t, fe.Problem, tc.problem)
		})
	}
	for _, good := range []string{
		`{"location":"Caf\u00e9 \ud83d\ude92 \\ud800 not an escape","severity":3}`, // a pair is one character; \\ is a backslash
		`{"location":"plain"}`, `[]`, `not json`,
	} {
		_, bad := alteredText([]byte(good))
		assert.False(t, bad, good)
	}
}

// The call schema refuses both with a 400's field error, before decoding.
func TestCallSchemaRefusesAlteredText(t *testing.T) {
	_, err := CallSchema.Validate([]byte(`{"conversation_id":"c1","timestamp":1700000000,"location":"\udfff","latitude":1,"longitude":1,"emergency_type":"fire","severity":3,"call_duration_secs":1}`))
	var ve *ValidationError
	if assert.ErrorAs(t, err, &ve) {
		assert.Equal(t, "location", ve.Problems[0].Field)
	}
}

// The body limit never refuses a call the schema accepts: every string at
// its maximum, each character a surrogate pair escaped (\uXXXX\uXXXX, the
// longest JSON form of one character), still fits.
func TestMaxBodyHoldsTheLargestValidCall(t *testing.T) {
	body := map[string]any{}
	for _, f := range CallSchema.Fields {
		switch {
		case f.MaxLength > 0:
			body[f.Name] = strings.Repeat("\U0001F6A8", f.MaxLength) // 🚨
		case len(f.Enum) > 0:
			body[f.Name] = f.Enum[0]
		case f.Kind == KindNumber: // its longest: negative, with every digit
			body[f.Name] = *f.Minimum + 0.123456789012
		case f.Maximum != nil:
			body[f.Name] = int64(*f.Maximum)
		}
	}
	b, err := json.Marshal(body)
	require.NoError(t, err)
	escaped := strings.ReplaceAll(string(b), "\U0001F6A8", `\ud83d\udea8`)
	assert.Less(t, len(escaped), CallSchema.Limit())
	_, err = CallSchema.Validate([]byte(escaped))
	assert.ErrorContains(t, err, "conversation_id", "valid but for the id's pattern, which no emoji passes")
	body["conversation_id"] = strings.Repeat("a", CallSchema.MaxLength("conversation_id"))
	b, err = json.Marshal(body)
	require.NoError(t, err)
	escaped = strings.ReplaceAll(string(b), "\U0001F6A8", `\ud83d\udea8`)
	_, err = CallSchema.Validate([]byte(escaped))
	assert.NoError(t, err, "%d bytes", len(escaped))
}
