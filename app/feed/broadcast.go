package feed

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/access911/access911-infra/app/feed/registry"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/access911/access911-infra/app/calls"
	"github.com/access911/access911-infra/contract"
)

// Seed 002's fan-out, by area and coalesced: the new calls of a stream batch
// become ONE message per partition their areas use (a list of calls),
// and one per supervisors' partition with the whole batch, spread over
// several queues; a query worker loads one partition's connections and posts
// each ONE frame with the calls it wants. Posts and queue messages follow
// the batches, not the calls.

// DefaultQueues: seed 002, "spread the load into many queues (I used 10)".
const DefaultQueues = 10

// PartitionMessage is what the swarm queues: calls for one partition.
type PartitionMessage struct {
	Partition int          `json:"partition"`
	Calls     []calls.Call `json:"calls"`
	// Supervisors: the batch's calls for the supervisors of the partition
	// (a summary); otherwise calls of the areas whose partition this is.
	Supervisors bool `json:"supervisors,omitempty"`
	// SentAtMs is when the swarm broadcast the calls (Unix milliseconds).
	SentAtMs int64 `json:"sent_at_ms,omitempty"`
	// LiveAfter, on a supervisors' message: calls received before it (Unix
	// seconds, as a call's received_at) are backlog (contract.FeedLiveSeconds).
	LiveAfter int64 `json:"live_after,omitempty"`
}

// CallsFrame is what a dispatcher receives: the new calls of its areas and
// types (contract.FeedFrameCalls).
type CallsFrame struct {
	Type     string       `json:"type"`
	Calls    []calls.Call `json:"calls"`
	SentAtMs int64        `json:"sent_at_ms,omitempty"`
}

// SummaryFrame is what a supervisor receives for a batch
// (contract.FeedFrameSummary).
type SummaryFrame struct {
	Type  string        `json:"type"`
	Areas []AreaSummary `json:"areas"`
	// MoreAreas counts the area lines left out beyond
	// contract.FeedSummaryMaxAreas (the quietest).
	MoreAreas int `json:"more_areas,omitempty"`
	// Backlog counts the batch's calls received more than
	// contract.FeedLiveSeconds ago (replicated late, after an outage):
	// counted in the areas, not pushed to dispatchers, not among Newest.
	Backlog  int          `json:"backlog,omitempty"`
	Newest   []calls.Call `json:"newest"`
	SentAtMs int64        `json:"sent_at_ms,omitempty"`
}

// AreaSummary counts one area's new calls of one type.
type AreaSummary struct {
	Area            string `json:"area"`
	EmergencyType   string `json:"emergency_type"`
	NewCalls        int    `json:"new_calls"`
	HighestSeverity int    `json:"highest_severity"`
}

// Fanout is the swarm's output for a batch of new calls: for each queue,
// its messages. Each partition gets ONE message with the calls of every
// area it serves (areas share partitions; the workers give each
// dispatcher its own area's), each supervisors' partition one with the
// whole batch; partition p goes to queue (p-1) mod queues; a message too
// large for SQS is split.
func Fanout(batch []calls.Call, l registry.Layout) [][]PartitionMessage {
	out := make([][]PartitionMessage, l.Queues)
	add := func(p int, cs []calls.Call, supervisors bool) {
		for _, chunk := range chunks(cs, contract.FeedMaxMessageBytes) {
			q := (p - 1) % l.Queues
			m := PartitionMessage{Partition: p, Calls: chunk, Supervisors: supervisors}
			if supervisors {
				m.LiveAfter = l.LiveAfter
			}
			out[q] = append(out[q], m)
		}
	}
	byPartition := map[int][]calls.Call{}
	for _, c := range batch { // in the batch's order, so each partition's calls keep it
		if !l.Live(c) {
			continue // backlog: the supervisors' summaries only
		}
		for _, p := range registry.AreaPartitions(registry.AreaOf(c), l.Partitions, l.PerArea) {
			byPartition[p] = append(byPartition[p], c)
		}
	}
	for _, p := range slices.Sorted(maps.Keys(byPartition)) {
		add(p, byPartition[p], false)
	}
	if len(batch) > 0 {
		for _, p := range registry.SupervisorPartitions(l.Partitions, l.PerArea) {
			add(p, batch, true)
		}
	}
	return out
}

// chunks splits calls into runs whose JSON stays under limit bytes. A
// call too large alone (a provider's delivery can fill a 400 KB item; the
// contract's own maxima cannot) travels without its free text: the
// dispatcher opens it with GET /calls/{id}.
func chunks(cs []calls.Call, limit int) [][]calls.Call {
	var out [][]calls.Call
	var cur []calls.Call
	size := 0
	for _, c := range cs {
		b, _ := json.Marshal(c)
		if len(b)+1 > limit {
			c = withoutFreeText(c)
			b, _ = json.Marshal(c)
		}
		if len(cur) > 0 && size+len(b)+1 > limit {
			out = append(out, cur)
			cur, size = nil, 0
		}
		cur = append(cur, c)
		size += len(b) + 1
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// withoutFreeText is a call's feed copy without the fields a caller or the
// provider can make long; what is left is bounded by the contract.
func withoutFreeText(c calls.Call) calls.Call {
	c.Transcript, c.Summary, c.FailureReason = "", "", ""
	c.Location = truncateRunes(c.Location, contract.CallSchema.MaxLength("location"))
	return c
}

func truncateRunes(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n])
	}
	return s
}

// Members reads one partition's connections.
type Members interface {
	Members(ctx context.Context, partition int) ([]registry.Connection, error)
}

// Poster sends data to one WebSocket connection (API Gateway's
// PostToConnection); ErrGone means the connection no longer exists (410).
type Poster interface {
	Post(ctx context.Context, connectionID string, data []byte) error
}

// Forgetter removes a connection that is gone (and uncounts it).
type Forgetter interface {
	Disconnect(ctx context.Context, id string) error
}

// Delivery is what one partition message came to: frames posted, calls in
// them, connections that wanted none of the calls, gone, or failed.
type Delivery struct {
	Sent, Calls, Filtered, Gone int
	Failed                      []string // connection ids whose post failed otherwise
}

// Deliver is the query and post workers for one partition message: load
// the partition's connections, post each its frames, and forget those that
// are gone. Posts run in parallel, at most parallelism at a time.
func Deliver(ctx context.Context, m Members, p Poster, f Forgetter, msg PartitionMessage, parallelism int) (Delivery, error) {
	return deliver(ctx, m, p, f, msg, make(chan struct{}, max(1, parallelism)))
}

// deliver is Deliver with its posts bounded by inFlight, which a worker
// shares between the partitions of a batch.
func deliver(ctx context.Context, m Members, p Poster, f Forgetter, msg PartitionMessage, inFlight chan struct{}) (Delivery, error) {
	conns, err := m.Members(ctx, msg.Partition)
	if err != nil {
		return Delivery{}, err
	}
	var (
		d  Delivery
		mu sync.Mutex
		wg sync.WaitGroup
	)
	encoded := map[string]encodedFrames{} // connections that subscribed alike get the same frames
	for _, c := range conns {
		key := subscriptionKey(c)
		e, ok := encoded[key]
		if !ok {
			e.frames, e.calls = framesFor(c, msg)
			encoded[key] = e
		}
		frames, n := e.frames, e.calls
		if len(frames) == 0 {
			d.Filtered++
			continue
		}
		wg.Add(1)
		inFlight <- struct{}{}
		go func(c registry.Connection) {
			defer wg.Done()
			defer func() { <-inFlight }()
			err := postAll(ctx, p, c.ID, frames)
			if errors.Is(err, registry.ErrGone) {
				if ferr := f.Disconnect(ctx, c.ID); ferr != nil && !errors.Is(ferr, registry.ErrGone) {
					err = ferr
				}
			}
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				d.Sent += len(frames)
				d.Calls += n
			case errors.Is(err, registry.ErrGone):
				d.Gone++
			default:
				d.Failed = append(d.Failed, c.ID)
			}
		}(c)
	}
	wg.Wait()
	return d, nil
}

// encodedFrames are one subscription's frames of a message and how many
// calls they carry.
type encodedFrames struct {
	frames [][]byte
	calls  int
}

// subscriptionKey is what framesFor reads of a connection: its area, its
// types, and whether it is a dispatcher's own row or a supervisor.
func subscriptionKey(c registry.Connection) string {
	return fmt.Sprintf("%s|%t|%s", c.Area, len(c.Areas) > 0, strings.Join(c.EmergencyTypes, ","))
}

func postAll(ctx context.Context, p Poster, id string, frames [][]byte) error {
	for _, f := range frames {
		if err := p.Post(ctx, id, f); err != nil {
			return err
		}
	}
	return nil
}

// framesFor is what one connection gets of a message, and how many calls:
// a membership (a dispatcher in one area) the message's calls of its area
// and types, a supervisor a summary of a supervisors' message, a
// dispatcher's own connection row nothing (its memberships get its calls).
func framesFor(c registry.Connection, msg PartitionMessage) ([][]byte, int) {
	switch {
	case c.Area != "" && !msg.Supervisors:
		var want []calls.Call
		for _, call := range msg.Calls {
			if registry.AreaOf(call) == c.Area && (len(c.EmergencyTypes) == 0 || slices.Contains(c.EmergencyTypes, call.EmergencyType)) {
				want = append(want, call)
			}
		}
		return callFrames(want, msg.SentAtMs), len(want)
	case c.Area == "" && len(c.Areas) == 0 && msg.Supervisors:
		b, _ := json.Marshal(SummarizeLive(msg.Calls, msg.SentAtMs, msg.LiveAfter))
		return [][]byte{b}, len(msg.Calls)
	}
	return nil, 0
}

// callFrames encodes calls as frames no larger than a WebSocket frame.
func callFrames(cs []calls.Call, sentAtMs int64) [][]byte {
	var out [][]byte
	// The frame's own fields take well under a kilobyte.
	for _, chunk := range chunks(cs, contract.FeedMaxFrameBytes-1024) {
		b, err := json.Marshal(CallsFrame{Type: contract.FeedFrameCalls, Calls: chunk, SentAtMs: sentAtMs})
		if err != nil {
			panic(fmt.Sprintf("encode calls: %v", err)) // unreachable: plain fields
		}
		out = append(out, b)
	}
	return out
}

// Summarize is a supervisor's summary of a batch: per area and type, the
// new calls and the highest severity, and the newest calls (by timestamp)
// up to contract.FeedSummaryNewest.
func Summarize(cs []calls.Call, sentAtMs int64) SummaryFrame {
	return SummarizeLive(cs, sentAtMs, 0)
}

// SummarizeLive is Summarize with the calls received before liveAfter (Unix seconds)
// counted as backlog and left out of Newest.
func SummarizeLive(cs []calls.Call, sentAtMs, liveAfter int64) SummaryFrame {
	type key struct{ area, typ string }
	sums := map[key]*AreaSummary{}
	for _, c := range cs {
		k := key{registry.AreaOf(c), c.EmergencyType}
		s := sums[k]
		if s == nil {
			s = &AreaSummary{Area: k.area, EmergencyType: k.typ}
			sums[k] = s
		}
		s.NewCalls++
		s.HighestSeverity = max(s.HighestSeverity, c.Severity)
	}
	f := SummaryFrame{Type: contract.FeedFrameSummary, Areas: []AreaSummary{}, SentAtMs: sentAtMs}
	l := registry.Layout{LiveAfter: liveAfter}
	live := make([]calls.Call, 0, len(cs))
	for _, c := range cs {
		if l.Live(c) {
			live = append(live, c)
		} else {
			f.Backlog++
		}
	}
	for _, s := range sums {
		f.Areas = append(f.Areas, *s)
	}
	if len(f.Areas) > contract.FeedSummaryMaxAreas { // keep the busiest
		sort.Slice(f.Areas, func(i, j int) bool {
			a, b := f.Areas[i], f.Areas[j]
			return a.NewCalls > b.NewCalls || (a.NewCalls == b.NewCalls && a.Area+a.EmergencyType < b.Area+b.EmergencyType)
		})
		f.MoreAreas = len(f.Areas) - contract.FeedSummaryMaxAreas
		f.Areas = f.Areas[:contract.FeedSummaryMaxAreas]
	}
	sort.Slice(f.Areas, func(i, j int) bool {
		a, b := f.Areas[i], f.Areas[j]
		return a.Area < b.Area || (a.Area == b.Area && a.EmergencyType < b.EmergencyType)
	})
	newest := slices.Clone(live)
	sort.SliceStable(newest, func(i, j int) bool { return newest[i].Timestamp > newest[j].Timestamp })
	f.Newest = newest[:min(len(newest), contract.FeedSummaryNewest)]
	return f
}
