package feedbench

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/access911/access911-infra/app/calls"
	"github.com/access911/access911-infra/app/feed"
	"github.com/access911/access911-infra/contract"
)

// The console prints every call of a frame with its area and latency, a
// summary's lines, and anything else as it came.
func TestWatchPrintsEachCallOfAFrame(t *testing.T) {
	now := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	frame, _ := json.Marshal(feed.CallsFrame{Type: contract.FeedFrameCalls, SentAtMs: now.UnixMilli() - 850, Calls: []calls.Call{
		{ConversationID: "c1", EmergencyType: "fire", Severity: 3, Location: "Broadway", Latitude: 36.16, Longitude: -86.78},
		{ConversationID: "c2", EmergencyType: "flood", Severity: 5, Location: "the old mill", NeedsGeocoding: true},
	}})
	summary, _ := json.Marshal(feed.Summarize([]calls.Call{{ConversationID: "c3", EmergencyType: "fire", Severity: 4,
		Latitude: 29.95, Longitude: -90.07}}, now.UnixMilli()))
	var out strings.Builder
	printFrame(&out, frame, now)
	printFrame(&out, summary, now)
	printFrame(&out, []byte(`{"type":"subscribed","areas":["dn6m"]}`), now)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if assert.Len(t, lines, 5) {
		assert.Contains(t, lines[0], "fire")
		assert.Contains(t, lines[0], "area dn6m  c1  delivered in 850 ms")
		assert.Contains(t, lines[1], "area unlocated  c2")
		assert.Contains(t, lines[2], "summary  area 9vrf")
		assert.Contains(t, lines[2], "1 new, highest severity 4")
		assert.Contains(t, lines[3], "newest")
		assert.Contains(t, lines[4], `{"type":"subscribed","areas":["dn6m"]}`)
	}
}
