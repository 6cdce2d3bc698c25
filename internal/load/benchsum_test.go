package load

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const sample = `goos: linux
BenchmarkHandlerPostCall-2   	     300	   3000000 ns/op	   56554 B/op	     588 allocs/op
BenchmarkHandlerPostCall-2   	     300	   5000000 ns/op	   56554 B/op	     588 allocs/op
BenchmarkHandlerPostCall-2   	     300	   4000000 ns/op	   56554 B/op	     588 allocs/op
BenchmarkRawPutItem-2        	     300	   2000000 ns/op
BenchmarkRawConditionalPutItem-2	 300	   3000000 ns/op
BenchmarkRawConditionalPutItem-2	 300	   6000000 ns/op
BenchmarkRawConditionalPutItem-2	 300	   3000000 ns/op
BenchmarkSimulate1000-2      	       2	1000000000 ns/op
BenchmarkSequentialPutItem1000-2 	   1	4000000000 ns/op
BenchmarkPostCallDirect201-2 	     200	   4100000 ns/op	         4.000 p50-ms
BenchmarkPostCallBuffered202-2 	     200	   3000000 ns/op	         3.000 p50-ms
PASS
`

func TestParseAndRatios(t *testing.T) {
	s, err := ParseBench(strings.NewReader(sample))
	require.NoError(t, err)
	assert.Equal(t, []float64{3e6, 5e6, 4e6}, s["HandlerPostCall"])
	assert.Equal(t, 4e6, Median(s["HandlerPostCall"]))
	assert.Equal(t, 2.5, Median([]float64{1, 2, 3, 4}))
	var buf bytes.Buffer
	WriteBenchSummary(&buf, s)
	out := buf.String()
	assert.Contains(t, out, "POST /calls as the Lambda runs it / raw PutItem  2.00")
	assert.Contains(t, out, "/simulate 1000 / 1000 sequential PutItem         0.25")
	assert.Contains(t, out, "n/a (missing Simulate1000 or RawParallelBatchWrite1000)")
	assert.Equal(t, []float64{4e6}, s["PostCallDirect201.p50"], "p50-ms samples, in ns")
	assert.Contains(t, out, "202 (buffered, SQS on moto) p50 / 201 (direct) p50 0.75")
	// Rounds pair their samples: 3/3, 5/6, 4/3.
	assert.Contains(t, out, "POST /calls as the Lambda runs it / raw conditional PutItem 1.33  (per round: median 1.00, 0.83-1.33 over 3 rounds)")
	assert.NotContains(t, out, "raw PutItem  2.00  (per round", "one sample of RawPutItem: no rounds to pair")
}
