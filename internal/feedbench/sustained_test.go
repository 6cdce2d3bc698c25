package feedbench

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/access911/access911-infra/app/calls"
	"github.com/access911/access911-infra/app/feed"
	"github.com/access911/access911-infra/app/feed/registry"
	"github.com/access911/access911-infra/contract"
)

// The sustained bench's score is what issue figures rest on: each
// dispatcher's receipts are counted against the calls of its area and
// types, so a missing, duplicated or misrouted delivery shows in the line.
func TestSustainedScoreCountsEveryKindOfMistake(t *testing.T) {
	nashville := calls.Call{ConversationID: "a", Latitude: 36.16, Longitude: -86.78, EmergencyType: "tornado"}
	flood := calls.Call{ConversationID: "b", Latitude: 36.16, Longitude: -86.78, EmergencyType: "flood"}
	elsewhere := calls.Call{ConversationID: "c", Latitude: 29.95, Longitude: -90.07, EmergencyType: "tornado"}
	area := registry.AreaOf(nashville)
	require.NotEqual(t, area, registry.AreaOf(elsewhere))
	cs := []calls.Call{nashville, flood, elsewhere}
	t0 := time.Unix(1_800_000_000, 0)
	sentAt := map[string]time.Time{"a": t0, "b": t0, "c": t0}
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

	all := &benchClient{sub: feed.SubscribeMessage{Areas: []string{area}},
		got: map[string][]time.Time{"a": {at(100), at(150)}, "b": {at(300)}}, swarmAt: map[string]time.Time{"a": at(60), "b": at(200)}}
	tornadoes := &benchClient{sub: feed.SubscribeMessage{Areas: []string{area}, EmergencyTypes: []string{"tornado"}},
		got: map[string][]time.Time{"b": {at(400)}, "c": {at(500)}}, swarmAt: map[string]time.Time{}} // a missing; b and c not its own
	supervisor := &benchClient{sub: feed.SubscribeMessage{}, got: map[string][]time.Time{}, swarmAt: map[string]time.Time{},
		summaries: []time.Time{at(1000), at(4000)}}

	res := SustainedResult{SendTime: 5 * time.Second}
	score(&res, []*benchClient{all, tornadoes, supervisor}, cs, sentAt, t0)

	assert.Equal(t, 3, res.Expected, "all wants a and b; tornadoes wants a")
	assert.Equal(t, 2, res.Delivered)
	assert.Equal(t, 1, res.Missing)
	assert.Equal(t, 1, res.Dupes, "a arrived twice at all")
	assert.Equal(t, 2, res.Routed, "b (a flood) and c (another area) reached tornadoes")
	assert.Equal(t, 100*time.Millisecond, res.P50, "first receipts only: 100 and 300 ms")
	assert.Equal(t, 300*time.Millisecond, res.P99)
	assert.Equal(t, 300*time.Millisecond, res.LastCall, "b is the last call anyone wants (c is in no one's area)")
	assert.Equal(t, 60*time.Millisecond, res.ToSwarm, "the median of 60 and 200 ms (nearest rank)")
	assert.Equal(t, 40*time.Millisecond, res.FromSwarm, "the median of 40 and 100 ms")
	assert.Equal(t, 3*time.Second, res.SummaryGap, "between the summaries at 1 s and 4 s")
}

func TestLongestGapCountsTheEdges(t *testing.T) {
	from := time.Unix(0, 0)
	to := from.Add(10 * time.Second)
	s := func(n int) time.Time { return from.Add(time.Duration(n) * time.Second) }
	for _, tc := range []struct {
		name string
		at   []time.Time
		want time.Duration
	}{
		{"none", nil, 10 * time.Second},
		{"before the first", []time.Time{s(6), s(8)}, 6 * time.Second},
		{"after the last", []time.Time{s(1), s(2)}, 8 * time.Second},
		{"between", []time.Time{s(1), s(5), s(9)}, 4 * time.Second},
		{"outside the window ignored", []time.Time{s(-5), s(5), s(15)}, 5 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, longestGap(tc.at, from, to))
		})
	}
}

func TestBenchCallsAreUniqueAndBusiestAreasComeFirst(t *testing.T) {
	cs, err := benchCalls(2*contract.MaxSimulateCalls+7, 42)
	require.NoError(t, err)
	require.Len(t, cs, 2*contract.MaxSimulateCalls+7)
	ids := map[string]bool{}
	for _, c := range cs {
		assert.False(t, ids[c.ConversationID], "duplicate id %s", c.ConversationID)
		ids[c.ConversationID] = true
	}
	areas := busiestAreas(cs, 3)
	require.Len(t, areas, 3)
	count := func(a string) (n int) {
		for _, c := range cs {
			if registry.AreaOf(c) == a {
				n++
			}
		}
		return n
	}
	assert.GreaterOrEqual(t, count(areas[0]), count(areas[1]))
	assert.GreaterOrEqual(t, count(areas[1]), count(areas[2]))
}

func TestPercentileIsNearestRank(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	assert.Equal(t, 50*time.Millisecond, Percentile(d, .5))
	assert.Equal(t, 99*time.Millisecond, Percentile(d, .99))
	assert.Equal(t, 100*time.Millisecond, Percentile(d, 1))
	assert.Equal(t, time.Millisecond, Percentile(d, 0))
	assert.Equal(t, time.Duration(0), Percentile(nil, .5))
}
