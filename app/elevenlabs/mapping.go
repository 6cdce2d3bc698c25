package elevenlabs

import (
	"slices"
	"strconv"
	"strings"

	"github.com/access911/access911-infra/contract"
)

// The mapping from the words the voice agent collects to the call record.
// It is the one table of it: the README's "Provider integration" section
// prints it (TestReadmeShowsTheMappingTable keeps them equal). A word not
// in it becomes "other" / MiddleSeverity, and the record keeps the provider's
// own words (provider_emergency_type, provider_severity).

// EmergencyTypeWords maps a provider emergency_type (lower case, spaces and
// hyphens as underscores) to one of contract.EmergencyTypes. Each of our own
// types also maps to itself.
var EmergencyTypeWords = map[string]string{
	"medical_emergency": "medical", "cardiac_arrest": "medical", "heart_attack": "medical",
	"injury": "medical", "overdose": "medical", "stroke": "medical",
	"house_fire": "fire", "structure_fire": "fire", "vehicle_fire": "fire",
	"brush_fire": "wildfire", "forest_fire": "wildfire",
	"flooding": "flood", "flash_flood": "flood",
	"tropical_storm": "hurricane",
	"gas_leak":       "hazmat", "chemical_spill": "hazmat", "hazardous_materials": "hazmat",
	"crime": "police", "assault": "police", "robbery": "police", "break_in": "police", "violence": "police",
	"water_rescue": "rescue", "trapped": "rescue", "search_and_rescue": "rescue",
	"building_collapse": "structural_collapse", "collapse": "structural_collapse",
}

// SeverityWords maps a provider severity word to 1 (minor) - 5
// (life-threatening). A number 1-5, bare or as text, is taken as it is.
var SeverityWords = map[string]int{
	"minimal": 1, "non_emergency": 1,
	"low": 2, "minor": 2,
	"medium": 3, "moderate": 3,
	"high": 4, "severe": 4, "urgent": 4, "serious": 4,
	"critical": 5, "life_threatening": 5, "extreme": 5,
}

// MiddleSeverity is the severity of a word the table does not know.
const MiddleSeverity = 3

func normalize(word string) string {
	w := strings.ToLower(strings.TrimSpace(word))
	return strings.NewReplacer(" ", "_", "-", "_").Replace(w)
}

// MapEmergencyType returns our emergency type for a provider word, and
// whether the table knew it.
func MapEmergencyType(word string) (string, bool) {
	w := normalize(word)
	if t, ok := EmergencyTypeWords[w]; ok {
		return t, true
	}
	if contract.CallSchema.CheckField(contract.IndexHashKey, w) == "" {
		return w, true
	}
	return "other", false
}

// MapSeverity returns our 1-5 severity for a provider word or number, and
// whether it was understood.
func MapSeverity(word string) (int, bool) {
	w := normalize(word)
	if n, ok := SeverityWords[w]; ok {
		return n, true
	}
	if n, err := strconv.Atoi(w); err == nil && n >= 1 && n <= 5 {
		return n, true
	}
	return MiddleSeverity, false
}

// MappingTableMarkdown renders the two tables for docs/provider.md.
func MappingTableMarkdown() string {
	var b strings.Builder
	b.WriteString("| provider emergency_type | record emergency_type |\n|---|---|\n")
	byType := map[string][]string{}
	for w, t := range EmergencyTypeWords {
		byType[t] = append(byType[t], w)
	}
	for _, t := range contract.EmergencyTypes {
		words := append([]string{t}, byType[t]...)
		slices.Sort(words[1:])
		b.WriteString("| " + strings.Join(words, ", ") + " | " + t + " |\n")
	}
	b.WriteString("| anything else | other (the word kept in provider_emergency_type) |\n\n")
	b.WriteString("| provider severity | record severity |\n|---|---|\n")
	bySeverity := map[int][]string{}
	for w, n := range SeverityWords {
		bySeverity[n] = append(bySeverity[n], w)
	}
	for n := 1; n <= 5; n++ {
		words := append([]string{strconv.Itoa(n)}, bySeverity[n]...)
		slices.Sort(words[1:])
		b.WriteString("| " + strings.Join(words, ", ") + " | " + strconv.Itoa(n) + " |\n")
	}
	b.WriteString("| anything else | " + strconv.Itoa(MiddleSeverity) + " (the word kept in provider_severity) |\n")
	return b.String()
}
