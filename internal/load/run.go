package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"sort"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Options configures a run.
type Options struct {
	// Target is the base URL of the API.
	Target string
	// AllowRemote must be set to target anything but loopback.
	AllowRemote bool
	Steps       []Step
	Mix         Mix
	// Timeout per request; default 30 s (API Gateway's is 29 s).
	Timeout time.Duration
	// MaxRequests stops the run early; default 500000.
	MaxRequests int
	// Progress receives a live line per second; nil for none.
	Progress io.Writer
	Seed     uint64
}

// StepReport is one step's outcome. Requests = OK + Throttled + Failures.
type StepReport struct {
	Step           Step           `json:"step"`
	Label          string         `json:"label"`
	Requests       int            `json:"requests"`
	OK             int            `json:"ok"`
	Throttled      int            `json:"throttled"` // 429: the API's own throttling, not an error
	Failures       int            `json:"failures"`  // transport errors and other 4xx/5xx
	Elapsed        time.Duration  `json:"elapsed_ns"`
	RPS            float64        `json:"rps"`
	FailuresPerSec float64        `json:"failures_per_sec"`
	P50            time.Duration  `json:"p50_ns"`
	P95            time.Duration  `json:"p95_ns"`
	P99            time.Duration  `json:"p99_ns"`
	Max            time.Duration  `json:"max_ns"`
	Codes          map[int]int    `json:"codes"`
	Errors         map[string]int `json:"errors,omitempty"`
}

// Second is one second of the timeline.
type Second struct {
	T         int     `json:"t"`
	Requests  int     `json:"requests"`
	OK        int     `json:"ok"`
	Throttled int     `json:"throttled"`
	Failures  int     `json:"failures"`
	P50ms     float64 `json:"p50_ms"`
	P95ms     float64 `json:"p95_ms"`
	P99ms     float64 `json:"p99_ms"`
}

// Report is a whole run.
type Report struct {
	Target   string       `json:"target"`
	Started  time.Time    `json:"started"`
	Steps    []StepReport `json:"steps"`
	Timeline []Second     `json:"timeline"`
	Stopped  string       `json:"stopped,omitempty"`
}

// Run attacks the target step by step and reports.
func Run(ctx context.Context, o Options) (*Report, error) {
	if err := checkTarget(o.Target, o.AllowRemote); err != nil {
		return nil, err
	}
	if len(o.Steps) == 0 {
		return nil, errors.New("no steps")
	}
	if o.Timeout == 0 {
		o.Timeout = 30 * time.Second
	}
	if o.MaxRequests == 0 {
		o.MaxRequests = 500000
	}
	if o.Mix == (Mix{}) {
		o.Mix = DefaultMix
	}
	tg := newTargeter(o.Target, o.Mix, o.Seed)
	rep := &Report{Target: o.Target, Started: time.Now()}
	var all []*vegeta.Result
	var sent atomic.Int64

	for i, step := range o.Steps {
		if ctx.Err() != nil {
			rep.Stopped = "interrupted"
			break
		}
		opts := []func(*vegeta.Attacker){vegeta.Timeout(o.Timeout), vegeta.KeepAlive(true), vegeta.Connections(10000)}
		pacer := vegeta.Pacer(vegeta.Rate{Freq: step.Rate, Per: time.Second})
		if step.Users > 0 {
			// A closed population: Users workers, each sending back to back.
			pacer = vegeta.Rate{Freq: 0}
			opts = append(opts, vegeta.Workers(uint64(step.Users)), vegeta.MaxWorkers(uint64(step.Users)))
		} else {
			opts = append(opts, vegeta.MaxWorkers(uint64(min(4*step.Rate+100, MaxUsers))))
		}
		atk := vegeta.NewAttacker(opts...)
		stepStart := time.Now()
		var stepResults []*vegeta.Result
		var ok, thr, fail atomic.Int64
		stopProgress := progress(o.Progress, i, len(o.Steps), step, stepStart, &ok, &thr, &fail)
		for res := range atk.Attack(tg.next, pacer, step.Duration, step.Label()) {
			stepResults = append(stepResults, res)
			switch classify(res) {
			case "ok":
				ok.Add(1)
			case "throttled":
				thr.Add(1)
			default:
				fail.Add(1)
			}
			if sent.Add(1) >= int64(o.MaxRequests) && rep.Stopped == "" {
				rep.Stopped = fmt.Sprintf("request cap of %d reached", o.MaxRequests)
				atk.Stop()
			}
			if ctx.Err() != nil && rep.Stopped == "" {
				rep.Stopped = "interrupted"
				atk.Stop()
			}
		}
		stopProgress()
		rep.Steps = append(rep.Steps, summarize(step, stepResults, time.Since(stepStart)))
		all = append(all, stepResults...)
		if rep.Stopped != "" {
			break
		}
	}
	rep.Timeline = timeline(rep.Started, all)
	return rep, nil
}

func classify(r *vegeta.Result) string {
	switch {
	case r.Code == http.StatusTooManyRequests:
		return "throttled"
	case r.Code >= 200 && r.Code < 400 && r.Error == "":
		return "ok"
	default:
		return "failure"
	}
}

func summarize(step Step, rs []*vegeta.Result, elapsed time.Duration) StepReport {
	sr := StepReport{Step: step, Label: step.Label(), Elapsed: elapsed, Codes: map[int]int{}, Errors: map[string]int{}}
	lat := make([]time.Duration, 0, len(rs))
	for _, r := range rs {
		sr.Requests++
		sr.Codes[int(r.Code)]++
		switch classify(r) {
		case "ok":
			sr.OK++
		case "throttled":
			sr.Throttled++
		default:
			sr.Failures++
			if r.Error != "" {
				sr.Errors[r.Error]++
			}
		}
		lat = append(lat, r.Latency)
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	sr.P50, sr.P95, sr.P99 = Percentile(lat, 0.50), Percentile(lat, 0.95), Percentile(lat, 0.99)
	if len(lat) > 0 {
		sr.Max = lat[len(lat)-1]
	}
	if s := elapsed.Seconds(); s > 0 {
		sr.RPS = float64(sr.Requests) / s
		sr.FailuresPerSec = float64(sr.Failures) / s
	}
	return sr
}

// Percentile is the nearest-rank percentile of sorted durations.
func Percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func timeline(start time.Time, rs []*vegeta.Result) []Second {
	buckets := map[int][]*vegeta.Result{}
	last := 0
	for _, r := range rs {
		t := int(r.Timestamp.Sub(start).Seconds())
		buckets[t] = append(buckets[t], r)
		last = max(last, t)
	}
	out := make([]Second, 0, last+1)
	for t := 0; t <= last && len(rs) > 0; t++ {
		s := Second{T: t}
		var lat []time.Duration
		for _, r := range buckets[t] {
			s.Requests++
			switch classify(r) {
			case "ok":
				s.OK++
			case "throttled":
				s.Throttled++
			default:
				s.Failures++
			}
			lat = append(lat, r.Latency)
		}
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
		s.P50ms, s.P95ms, s.P99ms = ms(Percentile(lat, .5)), ms(Percentile(lat, .95)), ms(Percentile(lat, .99))
		out = append(out, s)
	}
	return out
}

func progress(w io.Writer, i, n int, step Step, start time.Time, ok, thr, fail *atomic.Int64) func() {
	if w == nil {
		return func() {}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				fmt.Fprintln(w)
				return
			case <-t.C:
				fmt.Fprintf(w, "\rstep %d/%d %-10s %5.0fs  ok %7d  throttled %6d  failures %6d ",
					i+1, n, step.Label(), time.Since(start).Seconds(), ok.Load(), thr.Load(), fail.Load())
			}
		}
	}()
	return func() { close(done); <-finished }
}

// checkTarget keeps load on this machine unless the user explicitly allows
// another target.
func checkTarget(target string, allowRemote bool) error {
	u, err := url.Parse(target)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return fmt.Errorf("target %q is not an http(s) URL", target)
	}
	if allowRemote {
		return nil
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); host == "localhost" || (ip != nil && ip.IsLoopback()) {
		return nil
	}
	return fmt.Errorf("target %s is not a loopback address; pass --allow-remote to load another host deliberately", host)
}
