package calls

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/access911/access911-infra/contract"
)

// Scenario describes a disaster: where calls come from and what they report.
type Scenario struct {
	Name string
	// Place names calls are reported from, around Center.
	Places []string
	// Center of the affected area and its radius in kilometres.
	Lat, Lon, RadiusKm float64
	// Types is the emergency-type mix (weights need not sum to 1).
	Types []Weighted
	// Severity weights for levels 1..5.
	Severity [5]float64
	// Window is how long the burst of calls lasts.
	Window time.Duration
}

// Weighted is one choice of a weighted mix.
type Weighted struct {
	Value  string
	Weight float64
}

// ScenarioDefs are the scenarios /simulate knows, keyed by name.
var ScenarioDefs = map[string]Scenario{
	"nashville_tornado": {
		Name: "nashville_tornado", Lat: 36.1627, Lon: -86.7816, RadiusKm: 25,
		Places: []string{"East Nashville", "Germantown", "North Nashville", "Donelson", "Hermitage", "Mount Juliet", "Five Points", "Lebanon Pike"},
		Types: []Weighted{{"tornado", 40}, {"structural_collapse", 18}, {"medical", 20}, {"fire", 8},
			{"rescue", 9}, {"hazmat", 2}, {"other", 3}},
		Severity: [5]float64{5, 15, 30, 30, 20},
		Window:   30 * time.Minute,
	},
	"california_earthquake": {
		Name: "california_earthquake", Lat: 34.0522, Lon: -118.2437, RadiusKm: 60,
		Places: []string{"Downtown LA", "Northridge", "Long Beach", "Pasadena", "Santa Monica", "San Fernando", "Glendale", "Compton"},
		Types: []Weighted{{"earthquake", 35}, {"structural_collapse", 20}, {"fire", 15}, {"medical", 20},
			{"hazmat", 5}, {"rescue", 5}},
		Severity: [5]float64{10, 20, 30, 25, 15},
		Window:   45 * time.Minute,
	},
	"gulf_hurricane": {
		Name: "gulf_hurricane", Lat: 29.7604, Lon: -95.3698, RadiusKm: 80,
		Places: []string{"Galveston", "Pasadena TX", "Baytown", "Kemah", "League City", "Houston Heights", "Pearland", "Texas City"},
		Types: []Weighted{{"hurricane", 30}, {"flood", 35}, {"rescue", 15}, {"medical", 12},
			{"structural_collapse", 5}, {"other", 3}},
		Severity: [5]float64{5, 15, 35, 30, 15},
		Window:   6 * time.Hour,
	},
}

// Generate makes n calls of a scenario ending at end. The same scenario, seed,
// n and end give the same calls, with the same conversation ids, so a repeated
// simulation overwrites rather than duplicates.
func Generate(scenario string, n int, seed int64, end time.Time) ([]Call, error) {
	sc, ok := ScenarioDefs[scenario]
	if !ok {
		return nil, fmt.Errorf("unknown scenario %q", scenario)
	}
	if n < 1 || n > contract.MaxSimulateCalls {
		return nil, fmt.Errorf("num_calls %d is outside 1-%d", n, contract.MaxSimulateCalls)
	}
	rng := rand.New(rand.NewPCG(uint64(seed), 0x911))
	start := end.Add(-sc.Window)
	out := make([]Call, n)
	for i := range out {
		lat, lon := pointNear(rng, sc.Lat, sc.Lon, sc.RadiusKm)
		out[i] = Call{
			ConversationID:   fmt.Sprintf("sim-%s-%d-%06d", sc.Name, seed, i),
			Timestamp:        start.Add(time.Duration(rng.Int64N(int64(sc.Window)))).Unix(),
			Location:         sc.Places[rng.IntN(len(sc.Places))],
			Latitude:         round(lat, 5),
			Longitude:        round(lon, 5),
			EmergencyType:    pick(rng, sc.Types),
			Severity:         pickIndex(rng, sc.Severity[:]) + 1,
			CallDurationSecs: 20 + rng.IntN(600),
			Status:           contract.Statuses[0],
		}
	}
	return out, nil
}

// pointNear draws a point uniformly from a disc around (lat, lon).
func pointNear(rng *rand.Rand, lat, lon, radiusKm float64) (float64, float64) {
	r := radiusKm * math.Sqrt(rng.Float64())
	theta := 2 * math.Pi * rng.Float64()
	dLat := r * math.Cos(theta) / 111.32
	dLon := r * math.Sin(theta) / (111.32 * math.Cos(lat*math.Pi/180))
	return lat + dLat, lon + dLon
}

func pick(rng *rand.Rand, ws []Weighted) string {
	weights := make([]float64, len(ws))
	for i, w := range ws {
		weights[i] = w.Weight
	}
	return ws[pickIndex(rng, weights)].Value
}

func pickIndex(rng *rand.Rand, weights []float64) int {
	total := 0.0
	for _, w := range weights {
		total += w
	}
	x := rng.Float64() * total
	for i, w := range weights {
		if x < w {
			return i
		}
		x -= w
	}
	return len(weights) - 1
}

func round(f float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(f*p) / p
}
