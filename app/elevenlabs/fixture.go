package elevenlabs

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	"github.com/access911/access911-infra/contract"
)

// Fixture is a realistic delivery of the given type in the provider's shape
// (our own, modelled on ElevenLabs' post-call webhook documentation), for
// `access911 webhook-send` and the tests. audioBytes sizes a post_call_audio.
func Fixture(eventType, conversationID string, at time.Time, audioBytes int) ([]byte, error) {
	var data map[string]any
	switch eventType {
	case contract.EventTranscription:
		data = transcriptionFixture(conversationID, at)
	case contract.EventAudio:
		data = map[string]any{
			"agent_id": fixtureAgent, "conversation_id": conversationID,
			"full_audio": base64.StdEncoding.EncodeToString(fakeMP3(audioBytes)),
		}
	case contract.EventInitiationFailure:
		data = map[string]any{
			"agent_id": fixtureAgent, "conversation_id": conversationID, "failure_reason": "busy",
			"metadata": map[string]any{"type": "twilio", "body": map[string]any{
				"From": "+16155550142", "To": "+16155550911", "CallStatus": "busy", "Direction": "inbound",
			}},
		}
	default:
		return nil, fmt.Errorf("no fixture for event type %q (want %s, %s or %s)", eventType,
			contract.EventTranscription, contract.EventAudio, contract.EventInitiationFailure)
	}
	return json.Marshal(map[string]any{"type": eventType, "event_timestamp": at.Unix(), "data": data})
}

const fixtureAgent = "agent_01jwq6k3x9ffb8m2p4vcnr7d5s"

func transcriptionFixture(id string, at time.Time) map[string]any {
	start := at.Add(-3 * time.Minute).Unix()
	turn := func(role, msg string, secs int) map[string]any {
		return map[string]any{"role": role, "message": msg, "time_in_call_secs": secs, "tool_calls": []any{}}
	}
	collected := func(name string, value any, why string) map[string]any {
		return map[string]any{"data_collection_id": name, "value": value, "json_schema": map[string]any{"type": "string"}, "rationale": why}
	}
	return map[string]any{
		"agent_id": fixtureAgent, "conversation_id": id, "status": "done", "user_id": nil,
		"has_audio": true, "has_user_audio": true, "has_response_audio": true,
		"transcript": []any{
			turn("agent", "911, what is the address of your emergency?", 0),
			turn("user", "2200 Riverside Drive, East Nashville. The roof came down on my neighbour.", 4),
			turn("agent", "Is your neighbour breathing?", 11),
			turn("user", "Yes, but he is bleeding from the head and cannot move his leg.", 14),
			turn("agent", "Help is on the way. Do not move him.", 21),
		},
		"metadata": map[string]any{
			"start_time_unix_secs": start, "call_duration_secs": 174, "cost": 412,
			"termination_reason": "end_call tool was called.",
			"phone_call":         map[string]any{"type": "twilio", "external_number": "+16155550142", "agent_number": "+16155550911"},
		},
		"analysis": map[string]any{
			"call_successful":    "success",
			"transcript_summary": "Caller reports a roof collapse after the tornado; a neighbour has a head wound and a leg injury.",
			"data_collection_results": map[string]any{
				"location":       collected("location", "2200 Riverside Drive, Nashville, TN", "caller gave the address"),
				"latitude":       collected("latitude", 36.1872, "geocoded from the address"),
				"longitude":      collected("longitude", -86.7409, "geocoded from the address"),
				"emergency_type": collected("emergency_type", "medical_emergency", "injured person"),
				"severity":       collected("severity", "high", "head wound, cannot move"),
			},
			"evaluation_criteria_results": map[string]any{},
		},
		"conversation_initiation_client_data": map[string]any{"dynamic_variables": map[string]any{}},
	}
}

// fakeMP3 is n bytes that start like an MP3 frame (the content is not audio).
func fakeMP3(n int) []byte {
	b := make([]byte, n)
	copy(b, []byte{0xFF, 0xFB, 0x90, 0x64})
	for i := 4; i < n; i++ {
		b[i] = byte(i * 31)
	}
	return b
}
