package metrics

import (
	"encoding/json"
	"io"
	"sync"
	"time"

	"github.com/access911/access911-infra/contract"
)

// Unit is a CloudWatch metric unit.
type Unit string

const (
	Count        Unit = "Count"
	Milliseconds Unit = "Milliseconds"
)

// Value is one metric value in an EMF record.
type Value struct {
	Name  string
	Value float64
	Unit  Unit
}

// Emitter writes CloudWatch Embedded Metric Format records, one JSON line
// each. In Lambda the lines go to the function's log and CloudWatch turns
// them into metrics asynchronously: nothing on the request path calls
// PutMetricData.
type Emitter struct {
	W   io.Writer
	Now func() time.Time
	// Service is the ServiceDimension value (default contract.Service).
	Service string
	mu      sync.Mutex
}

// Emit writes one record with the values in Namespace, dimensioned by
// Service, plus properties (searchable in Logs Insights, not metrics).
func (e *Emitter) Emit(values []Value, properties map[string]any) {
	if e == nil || e.W == nil || len(values) == 0 {
		return
	}
	now := time.Now
	if e.Now != nil {
		now = e.Now
	}
	defs := make([]map[string]string, len(values))
	rec := map[string]any{}
	for k, v := range properties {
		rec[k] = v
	}
	for i, v := range values {
		defs[i] = map[string]string{"Name": v.Name, "Unit": string(v.Unit)}
		rec[v.Name] = v.Value
	}
	rec[contract.ServiceDimension] = e.Service
	if e.Service == "" {
		rec[contract.ServiceDimension] = contract.Service
	}
	rec["_aws"] = map[string]any{
		"Timestamp": now().UnixMilli(),
		"CloudWatchMetrics": []any{map[string]any{
			"Namespace":  contract.Namespace,
			"Dimensions": [][]string{{contract.ServiceDimension}},
			"Metrics":    defs,
		}},
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	_, _ = e.W.Write(append(b, '\n'))
}
