package capacity

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestReadCacheModelAtTheSpike(t *testing.T) {
	in := ReadCacheInput{ReadRps: 2000, WriteRps: 1900, TTL: 300 * time.Second, MaxECPU: ReadCacheMaxECPUPerSecond, MaxDataGB: ReadCacheMaxDataGB}
	l := ModelReadCache(in)
	assert.InDelta(t, 1700, l.Absorbed, 0.01, "2000 reads x 85 % hits")
	assert.InDelta(t, 2000*25+300*25+1900, l.ECPU, 0.01, "pages of 25 KB read, the 300 misses refilled, new calls written")
	assert.InDelta(t, 0.584, l.DataGB, 0.001, "1900 calls/s x 300 s x 1 KB")
	for _, f := range l.Findings(in, "at a 10x spike") {
		assert.Equal(t, "ok", f.Severity, f.String())
	}
	in.MaxECPU = 50_000
	findings := ModelReadCache(in).Findings(in, "at a 10x spike")
	assert.Equal(t, "fail", findings[0].Severity, "59,400 ECPU/s do not fit a 50,000 limit")
	in.MaxDataGB, in.TTL = 1, time.Hour
	assert.Equal(t, "fail", ModelReadCache(in).Findings(in, "x")[1].Severity, "7 GB of calls kept an hour do not fit 1 GB")
}
