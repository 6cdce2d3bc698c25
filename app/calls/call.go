package calls

import (
	"encoding/json"
	"fmt"

	"github.com/access911/access911-infra/contract"
)

// Call is one emergency call as stored in the calls table.
type Call struct {
	ConversationID   string  `json:"conversation_id" dynamodbav:"conversation_id"`
	Timestamp        int64   `json:"timestamp" dynamodbav:"timestamp"`
	Location         string  `json:"location" dynamodbav:"location"`
	Latitude         float64 `json:"latitude" dynamodbav:"latitude"`
	Longitude        float64 `json:"longitude" dynamodbav:"longitude"`
	EmergencyType    string  `json:"emergency_type" dynamodbav:"emergency_type"`
	Severity         int     `json:"severity" dynamodbav:"severity"`
	CallDurationSecs int     `json:"call_duration_secs" dynamodbav:"call_duration_secs"`
	Status           string  `json:"status" dynamodbav:"status"`
	Transcript       string  `json:"transcript,omitempty" dynamodbav:"transcript,omitempty"`
	// Set on calls the telephony provider delivered (POST /webhooks/...):
	// who took the call, what the agent concluded, the provider's own words
	// for type and severity, and what still needs a dispatcher's attention.
	Source                 string `json:"source,omitempty" dynamodbav:"source,omitempty"`
	AgentID                string `json:"agent_id,omitempty" dynamodbav:"agent_id,omitempty"`
	StartedAt              int64  `json:"started_at,omitempty" dynamodbav:"started_at,omitempty"`
	Summary                string `json:"summary,omitempty" dynamodbav:"summary,omitempty"`
	CallSuccessful         string `json:"call_successful,omitempty" dynamodbav:"call_successful,omitempty"`
	ProviderEmergencyType  string `json:"provider_emergency_type,omitempty" dynamodbav:"provider_emergency_type,omitempty"`
	ProviderSeverity       string `json:"provider_severity,omitempty" dynamodbav:"provider_severity,omitempty"`
	ProviderConversationID string `json:"provider_conversation_id,omitempty" dynamodbav:"provider_conversation_id,omitempty"`
	// NeedsGeocoding: the caller gave no usable coordinates; latitude and
	// longitude are 0 and location holds what the caller said.
	NeedsGeocoding bool   `json:"needs_geocoding,omitempty" dynamodbav:"needs_geocoding,omitempty"`
	FailureReason  string `json:"failure_reason,omitempty" dynamodbav:"failure_reason,omitempty"`
	Caller         string `json:"caller,omitempty" dynamodbav:"caller,omitempty"`
	// AudioKey is the call's audio in the archive bucket, once delivered.
	AudioKey string `json:"audio_key,omitempty" dynamodbav:"audio_key,omitempty"`
	// Set by the service, not by the caller.
	Region     string `json:"region" dynamodbav:"region"`
	ReceivedAt int64  `json:"received_at" dynamodbav:"received_at"`
	ExpiresAt  int64  `json:"expires_at,omitempty" dynamodbav:"expires_at,omitempty"`
}

// parse validates body against schema, then decodes it into a T.
func parse[T any](schema contract.Schema, body []byte) (T, error) {
	var v T
	if _, err := schema.Validate(body); err != nil {
		return v, err
	}
	if err := json.Unmarshal(body, &v); err != nil {
		// Unreachable after validation; kept as a guard.
		return v, fmt.Errorf("decode %s: %w", schema.Title, err)
	}
	return v, nil
}

// ParseCall validates a POST /calls body against CallSchema and decodes it.
func ParseCall(body []byte) (Call, error) {
	c, err := parse[Call](contract.CallSchema, body)
	if err != nil {
		return Call{}, err
	}
	if c.Status == "" {
		c.Status = contract.Statuses[0]
	}
	return c, nil
}

// SimulateRequest is the body of POST /simulate.
type SimulateRequest struct {
	Scenario string `json:"scenario"`
	NumCalls int    `json:"num_calls"`
	Seed     *int64 `json:"seed,omitempty"`
}

// ParseSimulate validates a POST /simulate body and decodes it.
func ParseSimulate(body []byte) (SimulateRequest, error) {
	return parse[SimulateRequest](contract.SimulateSchema, body)
}
