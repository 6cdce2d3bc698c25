package drill

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestReportSaysWhenTheRPOWasNotMeasured(t *testing.T) {
	ms := int64(240)
	tests := []struct {
		name string
		rep  Report
		want string
	}{
		{"measured", Report{RPOMillis: &ms}, "RPO (replication latency unknown -> unknown): 240 ms"},
		{"the region left does not answer", Report{RPOError: "us-east-1 does not answer: dial tcp: i/o timeout"},
			"RPO (replication latency): not measured: us-east-1 does not answer: dial tcp: i/o timeout"},
		{"stopped before", Report{Outcome: "refused"}, "RPO (replication latency): not measured (nothing to switch away from, or the drill stopped before)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			tt.rep.WriteTable(&b)
			assert.Contains(t, b.String(), tt.want)
			assert.NotContains(t, b.String(), ": 0 ms", "a failed probe is never a 0 ms RPO")
		})
	}
}
