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
		{"measured", Report{RPOMillis: &ms}, "RPO (canary replication lag): 240 ms"},
		{"probe failed", Report{RPOError: "canary not visible in us-west-2 after 30s"},
			"RPO (canary replication lag): not measured: canary not visible in us-west-2 after 30s"},
		{"stopped before the probe", Report{Outcome: "refused"}, "RPO (canary replication lag): not measured (the drill stopped before the probe)"},
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
