package calls

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/access911/access911-infra/contract"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const goodCall = `{"conversation_id":"conv-1","timestamp":1700000000,"location":"Main St, Nashville","latitude":36.16,"longitude":-86.78,"emergency_type":"tornado","severity":4,"call_duration_secs":95}`

func withField(t *testing.T, field string, value any) []byte {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(goodCall), &m))
	if value == nil {
		delete(m, field)
	} else {
		m[field] = value
	}
	b, err := json.Marshal(m)
	require.NoError(t, err)
	return b
}

func TestParseCallAcceptsAGoodCall(t *testing.T) {
	c, err := ParseCall([]byte(goodCall))
	require.NoError(t, err)
	assert.Equal(t, "conv-1", c.ConversationID)
	assert.Equal(t, int64(1700000000), c.Timestamp)
	assert.Equal(t, 4, c.Severity)
	assert.Equal(t, "received", c.Status, "status defaults to received")
}

// BadCalls are inputs that must be refused with a message naming the field.
var badCalls = []struct {
	name  string
	body  func(t *testing.T) []byte
	field string
	msg   string
}{
	{"not JSON", func(*testing.T) []byte { return []byte(`{"conversation_id":`) }, "", "not valid JSON"},
	{"array body", func(*testing.T) []byte { return []byte(`[1,2]`) }, "", "must be a JSON object"},
	{"trailing data", func(*testing.T) []byte { return []byte(goodCall + `{}`) }, "", "after the JSON object"},
	{"oversized body", func(*testing.T) []byte {
		return []byte(`{"location":"` + strings.Repeat("x", contract.MaxBodyBytes) + `"}`)
	}, "", fmt.Sprintf("the limit is %d", contract.MaxBodyBytes)},
	{"missing conversation_id", func(t *testing.T) []byte { return withField(t, "conversation_id", nil) }, "conversation_id", "is required"},
	{"empty conversation_id", func(t *testing.T) []byte { return withField(t, "conversation_id", "") }, "conversation_id", "at least 1"},
	{"conversation_id with spaces", func(t *testing.T) []byte { return withField(t, "conversation_id", "a b") }, "conversation_id", "characters outside"},
	{"conversation_id too long", func(t *testing.T) []byte { return withField(t, "conversation_id", strings.Repeat("a", 129)) }, "conversation_id", "at most 128"},
	{"timestamp as string", func(t *testing.T) []byte { return withField(t, "timestamp", "yesterday") }, "timestamp", "whole number"},
	{"fractional timestamp", func(t *testing.T) []byte { return withField(t, "timestamp", 1.5) }, "timestamp", "whole number"},
	{"negative timestamp", func(t *testing.T) []byte { return withField(t, "timestamp", -1) }, "timestamp", "at least 0"},
	{"latitude out of range", func(t *testing.T) []byte { return withField(t, "latitude", 91) }, "latitude", "at most 90"},
	{"longitude out of range", func(t *testing.T) []byte { return withField(t, "longitude", -180.5) }, "longitude", "at least -180"},
	{"latitude as string", func(t *testing.T) []byte { return withField(t, "latitude", "36.1") }, "latitude", "must be a number"},
	{"unknown emergency type", func(t *testing.T) []byte { return withField(t, "emergency_type", "alien") }, "emergency_type", "must be one of"},
	{"severity zero", func(t *testing.T) []byte { return withField(t, "severity", 0) }, "severity", "at least 1"},
	{"severity six", func(t *testing.T) []byte { return withField(t, "severity", 6) }, "severity", "at most 5"},
	{"negative duration", func(t *testing.T) []byte { return withField(t, "call_duration_secs", -3) }, "call_duration_secs", "at least 0"},
	{"unknown status", func(t *testing.T) []byte { return withField(t, "status", "lost") }, "status", "must be one of"},
	{"null location", func(*testing.T) []byte { return []byte(strings.Replace(goodCall, `"Main St, Nashville"`, "null", 1)) }, "location", "is required"},
	{"unknown field", func(t *testing.T) []byte { return withField(t, "caller_ssn", "x") }, "caller_ssn", "not an accepted field"},
	{"huge number", func(*testing.T) []byte { return []byte(strings.Replace(goodCall, "95}", "1e999}", 1)) }, "call_duration_secs", "representable"},
}

func TestParseCallRejectsBadInput(t *testing.T) {
	for _, tc := range badCalls {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseCall(tc.body(t))
			var ve *contract.ValidationError
			require.ErrorAs(t, err, &ve)
			found := false
			for _, p := range ve.Problems {
				if p.Field == tc.field && strings.Contains(p.Problem, tc.msg) {
					found = true
				}
			}
			assert.True(t, found, "want %q on field %q, got %v", tc.msg, tc.field, ve.Problems)
		})
	}
}

func TestParseSimulate(t *testing.T) {
	r, err := ParseSimulate([]byte(`{"scenario":"nashville_tornado","num_calls":1000}`))
	require.NoError(t, err)
	assert.Equal(t, SimulateRequest{Scenario: "nashville_tornado", NumCalls: 1000}, r)

	for body, want := range map[string]string{
		`{"scenario":"nashville_tornado","num_calls":10001}`: "num_calls: must be at most 10000",
		`{"scenario":"nashville_tornado","num_calls":0}`:     "num_calls: must be at least 1",
		`{"scenario":"moon_landing","num_calls":10}`:         "scenario: must be one of",
		`{"num_calls":10}`: "scenario: is required",
	} {
		_, err := ParseSimulate([]byte(body))
		require.Error(t, err, body)
		assert.Contains(t, err.Error(), want)
	}
}

func TestJSONSchemaIsDraft04AndMatchesFields(t *testing.T) {
	doc := contract.CallSchema.JSONSchema()
	assert.Equal(t, "http://json-schema.org/draft-04/schema#", doc["$schema"])
	assert.Equal(t, false, doc["additionalProperties"])
	assert.Equal(t, []string{"conversation_id", "timestamp", "location", "latitude", "longitude", "emergency_type", "severity", "call_duration_secs"}, doc["required"])
	props := doc["properties"].(map[string]any)
	assert.Len(t, props, len(contract.CallSchema.Fields))
	lat := props["latitude"].(map[string]any)
	assert.Equal(t, "number", lat["type"])
	assert.Equal(t, -90.0, lat["minimum"])
	assert.Equal(t, 90.0, lat["maximum"])
	assert.Equal(t, contract.EmergencyTypes, props["emergency_type"].(map[string]any)["enum"])
	var back map[string]any
	require.NoError(t, json.Unmarshal([]byte(contract.CallSchema.JSONSchemaString()), &back))
}
