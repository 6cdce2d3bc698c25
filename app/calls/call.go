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
