package elevenlabs

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/access911/access911-infra/app/calls"
	"github.com/access911/access911-infra/contract"
)

// Delivery is one provider delivery, decoded. Only the envelope can be
// wrong (the gateway checks it too); whatever data holds, a delivery of a
// known type becomes a record, and one of an unknown type is ignored.
type Delivery struct {
	Type           string
	EventTimestamp int64
	// ConversationID keys the record: the provider's, or when that is
	// missing or unusable as a key, one derived from the delivery.
	ConversationID string
	// Call is the record a transcription or an initiation failure becomes.
	Call *calls.Call
	// Audio is a post_call_audio's decoded audio; AudioProblem says why
	// there is none when full_audio was unusable.
	Audio        []byte
	AudioProblem string
}

// Known reports whether the delivery's type is one this service handles.
func (d Delivery) Known() bool {
	switch d.Type {
	case contract.EventTranscription, contract.EventAudio, contract.EventInitiationFailure:
		return true
	}
	return false
}

// Decode validates the envelope against contract.ProviderEnvelopeSchema and
// decodes the data of the types it knows. It fails only for a broken
// envelope (not JSON, no type, event_timestamp or data object).
func Decode(body []byte) (Delivery, error) {
	env, err := contract.ProviderEnvelopeSchema.Validate(body)
	if err != nil {
		return Delivery{}, err
	}
	ts, _ := env["event_timestamp"].(json.Number).Int64() // validated as an integer
	d := Delivery{Type: env["type"].(string), EventTimestamp: ts}
	data := object(env["data"].(map[string]any))
	d.ConversationID = conversationID(data)
	switch d.Type {
	case contract.EventTranscription:
		d.Call = transcriptionCall(d, data)
	case contract.EventInitiationFailure:
		d.Call = initiationFailureCall(d, data)
	case contract.EventAudio:
		d.Audio, d.AudioProblem = audio(data)
	}
	if d.Call != nil && d.ConversationID != data.str("conversation_id") {
		d.Call.ProviderConversationID = truncate(data.str("conversation_id"), 256)
	}
	return d, nil
}

// conversationID is the provider's id when it is a valid key, else a stable
// id derived from the data, so a redelivery still lands on the same key.
func conversationID(data object) string {
	id := data.str("conversation_id")
	if contract.CallSchema.CheckField(contract.TableHashKey, id) == "" && strings.Trim(id, ".") != "" {
		return id
	}
	canonical, _ := json.Marshal(map[string]any(data)) // map keys sorted: stable
	sum := sha256.Sum256(canonical)
	return contract.Provider + "-" + hex.EncodeToString(sum[:12])
}

func baseCall(d Delivery, data object) *calls.Call {
	return &calls.Call{
		ConversationID: d.ConversationID,
		Timestamp:      d.EventTimestamp,
		Source:         contract.Provider,
		AgentID:        truncate(data.str("agent_id"), 128),
		Status:         contract.Statuses[0],
	}
}

// transcriptionCall maps a post_call_transcription to a record: the answers
// the agent collected (analysis.data_collection_results.<field>.value), its
// summary and verdict, the call's start and duration, and the transcript.
func transcriptionCall(d Delivery, data object) *calls.Call {
	c := baseCall(d, data)
	meta := data.obj("metadata")
	analysis := data.obj("analysis")
	collected := analysis.obj("data_collection_results")
	value := func(name string) any { return collected.obj(name)["value"] }

	c.StartedAt, _ = meta.int("start_time_unix_secs")
	if n, ok := meta.int("call_duration_secs"); ok && n >= 0 && n <= contract.MaxCallDurationSecs {
		c.CallDurationSecs = int(n)
	}
	c.Summary = truncate(analysis.str("transcript_summary"), 4096)
	c.CallSuccessful = truncate(analysis.str("call_successful"), 32)
	c.Transcript = transcriptText(data.list("transcript"))

	c.ProviderEmergencyType = truncate(text(value("emergency_type")), 128)
	c.EmergencyType, _ = MapEmergencyType(c.ProviderEmergencyType)
	c.ProviderSeverity = truncate(text(value("severity")), 64)
	c.Severity, _ = MapSeverity(c.ProviderSeverity)

	c.Location = truncate(text(value("location")), 256)
	lat, latOK := number(value("latitude"))
	lon, lonOK := number(value("longitude"))
	if latOK && lonOK && lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180 && (lat != 0 || lon != 0) {
		c.Latitude, c.Longitude = lat, lon
	} else {
		c.NeedsGeocoding = true
	}
	if c.Location == "" {
		c.Location = "unknown"
	}
	return c
}

// initiationFailureCall maps a call_initiation_failure to a record a
// dispatcher sees: a caller who never got through, whom someone calls back.
func initiationFailureCall(d Delivery, data object) *calls.Call {
	c := baseCall(d, data)
	c.Status = contract.StatusNotConnected
	c.FailureReason = truncate(data.str("failure_reason"), 256)
	c.EmergencyType = "other"
	c.Severity = MiddleSeverity
	c.Location = "unknown (the call did not connect)"
	c.NeedsGeocoding = true
	body := data.obj("metadata").obj("body")
	for _, k := range []string{"from_number", "From", "from", "caller_id"} {
		if s := body.str(k); s != "" {
			c.Caller = truncate(s, 64)
			break
		}
	}
	return c
}

func audio(data object) ([]byte, string) {
	s := data.str("full_audio")
	if s == "" {
		return nil, "full_audio is missing"
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, "full_audio is not base64: " + err.Error()
	}
	return b, ""
}

// transcriptText renders the turns as "role: message" lines, at most as
// long as a record's transcript may be; the archive keeps every turn.
func transcriptText(turns []any) string {
	var b strings.Builder
	for _, t := range turns {
		turn, ok := t.(map[string]any)
		if !ok {
			continue
		}
		msg := object(turn).str("message")
		if msg == "" {
			continue
		}
		fmt.Fprintf(&b, "%s: %s\n", object(turn).str("role"), msg)
	}
	return truncate(strings.TrimSpace(b.String()), maxTranscriptRunes)
}

var maxTranscriptRunes = contract.CallSchema.MaxLength("transcript")

// object reads a decoded JSON object leniently: a missing or mistyped
// member reads as empty, never as an error.
type object map[string]any

func (o object) obj(k string) object {
	m, _ := o[k].(map[string]any)
	return m
}

func (o object) str(k string) string { return text(o[k]) }

func (o object) list(k string) []any {
	l, _ := o[k].([]any)
	return l
}

func (o object) int(k string) (int64, bool) {
	f, ok := number(o[k])
	if !ok || f != float64(int64(f)) {
		return 0, false
	}
	return int64(f), true
}

// text is a string value, or a number or boolean written as text.
func text(v any) string {
	switch x := v.(type) {
	case string:
		return strings.TrimSpace(x)
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	}
	return ""
}

// number is a JSON number, or a string holding one.
func number(v any) (float64, bool) {
	var s string
	switch x := v.(type) {
	case json.Number:
		s = x.String()
	case string:
		s = strings.TrimSpace(x)
	default:
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil
}

func truncate(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= n {
		return s
	}
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
