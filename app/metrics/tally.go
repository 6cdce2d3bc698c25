package metrics

import (
	"bytes"
	"encoding/json"
	"sync"
)

// Tally is a log (a local server's Options.Log) that sums the EMF metrics named
// in it as the lines go by, e.g. the read cache's hits and misses.
type Tally struct {
	mu      sync.Mutex
	partial []byte
	sums    map[string]float64
}

// Write takes log lines (any split) and adds up every numeric top-level
// field of each JSON line that is one of its metrics.
func (m *Tally) Write(p []byte) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.sums == nil {
		m.sums = map[string]float64{}
	}
	m.partial = append(m.partial, p...)
	for {
		i := bytes.IndexByte(m.partial, '\n')
		if i < 0 {
			return len(p), nil
		}
		var rec map[string]any
		if json.Unmarshal(m.partial[:i], &rec) == nil {
			if _, emf := rec["_aws"]; emf {
				for k, v := range rec {
					if f, ok := v.(float64); ok {
						m.sums[k] += f
					}
				}
			}
		}
		m.partial = m.partial[i+1:]
	}
}

// Sum is a metric's total so far.
func (m *Tally) Sum(metric string) float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.sums[metric]
}
