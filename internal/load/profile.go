// Package load generates HTTP load against the call-intake API with vegeta's
// attack engine, and reports per step: requests, failures, throttled (429,
// counted apart from failures), latency percentiles and throughput, plus a
// per-second timeline for the chart.
package load

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Step is one phase of a profile: either an open arrival rate (Rate requests
// per second, like Artillery's arrivalRate) or a closed population of Users
// each sending back-to-back (like Locust users without think time).
type Step struct {
	Name     string        `json:"name"`
	Rate     int           `json:"rate,omitempty"`
	Users    int           `json:"users,omitempty"`
	Duration time.Duration `json:"duration"`
}

// Label names the step for tables.
func (s Step) Label() string {
	if s.Name != "" {
		return s.Name
	}
	if s.Users > 0 {
		return fmt.Sprintf("%d users", s.Users)
	}
	return fmt.Sprintf("%d rps", s.Rate)
}

// Limits keep every run bounded.
const (
	MaxStepDuration = 2 * time.Minute
	MaxTotal        = 10 * time.Minute
	MaxRate         = 20000
	MaxUsers        = 5000
)

// Profiles are the named profiles.
var Profiles = map[string][]Step{
	// quick: a few seconds per step, for make bench and the README table.
	"quick": {
		{Rate: 50, Duration: 5 * time.Second},
		{Rate: 100, Duration: 5 * time.Second},
		{Rate: 200, Duration: 5 * time.Second},
		{Rate: 400, Duration: 5 * time.Second},
	},
	// users: seed 002's stepped users (100 -> 1500 concurrent users).
	"users": {
		{Users: 100, Duration: 10 * time.Second},
		{Users: 250, Duration: 10 * time.Second},
		{Users: 500, Duration: 10 * time.Second},
		{Users: 1000, Duration: 10 * time.Second},
		{Users: 1500, Duration: 10 * time.Second},
	},
	// artillery: seed 000's phase, 100 arrivals/s (shortened from 300 s).
	"artillery": {
		{Rate: 100, Duration: 60 * time.Second},
	},
}

// ParseSteps reads a profile name or a list like "100rps:10s,500rps:10s,200u:10s".
func ParseSteps(spec string) ([]Step, error) {
	if p, ok := Profiles[spec]; ok {
		return p, nil
	}
	var steps []Step
	total := time.Duration(0)
	for _, part := range strings.Split(spec, ",") {
		load, dur, ok := strings.Cut(strings.TrimSpace(part), ":")
		if !ok {
			return nil, fmt.Errorf("step %q: want LOAD:DURATION such as 100rps:10s or 200u:10s, or a profile (%s)", part, profileNames())
		}
		d, err := time.ParseDuration(dur)
		if err != nil || d <= 0 || d > MaxStepDuration {
			return nil, fmt.Errorf("step %q: duration must be between 0 and %s", part, MaxStepDuration)
		}
		var s Step
		switch {
		case strings.HasSuffix(load, "rps"):
			n, err := strconv.Atoi(strings.TrimSuffix(load, "rps"))
			if err != nil || n < 1 || n > MaxRate {
				return nil, fmt.Errorf("step %q: rate must be 1-%d", part, MaxRate)
			}
			s = Step{Rate: n, Duration: d}
		case strings.HasSuffix(load, "u"):
			n, err := strconv.Atoi(strings.TrimSuffix(load, "u"))
			if err != nil || n < 1 || n > MaxUsers {
				return nil, fmt.Errorf("step %q: users must be 1-%d", part, MaxUsers)
			}
			s = Step{Users: n, Duration: d}
		default:
			return nil, fmt.Errorf("step %q: load must end in rps or u", part)
		}
		total += d
		steps = append(steps, s)
	}
	if total > MaxTotal {
		return nil, fmt.Errorf("profile lasts %s; the limit is %s", total, MaxTotal)
	}
	return steps, nil
}

func profileNames() string {
	return "quick, users, artillery"
}
