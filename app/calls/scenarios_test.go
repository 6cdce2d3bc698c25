package calls

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/access911/access911-infra/contract"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestScenarioDefsMatchTheSchemaEnum(t *testing.T) {
	var names []string
	for n := range ScenarioDefs {
		names = append(names, n)
	}
	slices.Sort(names)
	assert.Equal(t, contract.Scenarios, names)
}

func TestGenerateIsDeterministicAndValid(t *testing.T) {
	end := time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC)
	for _, sc := range contract.Scenarios {
		t.Run(sc, func(t *testing.T) {
			a, err := Generate(sc, 500, 7, end)
			require.NoError(t, err)
			b, err := Generate(sc, 500, 7, end)
			require.NoError(t, err)
			assert.Equal(t, a, b, "same seed, same calls")
			c, err := Generate(sc, 500, 8, end)
			require.NoError(t, err)
			assert.NotEqual(t, a, c, "another seed, other calls")

			def := ScenarioDefs[sc]
			ids := map[string]bool{}
			types := map[string]int{}
			for _, call := range a {
				body, err := json.Marshal(call)
				require.NoError(t, err)
				var m map[string]any
				require.NoError(t, json.Unmarshal(body, &m))
				delete(m, "region")
				delete(m, "received_at")
				body, _ = json.Marshal(m)
				_, err = ParseCall(body)
				require.NoError(t, err, "generated calls pass the webhook's own validation")
				assert.False(t, ids[call.ConversationID], "unique ids")
				ids[call.ConversationID] = true
				types[call.EmergencyType]++
				assert.InDelta(t, def.Lat, call.Latitude, def.RadiusKm/111+0.01)
				assert.LessOrEqual(t, call.Timestamp, end.Unix())
				assert.GreaterOrEqual(t, call.Timestamp, end.Add(-def.Window).Unix())
			}
			// The most likely type of the mix is the most frequent one.
			top := def.Types[0].Value
			for _, w := range def.Types {
				if w.Weight > def.Types[0].Weight {
					top = w.Value
				}
			}
			for typ, n := range types {
				assert.LessOrEqual(t, n, types[top], "%s more frequent than %s", typ, top)
			}
		})
	}
}

func TestGenerateBounds(t *testing.T) {
	_, err := Generate("nashville_tornado", contract.MaxSimulateCalls+1, 1, time.Now())
	assert.Error(t, err)
	_, err = Generate("atlantis_flood", 1, 1, time.Now())
	assert.Error(t, err)
}
