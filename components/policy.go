package components

import "encoding/json"

// PolicyDocument is an IAM or resource policy. Policies are built as Go values
// and marshalled, so tests can read them back and check every statement.
type PolicyDocument struct {
	Version   string            `json:"Version"`
	Statement []PolicyStatement `json:"Statement"`
}

// PolicyStatement is one statement of a PolicyDocument.
type PolicyStatement struct {
	Sid       string         `json:"Sid,omitempty"`
	Effect    string         `json:"Effect"`
	Principal any            `json:"Principal,omitempty"`
	Action    []string       `json:"Action"`
	Resource  []string       `json:"Resource,omitempty"`
	Condition map[string]any `json:"Condition,omitempty"`
}

// policyVersion is the current IAM policy language version.
const policyVersion = "2012-10-17"

// JSON renders the document; it cannot fail for these plain types.
func (p PolicyDocument) JSON() string {
	b, err := json.Marshal(p)
	if err != nil {
		panic(err) // unreachable: only strings, slices and maps of them
	}
	return string(b)
}

// assumeRolePolicy lets one AWS service assume a role.
func assumeRolePolicy(service string) string {
	return PolicyDocument{Version: policyVersion, Statement: []PolicyStatement{{
		Effect:    "Allow",
		Principal: map[string]string{"Service": service},
		Action:    []string{"sts:AssumeRole"},
	}}}.JSON()
}
