package load

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/access911/access911-infra/contract"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Mix is the request mix, in percent; the rest of 100 is POST /calls.
type Mix struct {
	QueryPercent    int // GET /calls?emergency_type=...
	SimulatePercent int // POST /simulate with SimulateCalls calls
	SimulateCalls   int
}

// DefaultMix: mostly webhooks, dispatchers querying, and now and then the
// seed's Artillery request (POST /simulate of 10 calls).
var DefaultMix = Mix{QueryPercent: 15, SimulatePercent: 2, SimulateCalls: 10}

// ArtilleryMix is seed 000's Artillery scenario exactly: every request is
// POST /simulate {"scenario":"nashville_tornado","num_calls":10}.
var ArtilleryMix = Mix{SimulatePercent: 100, SimulateCalls: 10}

// Mixes are the named mixes.
var Mixes = map[string]Mix{"default": DefaultMix, "artillery": ArtilleryMix}

// targeter generates the mix: webhook calls with unique ids near a disaster
// area, queries by type, and small simulations.
type targeter struct {
	base   string
	mix    Mix
	run    string
	seq    atomic.Int64
	mu     sync.Mutex
	rng    *rand.Rand
	header http.Header
}

func newTargeter(base string, mix Mix, seed uint64) *targeter {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	return &targeter{base: base, mix: mix, run: fmt.Sprintf("load-%d", time.Now().UnixNano()),
		rng: rand.New(rand.NewPCG(seed, 911)), header: h}
}

func (t *targeter) next(tgt *vegeta.Target) error {
	t.mu.Lock()
	roll := t.rng.IntN(100)
	typ := contract.EmergencyTypes[t.rng.IntN(len(contract.EmergencyTypes))]
	lat, lon := 36.16+t.rng.Float64()*0.2-0.1, -86.78+t.rng.Float64()*0.2-0.1
	sev := 1 + t.rng.IntN(5)
	t.mu.Unlock()
	tgt.Header = t.header
	switch {
	case roll < t.mix.SimulatePercent:
		tgt.Method, tgt.URL = http.MethodPost, t.base+"/simulate"
		tgt.Body, _ = json.Marshal(map[string]any{"scenario": "nashville_tornado", "num_calls": t.mix.SimulateCalls, "seed": t.seq.Add(1)})
	case roll < t.mix.SimulatePercent+t.mix.QueryPercent:
		tgt.Method, tgt.URL, tgt.Body = http.MethodGet, t.base+"/calls?"+url.Values{"emergency_type": {typ}, "limit": {strconv.Itoa(contract.DefaultQueryLimit)}}.Encode(), nil
	default:
		n := t.seq.Add(1)
		tgt.Method, tgt.URL = http.MethodPost, t.base+"/calls"
		tgt.Body, _ = json.Marshal(map[string]any{
			"conversation_id": fmt.Sprintf("%s-%d", t.run, n), "timestamp": time.Now().Unix(),
			"location": "Nashville", "latitude": lat, "longitude": lon, "emergency_type": typ,
			"severity": sev, "call_duration_secs": 30 + n%300,
		})
	}
	return nil
}
