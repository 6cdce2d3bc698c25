package calls

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/access911/access911-infra/contract"
)

// FuzzParseCall: any body either parses into a call that survives a round
// trip through JSON and validation unchanged, or is refused with a
// ValidationError that names at least one problem. It never panics.
func FuzzParseCall(f *testing.F) {
	f.Add([]byte(goodCall))
	f.Add([]byte(`{}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"conversation_id":"a","timestamp":1e3,"location":"x","latitude":-90,"longitude":180,"emergency_type":"fire","severity":5,"call_duration_secs":0,"status":"resolved","transcript":"\u00e9"}`))
	f.Add([]byte(`{"timestamp":9223372036854775808}`))
	f.Add([]byte(`{"latitude":"NaN"}`))
	for _, tc := range badCalls {
		if tc.name != "oversized body" {
			f.Add(tc.body(&testing.T{}))
		}
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		c, err := ParseCall(body)
		if err != nil {
			var ve *contract.ValidationError
			if !errors.As(err, &ve) || len(ve.Problems) == 0 {
				t.Fatalf("error is not a contract.ValidationError with problems: %v", err)
			}
			for _, p := range ve.Problems {
				if p.Problem == "" {
					t.Fatalf("empty problem in %v", ve.Problems)
				}
			}
			return
		}
		b, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		delete(m, "region")
		delete(m, "received_at")
		b, _ = json.Marshal(m)
		again, err := ParseCall(b)
		if err != nil {
			t.Fatalf("accepted call does not re-validate: %v\nfirst: %s\nagain: %s", err, body, b)
		}
		if again != c {
			t.Fatalf("round trip changed the call:\n%+v\n%+v", c, again)
		}
	})
}
