package calls

import (
	"encoding/json"
	"fmt"
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

// ParseCall validates a POST /calls body against CallSchema and decodes it.
func ParseCall(body []byte) (Call, error) {
	if _, err := CallSchema.Validate(body); err != nil {
		return Call{}, err
	}
	var c Call
	if err := json.Unmarshal(body, &c); err != nil {
		// Unreachable after validation; kept as a guard.
		return Call{}, fmt.Errorf("decode call: %w", err)
	}
	if c.Status == "" {
		c.Status = Statuses[0]
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
	if _, err := SimulateSchema.Validate(body); err != nil {
		return SimulateRequest{}, err
	}
	var r SimulateRequest
	if err := json.Unmarshal(body, &r); err != nil {
		return SimulateRequest{}, fmt.Errorf("decode simulate request: %w", err)
	}
	return r, nil
}
