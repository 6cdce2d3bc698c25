package metrics

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/access911/access911-infra/contract"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEmitWritesEMF(t *testing.T) {
	var buf bytes.Buffer
	e := &Emitter{W: &buf, Now: func() time.Time { return time.UnixMilli(1700000000123) }}
	e.Emit([]Value{{contract.RequestCount, 1, Count}, {contract.ResponseTime, 12.5, Milliseconds}}, map[string]any{"route": "POST /calls", "status": 201})
	e.Emit(nil, nil) // nothing to emit, nothing written
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, 1)
	var rec map[string]any
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &rec))
	assert.Equal(t, 1.0, rec["RequestCount"])
	assert.Equal(t, 12.5, rec["ResponseTime"])
	assert.Equal(t, "access911", rec["Service"])
	assert.Equal(t, "POST /calls", rec["route"])
	aws := rec["_aws"].(map[string]any)
	assert.Equal(t, 1700000000123.0, aws["Timestamp"])
	cw := aws["CloudWatchMetrics"].([]any)[0].(map[string]any)
	assert.Equal(t, "DispatchAI", cw["Namespace"])
	assert.Equal(t, []any{[]any{"Service"}}, cw["Dimensions"])
	assert.Equal(t, []any{
		map[string]any{"Name": "RequestCount", "Unit": "Count"},
		map[string]any{"Name": "ResponseTime", "Unit": "Milliseconds"},
	}, cw["Metrics"])
}

// Another app's functions carry its name in the Service dimension (the
// alarms of a stacks.BuildWith region watch it there).
func TestEmitCarriesTheAppsService(t *testing.T) {
	for _, c := range []struct{ service, want string }{{"", "access911"}, {"shop", "shop"}} {
		var buf bytes.Buffer
		(&Emitter{W: &buf, Service: c.service}).Emit([]Value{{contract.CallsWritten, 1, Count}}, nil)
		var rec map[string]any
		require.NoError(t, json.Unmarshal(buf.Bytes(), &rec))
		assert.Equal(t, c.want, rec[contract.ServiceDimension], c.service)
	}
}
