package contract

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Kind is a JSON value type a field accepts.
type Kind string

const (
	KindString  Kind = "string"
	KindInteger Kind = "integer"
	KindNumber  Kind = "number"
	KindObject  Kind = "object"
)

// Field is one property of a request body. The handler validates with it and
// the API Gateway models are generated from it, so the edge and the handler
// accept exactly the same bodies.
type Field struct {
	Name        string
	Kind        Kind
	Required    bool
	Description string
	MinLength   int    // strings; 0 = no minimum
	MaxLength   int    // strings; 0 = no maximum
	Pattern     string // strings; ECMA 262 regular expression, anchored
	Enum        []string
	Minimum     *float64 // numbers and integers
	Maximum     *float64
}

// Schema is the definition of one JSON request body: an object with known
// fields and, unless Open, nothing else.
type Schema struct {
	Title  string
	Fields []Field
	// Open schemas accept fields they do not list: a provider's envelope,
	// which grows over time, unlike our own strict record format.
	Open bool
	// MaxBytes bounds the body; 0 means MaxBodyBytes.
	MaxBytes int
}

// Limit is the largest body the schema accepts, in bytes.
func (s Schema) Limit() int {
	if s.MaxBytes > 0 {
		return s.MaxBytes
	}
	return MaxBodyBytes
}

func ptr(f float64) *float64 { return &f }

// Limits shared by the schema and the handler.
const (
	// MaxBodyBytes bounds a request body. It holds the largest body the
	// schemas accept, every character of every string written the longest
	// way JSON allows (a character outside the BMP as a \uXXXX\uXXXX pair,
	// 12 bytes): a transcript of 8,192 characters in any script fits
	// (TestMaxBodyHoldsTheLargestValidCall). 16 KB refused valid transcripts
	// with 413 (8,192 Devanagari characters are 24 KB of UTF-8).
	MaxBodyBytes = 128 << 10
	// MaxSimulateCalls bounds one /simulate request (the seed's example is 1000).
	MaxSimulateCalls = 10000
	// MaxCallDurationSecs is a day: no call lasts longer.
	MaxCallDurationSecs = 86400
)

// EmergencyTypes are the accepted emergency_type values.
var EmergencyTypes = []string{
	"earthquake", "fire", "flood", "hazmat", "hurricane", "medical", "other",
	"police", "rescue", "structural_collapse", "tornado", "wildfire",
}

// Statuses are the dispatch states of a call; the last marks a caller whose
// call never connected (the provider's call_initiation_failure), whom a
// dispatcher calls back.
var Statuses = []string{"received", "dispatched", "resolved", StatusNotConnected}

// StatusNotConnected is the status of a call that failed to connect.
const StatusNotConnected = "not_connected"

// CallSchema is the body of POST /calls: our own strict record format (our
// clients, the simulator). The provider posts to ProviderWebhook instead.
var CallSchema = Schema{
	Title: "EmergencyCall",
	Fields: []Field{
		{Name: "conversation_id", Kind: KindString, Required: true, MinLength: 1, MaxLength: 128,
			Pattern:     "^[A-Za-z0-9_.:-]*[A-Za-z0-9_:-][A-Za-z0-9_.:-]*$",
			Description: "The telephony provider's conversation id; idempotency key. Not only dots: '.' and '..' are not names a URL path keeps."},
		{Name: "timestamp", Kind: KindInteger, Required: true, Minimum: ptr(0), Maximum: ptr(4102444800),
			Description: "When the call started, Unix seconds."},
		{Name: "location", Kind: KindString, Required: true, MinLength: 1, MaxLength: 256,
			Description: "Caller's location as spoken or reverse-geocoded."},
		{Name: "latitude", Kind: KindNumber, Required: true, Minimum: ptr(-90), Maximum: ptr(90)},
		{Name: "longitude", Kind: KindNumber, Required: true, Minimum: ptr(-180), Maximum: ptr(180)},
		{Name: "emergency_type", Kind: KindString, Required: true, Enum: EmergencyTypes},
		{Name: "severity", Kind: KindInteger, Required: true, Minimum: ptr(1), Maximum: ptr(5),
			Description: "1 (minor) to 5 (life-threatening)."},
		{Name: "call_duration_secs", Kind: KindInteger, Required: true, Minimum: ptr(0), Maximum: ptr(MaxCallDurationSecs)},
		{Name: "status", Kind: KindString, Enum: Statuses, Description: "Defaults to received."},
		{Name: "transcript", Kind: KindString, MaxLength: 8192, Description: "Optional call transcript."},
	},
}

// Scenarios are the disaster scenarios /simulate can generate.
var Scenarios = []string{"california_earthquake", "gulf_hurricane", "nashville_tornado"}

// SimulateSchema is the body of POST /simulate.
var SimulateSchema = Schema{
	Title: "SimulateRequest",
	Fields: []Field{
		{Name: "scenario", Kind: KindString, Required: true, Enum: Scenarios},
		{Name: "num_calls", Kind: KindInteger, Required: true, Minimum: ptr(1), Maximum: ptr(MaxSimulateCalls)},
		{Name: "seed", Kind: KindInteger, Minimum: ptr(0), Maximum: ptr(math.MaxInt32), Description: "Makes the generated calls reproducible."},
	},
}

// Param is one query-string parameter.
type Param struct {
	Name     string
	Required bool
}

// QueryCallsParams are the query parameters of GET /calls.
var QueryCallsParams = []Param{
	{Name: "emergency_type", Required: true},
	{Name: "since"}, {Name: "until"}, {Name: "limit"}, {Name: "cursor"},
}

// JSONSchema renders the schema as a JSON Schema draft-04 document, the
// MaxLength is the named string field's maximum length in characters (0:
// none); a name the schema lacks is a programming error.
func (s Schema) MaxLength(name string) int {
	for _, f := range s.Fields {
		if f.Name == name {
			return f.MaxLength
		}
	}
	panic(fmt.Sprintf("schema %s has no field %q", s.Title, name))
}

// dialect API Gateway models use.
func (s Schema) JSONSchema() map[string]any {
	props := map[string]any{}
	var required []string
	for _, f := range s.Fields {
		p := map[string]any{"type": string(f.Kind)}
		if f.Description != "" {
			p["description"] = f.Description
		}
		if f.MinLength > 0 {
			p["minLength"] = f.MinLength
		}
		if f.MaxLength > 0 {
			p["maxLength"] = f.MaxLength
		}
		if f.Pattern != "" {
			p["pattern"] = f.Pattern
		}
		if len(f.Enum) > 0 {
			p["enum"] = f.Enum
		}
		if f.Minimum != nil {
			p["minimum"] = *f.Minimum
		}
		if f.Maximum != nil {
			p["maximum"] = *f.Maximum
		}
		props[f.Name] = p
		if f.Required {
			required = append(required, f.Name)
		}
	}
	doc := map[string]any{
		"$schema":              "http://json-schema.org/draft-04/schema#",
		"title":                s.Title,
		"type":                 "object",
		"properties":           props,
		"additionalProperties": s.Open,
	}
	if len(required) > 0 {
		doc["required"] = required
	}
	return doc
}

// JSONSchemaString is JSONSchema marshalled with sorted keys.
func (s Schema) JSONSchemaString() string {
	b, err := json.Marshal(s.JSONSchema())
	if err != nil {
		panic(err) // unreachable: only strings, numbers, slices and maps
	}
	return string(b)
}

// FieldError is one problem with a request: which field, and what is wrong.
type FieldError struct {
	Field   string `json:"field"`
	Problem string `json:"problem"`
}

func (e FieldError) Error() string {
	if e.Field == "" {
		return e.Problem
	}
	return e.Field + ": " + e.Problem
}

// ValidationError lists every problem found in a request.
type ValidationError struct {
	Problems []FieldError
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.Error()
	}
	return strings.Join(parts, "; ")
}

// Validate checks a JSON body against the schema and returns the decoded
// object (numbers as json.Number). Every problem is reported.
func (s Schema) Validate(body []byte) (map[string]any, error) {
	if len(body) > s.Limit() {
		return nil, &ValidationError{[]FieldError{{Problem: fmt.Sprintf("body is %d bytes; the limit is %d", len(body), s.Limit())}}}
	}
	if !s.Open {
		// encoding/json would store U+FFFD in place of bad bytes and lone
		// surrogates: refuse them, naming the field where it can be found.
		if fe, bad := alteredText(body); bad {
			return nil, &ValidationError{[]FieldError{fe}}
		}
		if !utf8.Valid(body) {
			return nil, &ValidationError{[]FieldError{{Problem: "body is not valid UTF-8"}}}
		}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var raw any
	if err := dec.Decode(&raw); err != nil {
		return nil, &ValidationError{[]FieldError{{Problem: "body is not valid JSON: " + jsonProblem(err)}}}
	}
	if dec.More() {
		return nil, &ValidationError{[]FieldError{{Problem: "body has data after the JSON object"}}}
	}
	obj, ok := raw.(map[string]any)
	if !ok {
		return nil, &ValidationError{[]FieldError{{Problem: "body must be a JSON object"}}}
	}
	var problems []FieldError
	known := map[string]bool{}
	for _, f := range s.Fields {
		known[f.Name] = true
		v, present := obj[f.Name]
		if !present || v == nil {
			if f.Required {
				problems = append(problems, FieldError{f.Name, "is required"})
			} else if present {
				problems = append(problems, FieldError{f.Name, "must not be null"})
			}
			continue
		}
		if p := f.check(v); p != "" {
			problems = append(problems, FieldError{f.Name, p})
		}
	}
	var unknown []string
	for k := range obj {
		if !known[k] && !s.Open {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	for _, k := range unknown {
		problems = append(problems, FieldError{k, "is not an accepted field"})
	}
	if len(problems) > 0 {
		return nil, &ValidationError{problems}
	}
	return obj, nil
}

// CheckField validates one value (a Go string, or a json.Number for numbers)
// against the named field; it returns the problem, or "" when the value is
// fine. Query and path parameters use it, so they follow the body's rules.
func (s Schema) CheckField(name string, v any) string {
	for _, f := range s.Fields {
		if f.Name == name {
			return f.check(v)
		}
	}
	return "is not a field of " + s.Title
}

func (f Field) check(v any) string {
	switch f.Kind {
	case KindString:
		s, ok := v.(string)
		if !ok {
			return "must be a string"
		}
		n := len([]rune(s))
		if f.MinLength > 0 && n < f.MinLength {
			return fmt.Sprintf("must be at least %d characters", f.MinLength)
		}
		if f.MaxLength > 0 && n > f.MaxLength {
			return fmt.Sprintf("must be at most %d characters", f.MaxLength)
		}
		if f.Pattern != "" && !patternFor(f.Pattern).MatchString(s) {
			return "has characters outside " + f.Pattern
		}
		if len(f.Enum) > 0 && !slices.Contains(f.Enum, s) {
			return fmt.Sprintf("must be one of %s", strings.Join(f.Enum, ", "))
		}
	case KindObject:
		if _, ok := v.(map[string]any); !ok {
			return "must be a JSON object"
		}
	case KindInteger, KindNumber:
		num, ok := v.(json.Number)
		if !ok {
			return "must be a " + map[Kind]string{KindInteger: "whole number", KindNumber: "number"}[f.Kind]
		}
		x, err := num.Float64()
		if err != nil || math.IsInf(x, 0) || math.IsNaN(x) {
			return "is not a representable number"
		}
		if f.Kind == KindInteger {
			if _, err := strconv.ParseInt(num.String(), 10, 64); err != nil {
				var ne *strconv.NumError
				if errors.As(err, &ne) && ne.Err == strconv.ErrRange {
					return outOfRange(f, x)
				}
				return "must be a whole number"
			}
		}
		if f.Minimum != nil && x < *f.Minimum {
			return fmt.Sprintf("must be at least %s", fmtNum(*f.Minimum))
		}
		if f.Maximum != nil && x > *f.Maximum {
			return fmt.Sprintf("must be at most %s", fmtNum(*f.Maximum))
		}
	}
	return ""
}

// outOfRange names the bound a number too large for 64 bits breaks.
func outOfRange(f Field, x float64) string {
	switch {
	case x > 0 && f.Maximum != nil:
		return fmt.Sprintf("must be at most %s", fmtNum(*f.Maximum))
	case x < 0 && f.Minimum != nil:
		return fmt.Sprintf("must be at least %s", fmtNum(*f.Minimum))
	}
	return "is too large for a whole number"
}

func fmtNum(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func jsonProblem(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%s at byte %d", se.Error(), se.Offset)
	}
	return err.Error()
}
