package feed

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/access911/access911-infra/app/feed/registry"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/access911/access911-infra/app/calls"
	"github.com/access911/access911-infra/contract"
)

// Calls in two Nashville cells, one in New Orleans, and one the caller
// could not place.
var (
	downtown   = calls.Call{ConversationID: "c-downtown", Timestamp: 1, Latitude: 36.16, Longitude: -86.78, EmergencyType: "fire", Severity: 3}
	hermitage  = calls.Call{ConversationID: "c-hermitage", Timestamp: 2, Latitude: 36.1499, Longitude: -86.8222, EmergencyType: "flood", Severity: 5}
	neworleans = calls.Call{ConversationID: "c-nola", Timestamp: 3, Latitude: 29.95, Longitude: -90.07, EmergencyType: "fire", Severity: 2}
	unplaced   = calls.Call{ConversationID: "c-unplaced", Timestamp: 4, NeedsGeocoding: true, Location: "the old mill", EmergencyType: "medical", Severity: 4}
)

func TestAreaOfACall(t *testing.T) {
	for _, tc := range []struct {
		call calls.Call
		want string
	}{
		{downtown, "dn6m"},
		{hermitage, "dn6m"}, // the same 39 x 20 km cell
		{neworleans, "9vrf"},
		{unplaced, contract.FeedUnlocatedArea},
		{calls.Call{Latitude: 0, Longitude: 0}, contract.FeedUnlocatedArea},
		{calls.Call{Latitude: 91, Longitude: 10}, contract.FeedUnlocatedArea},
	} {
		assert.Equal(t, tc.want, registry.AreaOf(tc.call), "%+v", tc.call)
		assert.True(t, registry.ValidArea(tc.want))
	}
	for _, bad := range []string{"", "dn6", "dn6mm", "DN6M", "dn6a", "everywhere"} {
		assert.False(t, registry.ValidArea(bad), bad)
	}
}

func TestAreaPartitionsAreStableAndDistinct(t *testing.T) {
	ps := registry.AreaPartitions("dn6m", 2500, 4)
	assert.Equal(t, ps, registry.AreaPartitions("dn6m", 2500, 4), "every function derives the same")
	assert.Len(t, ps, 4)
	for _, p := range ps {
		assert.True(t, p >= 1 && p <= 2500)
	}
	assert.Len(t, slices.Compact(slices.Sorted(slices.Values(ps))), 4, "distinct")
	assert.Equal(t, []int{1, 2, 3}, slices.Sorted(slices.Values(registry.AreaPartitions("dn6m", 3, 10))), "no more than there are")
	assert.NotEqual(t, ps, registry.SupervisorPartitions(2500, 4))
}

// A batch becomes one message per partition of each call's area with that
// area's calls, and one per supervisors' partition with the whole batch:
// not one message per call, not one per partition of the region.
func TestFanoutSendsEachAreaToItsPartitionsOnly(t *testing.T) {
	batch := []calls.Call{downtown, neworleans, hermitage, unplaced}
	l := registry.Layout{Partitions: 2500, PerArea: 4, Queues: DefaultQueues}
	out := Fanout(batch, l)
	require.Len(t, out, 10)
	byArea := map[string]map[int][]string{}
	total := 0
	for q, msgs := range out {
		for _, m := range msgs {
			total++
			assert.Equal(t, q, (m.Partition-1)%10, "partition p on queue (p-1) mod queues")
			area := "*"
			if !m.Supervisors {
				area = registry.AreaOf(m.Calls[0])
			}
			if byArea[area] == nil {
				byArea[area] = map[int][]string{}
			}
			for _, c := range m.Calls {
				if !m.Supervisors {
					assert.Equal(t, area, registry.AreaOf(c), "a message carries one area's calls")
				}
				byArea[area][m.Partition] = append(byArea[area][m.Partition], c.ConversationID)
			}
		}
	}
	assert.Equal(t, 4*4, total, "3 areas and the supervisors, 4 partitions each")
	for area, want := range map[string][]string{"dn6m": {"c-downtown", "c-hermitage"}, "9vrf": {"c-nola"},
		contract.FeedUnlocatedArea: {"c-unplaced"}, "*": {"c-downtown", "c-nola", "c-hermitage", "c-unplaced"}} {
		parts := registry.AreaPartitions(area, 2500, 4)
		if area == "*" {
			parts = registry.SupervisorPartitions(2500, 4)
		}
		require.Len(t, byArea[area], 4, area)
		for _, p := range parts {
			assert.Equal(t, want, byArea[area][p], "%s partition %d", area, p)
		}
	}
	assert.Empty(t, slices.Concat(Fanout(nil, l)...), "an empty batch sends nothing")
}

// A batch too large for one SQS message is split, nothing lost.
func TestFanoutSplitsBelowSQSMessageSize(t *testing.T) {
	var batch []calls.Call
	for i := range 400 {
		c := downtown
		c.ConversationID = fmt.Sprintf("big-%d", i)
		c.Transcript = strings.Repeat("caller: the water is rising. ", 60) // ~1.7 KB each
		batch = append(batch, c)
	}
	out := Fanout(batch, registry.Layout{Partitions: 10, PerArea: 1, Queues: 1})
	seen := map[string]int{}
	messages := 0
	for _, m := range out[0] {
		if m.Supervisors {
			continue
		}
		messages++
		b, err := json.Marshal(m)
		require.NoError(t, err)
		assert.LessOrEqual(t, len(b), contract.FeedMaxMessageBytes+1024, "under SQS's 256 KB")
		for _, c := range m.Calls {
			seen[c.ConversationID]++
		}
	}
	assert.Greater(t, messages, 1, "split")
	assert.Len(t, seen, 400)
	for id, n := range seen {
		assert.Equal(t, 1, n, id)
	}
}

// fakes of our own interfaces (the real ones are DynamoDB and API Gateway).
type partitionMembers map[int][]registry.Connection

func (m partitionMembers) Members(_ context.Context, p int) ([]registry.Connection, error) {
	return m[p], nil
}

type poster struct {
	mu     sync.Mutex
	got    map[string]int
	frames map[string][][]byte
	gone   map[string]bool
	fail   map[string]bool
}

func newPoster() *poster {
	return &poster{got: map[string]int{}, frames: map[string][][]byte{}, gone: map[string]bool{}, fail: map[string]bool{}}
}

func (p *poster) Post(_ context.Context, id string, data []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.gone[id]:
		return registry.ErrGone
	case p.fail[id]:
		return errors.New("throttled")
	}
	p.got[id]++
	p.frames[id] = append(p.frames[id], data)
	return nil
}

// callsOf are the conversation ids of the calls frames a connection got.
func (p *poster) callsOf(t *testing.T, id string) []string {
	t.Helper()
	var out []string
	for _, data := range p.frames[id] {
		var f CallsFrame
		require.NoError(t, json.Unmarshal(data, &f))
		require.Equal(t, contract.FeedFrameCalls, f.Type)
		for _, c := range f.Calls {
			out = append(out, c.ConversationID)
		}
	}
	return out
}

type forgetter struct {
	mu   sync.Mutex
	gone []string
}

func (f *forgetter) Disconnect(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gone = append(f.gone, id)
	return nil
}

// Each connection of a partition gets ONE frame with the calls of its area
// and types; a membership of another area sharing the partition, a
// dispatcher's own row and a supervisor get nothing of an area's message.
func TestDeliverFramesByAreaAndTypeForgetsTheGone(t *testing.T) {
	m := partitionMembers{7: {
		{ID: "all", Area: "dn6m"}, {ID: "fire-only", Area: "dn6m", EmergencyTypes: []string{"fire"}},
		{ID: "medical-only", Area: "dn6m", EmergencyTypes: []string{"medical"}},
		{ID: "other-area", Area: "9vrf"}, {ID: "own-row", Areas: []string{"dn6m"}}, {ID: "supervisor"},
		{ID: "vanished", Area: "dn6m"}, {ID: "flaky", Area: "dn6m"},
	}}
	p := newPoster()
	p.gone["vanished"], p.fail["flaky"] = true, true
	f := &forgetter{}
	d, err := Deliver(context.Background(), m, p, f, PartitionMessage{Partition: 7, Calls: []calls.Call{downtown, hermitage}}, 4)
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"all": 1, "fire-only": 1}, p.got, "one frame each, nobody else")
	assert.Equal(t, []string{"c-downtown", "c-hermitage"}, p.callsOf(t, "all"))
	assert.Equal(t, []string{"c-downtown"}, p.callsOf(t, "fire-only"), "its type only")
	assert.Equal(t, 2, d.Sent)
	assert.Equal(t, 3, d.Calls)
	assert.Equal(t, 4, d.Filtered, "medical-only, other-area, own-row, supervisor")
	assert.Equal(t, 1, d.Gone)
	assert.Equal(t, []string{"vanished"}, f.gone, "a 410 deletes the connection (and its count)")
	assert.Equal(t, []string{"flaky"}, d.Failed)
}

// A supervisors' message becomes a summary for each supervisor, and
// nothing for a dispatcher's membership there.
func TestDeliverSummariesToSupervisors(t *testing.T) {
	m := partitionMembers{3: {{ID: "supervisor"}, {ID: "member", Area: "dn6m"}, {ID: "own-row", Areas: []string{"9vrf"}}}}
	p := newPoster()
	batch := []calls.Call{downtown, hermitage, neworleans, unplaced}
	d, err := Deliver(context.Background(), m, p, &forgetter{}, PartitionMessage{Partition: 3, Calls: batch, Supervisors: true, SentAtMs: 42}, 4)
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"supervisor": 1}, p.got)
	assert.Equal(t, 1, d.Sent)
	var s SummaryFrame
	require.NoError(t, json.Unmarshal(p.frames["supervisor"][0], &s))
	assert.Equal(t, contract.FeedFrameSummary, s.Type)
	assert.Equal(t, int64(42), s.SentAtMs)
	assert.Equal(t, []AreaSummary{
		{Area: "9vrf", EmergencyType: "fire", NewCalls: 1, HighestSeverity: 2},
		{Area: "dn6m", EmergencyType: "fire", NewCalls: 1, HighestSeverity: 3},
		{Area: "dn6m", EmergencyType: "flood", NewCalls: 1, HighestSeverity: 5},
		{Area: contract.FeedUnlocatedArea, EmergencyType: "medical", NewCalls: 1, HighestSeverity: 4},
	}, s.Areas, "an unlocated call reaches the supervisors' summary too")
	ids := []string{}
	for _, c := range s.Newest {
		ids = append(ids, c.ConversationID)
	}
	assert.Equal(t, []string{"c-unplaced", "c-nola", "c-hermitage", "c-downtown"}, ids, "newest first")
}

// Many calls for one dispatcher are split into frames below API Gateway's
// WebSocket frame size, nothing lost, nothing twice.
func TestCallFramesSplitAtTheFrameSize(t *testing.T) {
	var cs []calls.Call
	for i := range 300 {
		c := downtown
		c.ConversationID = fmt.Sprintf("c-%03d", i)
		c.Summary = strings.Repeat("smoke on the third floor; ", 10)
		cs = append(cs, c)
	}
	m := partitionMembers{1: {{ID: "d", Area: "dn6m"}}}
	p := newPoster()
	d, err := Deliver(context.Background(), m, p, &forgetter{}, PartitionMessage{Partition: 1, Calls: cs}, 1)
	require.NoError(t, err)
	assert.Greater(t, d.Sent, 1, "split into several frames")
	assert.Equal(t, 300, d.Calls)
	for _, f := range p.frames["d"] {
		assert.LessOrEqual(t, len(f), contract.FeedMaxFrameBytes)
	}
	got := p.callsOf(t, "d")
	assert.Len(t, got, 300)
	assert.Len(t, slices.Compact(slices.Sorted(slices.Values(got))), 300, "each call once")
}

// A summary of a batch spread over more areas than it lists keeps the
// busiest, counts the rest, and stays one post.
func TestSummaryKeepsTheBusiestAreas(t *testing.T) {
	var cs []calls.Call
	for i := range 1000 {
		c := downtown
		c.ConversationID = fmt.Sprintf("c-%d", i)
		c.Latitude, c.Longitude = -40+float64(i%500)*0.2, -120+float64(i%500)*0.2 // 500 cells, two calls each
		cs = append(cs, c)
	}
	cs = append(cs, downtown, downtown, downtown) // dn6m: the busiest
	s := Summarize(cs, 1)
	assert.Len(t, s.Areas, contract.FeedSummaryMaxAreas)
	assert.Equal(t, 500+1-contract.FeedSummaryMaxAreas, s.MoreAreas)
	found := false
	for _, a := range s.Areas {
		found = found || (a.Area == "dn6m" && a.NewCalls == 3)
	}
	assert.True(t, found, "the busiest area is kept")
	b, _ := json.Marshal(s)
	assert.Less(t, len(b), 128*1024, "under API Gateway's 128 KB message")
}

// Areas that share a partition share its message: one message per
// partition, with every call of the areas it serves, each once.
func TestFanoutOneMessagePerPartitionWhenAreasShare(t *testing.T) {
	l := registry.Layout{Partitions: 3, PerArea: 2, Queues: 1}
	batch := []calls.Call{downtown, neworleans, hermitage, unplaced}
	perPartition := map[int][]string{}
	for _, m := range Fanout(batch, l)[0] {
		if m.Supervisors {
			continue
		}
		_, seen := perPartition[m.Partition]
		assert.False(t, seen, "partition %d gets one message", m.Partition)
		for _, c := range m.Calls {
			perPartition[m.Partition] = append(perPartition[m.Partition], c.ConversationID)
		}
	}
	want := map[int][]string{}
	for _, c := range batch {
		for _, p := range registry.AreaPartitions(registry.AreaOf(c), 3, 2) {
			want[p] = append(want[p], c.ConversationID)
		}
	}
	assert.Equal(t, want, perPartition, "every call of every area the partition serves, in the batch's order")
}

type discardPoster struct{}

func (discardPoster) Post(context.Context, string, []byte) error { return nil }

// benchPartition is a partition as the sustained bench fills it: 100
// memberships of one area (a third every type, the others one type each)
// and 10 supervisors, and a message of 200 calls of that area.
func benchPartition() (partitionMembers, PartitionMessage) {
	types := []string{"tornado", "flood", "fire"}
	msg := PartitionMessage{Partition: 1, SentAtMs: 1}
	for i := range 200 {
		msg.Calls = append(msg.Calls, calls.Call{ConversationID: fmt.Sprintf("c-%03d", i), Latitude: 36.16, Longitude: -86.78,
			EmergencyType: types[i%len(types)], Severity: 1 + i%5, Location: "I-40 at mile 210, Nashville", Timestamp: int64(i)})
	}
	area := registry.AreaOf(msg.Calls[0])
	var conns []registry.Connection
	for i := range 100 {
		c := registry.Connection{ID: fmt.Sprintf("d-%03d", i), Area: area}
		if i%3 != 0 {
			c.EmergencyTypes = []string{types[i%len(types)]}
		}
		conns = append(conns, c)
	}
	for i := range 10 {
		conns = append(conns, registry.Connection{ID: fmt.Sprintf("s-%02d", i)})
	}
	return partitionMembers{1: conns}, msg
}

func BenchmarkDeliverPartition(b *testing.B) {
	members, msg := benchPartition()
	supervisors := msg
	supervisors.Supervisors = true
	for _, tc := range []struct {
		name string
		msg  PartitionMessage
	}{{"dispatchers", msg}, {"supervisors", supervisors}} {
		b.Run(tc.name, func(b *testing.B) {
			inFlight := make(chan struct{}, 64)
			for b.Loop() {
				if _, err := deliver(context.Background(), members, discardPoster{}, &forgetter{}, tc.msg, inFlight); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
