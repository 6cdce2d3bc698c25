package elevenlabs

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/access911/access911-infra/contract"
)

var at = time.Unix(1764300000, 0)

// delivery builds a transcription delivery whose collected values are
// replaced by values (nil removes one).
func delivery(t *testing.T, values map[string]any, edit func(data map[string]any)) []byte {
	t.Helper()
	raw, err := Fixture(contract.EventTranscription, "conv_01jx7t2", at, 0)
	require.NoError(t, err)
	var env map[string]any
	require.NoError(t, json.Unmarshal(raw, &env))
	data := env["data"].(map[string]any)
	collected := data["analysis"].(map[string]any)["data_collection_results"].(map[string]any)
	for k, v := range values {
		if v == nil {
			delete(collected, k)
			continue
		}
		collected[k] = map[string]any{"data_collection_id": k, "value": v}
	}
	if edit != nil {
		edit(data)
	}
	b, err := json.Marshal(env)
	require.NoError(t, err)
	return b
}

func TestTranscriptionBecomesACall(t *testing.T) {
	d, err := Decode(delivery(t, nil, nil))
	require.NoError(t, err)
	require.NotNil(t, d.Call)
	c := *d.Call
	assert.Equal(t, "conv_01jx7t2", c.ConversationID)
	assert.Equal(t, at.Unix(), c.Timestamp, "keyed by conversation_id + event_timestamp")
	assert.Equal(t, at.Add(-3*time.Minute).Unix(), c.StartedAt)
	assert.Equal(t, 174, c.CallDurationSecs)
	assert.Equal(t, "2200 Riverside Drive, Nashville, TN", c.Location)
	assert.Equal(t, 36.1872, c.Latitude)
	assert.Equal(t, -86.7409, c.Longitude)
	assert.False(t, c.NeedsGeocoding)
	assert.Equal(t, "medical", c.EmergencyType)
	assert.Equal(t, "medical_emergency", c.ProviderEmergencyType)
	assert.Equal(t, 4, c.Severity)
	assert.Equal(t, "high", c.ProviderSeverity)
	assert.Equal(t, "success", c.CallSuccessful)
	assert.Contains(t, c.Summary, "roof collapse")
	assert.Equal(t, "agent_01jwq6k3x9ffb8m2p4vcnr7d5s", c.AgentID)
	assert.Equal(t, contract.Provider, c.Source)
	assert.Equal(t, "received", c.Status)
	assert.True(t, strings.HasPrefix(c.Transcript, "agent: 911, what is the address"), c.Transcript)
	assert.Equal(t, 5, strings.Count(c.Transcript, "\n")+1, "one line per turn")
}

func TestCoordinates(t *testing.T) {
	tests := []struct {
		name           string
		lat, lon       any
		wantLat        float64
		needsGeocoding bool
	}{
		{"numbers", 36.5, -86.5, 36.5, false},
		{"numbers as text", "36.5", " -86.5 ", 36.5, false},
		{"missing", nil, nil, 0, true},
		{"latitude only", 36.5, nil, 0, true},
		{"out of range", 91.0, -86.5, 0, true},
		{"words", "near the river", "east", 0, true},
		{"null island means unknown", 0, 0, 0, true},
		{"booleans", true, false, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			values := map[string]any{"latitude": tt.lat, "longitude": tt.lon}
			d, err := Decode(delivery(t, values, nil))
			require.NoError(t, err, "a delivery is never refused for its coordinates")
			assert.Equal(t, tt.needsGeocoding, d.Call.NeedsGeocoding)
			assert.Equal(t, tt.wantLat, d.Call.Latitude)
			assert.Equal(t, "2200 Riverside Drive, Nashville, TN", d.Call.Location, "the location text is kept")
		})
	}
}

func TestNothingCollectedStillMakesACall(t *testing.T) {
	body := delivery(t, map[string]any{"location": nil, "latitude": nil, "longitude": nil, "emergency_type": nil, "severity": nil},
		func(data map[string]any) { delete(data, "metadata"); delete(data, "transcript") })
	d, err := Decode(body)
	require.NoError(t, err)
	c := d.Call
	assert.Equal(t, "unknown", c.Location)
	assert.True(t, c.NeedsGeocoding)
	assert.Equal(t, "other", c.EmergencyType)
	assert.Equal(t, MiddleSeverity, c.Severity)
	assert.Zero(t, c.CallDurationSecs)
}

func TestUnknownFieldsAndOddTypesAreAccepted(t *testing.T) {
	body := delivery(t, map[string]any{"severity": 5, "emergency_type": 42}, func(data map[string]any) {
		data["has_audio"] = true
		data["brand_new_field"] = map[string]any{"nested": []any{1, "two"}}
		data["metadata"].(map[string]any)["call_duration_secs"] = "174" // text, not a number
		data["transcript"] = []any{"not a turn", map[string]any{"role": "user"}, map[string]any{"role": "user", "message": "help"}}
	})
	var env map[string]any
	require.NoError(t, json.Unmarshal(body, &env))
	env["webhook_version"] = "2026-11"
	body, _ = json.Marshal(env)

	d, err := Decode(body)
	require.NoError(t, err)
	assert.Equal(t, 5, d.Call.Severity, "a number 1-5 is taken as it is")
	assert.Equal(t, "other", d.Call.EmergencyType)
	assert.Equal(t, "42", d.Call.ProviderEmergencyType)
	assert.Equal(t, 174, d.Call.CallDurationSecs, "a number written as text is read")
	assert.Equal(t, "user: help", d.Call.Transcript)
}

func TestConversationIDThatCannotBeAKey(t *testing.T) {
	for _, id := range []any{nil, "", "..", "has space", strings.Repeat("x", 129), []any{1}} {
		body := delivery(t, nil, func(data map[string]any) { data["conversation_id"] = id })
		d, err := Decode(body)
		require.NoError(t, err)
		assert.Regexp(t, `^elevenlabs-[0-9a-f]{24}$`, d.ConversationID, "id %v", id)
		again, _ := Decode(body)
		assert.Equal(t, d.ConversationID, again.ConversationID, "a redelivery derives the same key")
	}
}

func TestInitiationFailureBecomesAVisibleCall(t *testing.T) {
	raw, err := Fixture(contract.EventInitiationFailure, "conv_busy", at, 0)
	require.NoError(t, err)
	d, err := Decode(raw)
	require.NoError(t, err)
	c := d.Call
	require.NotNil(t, c)
	assert.Equal(t, contract.StatusNotConnected, c.Status)
	assert.Equal(t, "busy", c.FailureReason)
	assert.Equal(t, "+16155550142", c.Caller, "the number to call back")
	assert.Equal(t, "other", c.EmergencyType)
	assert.True(t, c.NeedsGeocoding)
	assert.Equal(t, at.Unix(), c.Timestamp)
}

func TestAudio(t *testing.T) {
	raw, err := Fixture(contract.EventAudio, "conv_a", at, 3000)
	require.NoError(t, err)
	d, err := Decode(raw)
	require.NoError(t, err)
	assert.Nil(t, d.Call)
	assert.Len(t, d.Audio, 3000)
	assert.Equal(t, []byte{0xFF, 0xFB}, d.Audio[:2])

	bad := []byte(`{"type":"post_call_audio","event_timestamp":1764300000,"data":{"conversation_id":"conv_a","full_audio":"%%%"}}`)
	d, err = Decode(bad)
	require.NoError(t, err)
	assert.Contains(t, d.AudioProblem, "not base64")
}

func TestUnknownTypeIsNotAnError(t *testing.T) {
	d, err := Decode([]byte(`{"type":"voice_removal_notice","event_timestamp":1764300000,"data":{"voice_id":"v"}}`))
	require.NoError(t, err)
	assert.False(t, d.Known())
	assert.Nil(t, d.Call)
}

func TestBrokenEnvelopeNamesTheField(t *testing.T) {
	tests := map[string]string{
		`[]`:                                   "body must be a JSON object",
		`{"event_timestamp":1,"data":{}}`:      "type: is required",
		`{"type":"post_call_audio","data":{}}`: "event_timestamp: is required",
		`{"type":"post_call_audio","event_timestamp":1}`:            "data: is required",
		`{"type":"post_call_audio","event_timestamp":1,"data":"x"}`: "data: must be a JSON object",
		`{"type":"x","event_timestamp":"soon","data":{}}`:           "event_timestamp: must be a whole number",
	}
	for body, want := range tests {
		_, err := Decode([]byte(body))
		require.Error(t, err, body)
		assert.Contains(t, err.Error(), want, body)
	}
}

func TestMappingTable(t *testing.T) {
	for word, want := range EmergencyTypeWords {
		got, known := MapEmergencyType(word)
		assert.True(t, known, word)
		assert.Equal(t, want, got, word)
		assert.Contains(t, contract.EmergencyTypes, got, "%s maps to one of our types", word)
	}
	for _, ours := range contract.EmergencyTypes {
		got, known := MapEmergencyType(ours)
		assert.True(t, known)
		assert.Equal(t, ours, got, "our own words map to themselves")
	}
	for word, want := range SeverityWords {
		got, known := MapSeverity(word)
		assert.True(t, known, word)
		assert.Equal(t, want, got, word)
		assert.True(t, got >= 1 && got <= 5)
	}
	cases := []struct {
		word     string
		typ      string
		severity int
	}{
		{"Medical Emergency", "medical", MiddleSeverity},
		{"house-fire", "fire", MiddleSeverity},
		{"  TORNADO ", "tornado", MiddleSeverity},
		{"alien invasion", "other", MiddleSeverity},
		{"", "other", MiddleSeverity},
		{"1", "other", 1},
		{"5", "other", 5},
		{"6", "other", MiddleSeverity},
		{"Life Threatening", "other", 5},
	}
	for _, c := range cases {
		typ, _ := MapEmergencyType(c.word)
		sev, _ := MapSeverity(c.word)
		assert.Equal(t, c.typ, typ, c.word)
		assert.Equal(t, c.severity, sev, c.word)
	}
}

func TestReadmeShowsTheMappingTable(t *testing.T) {
	readme, err := os.ReadFile("../../docs/provider.md")
	require.NoError(t, err)
	assert.Contains(t, string(readme), MappingTableMarkdown(), "docs/provider.md shows the table as the code has it; paste MappingTableMarkdown()")
}
