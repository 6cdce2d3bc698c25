package capacity

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestOptimizeMemory(t *testing.T) {
	tests := []struct {
		name string
		avg  time.Duration
		mem  int
		want int
	}{
		{"slow doubles", 11 * time.Second, 512, 1024},
		{"exactly 10 s holds", 10 * time.Second, 512, 512},
		{"slow is capped at 3008", 30 * time.Second, 2048, 3008},
		{"fast halves", 1500 * time.Millisecond, 512, 256},
		{"exactly 2 s holds", 2 * time.Second, 512, 512},
		{"fast is floored at 128", 40 * time.Millisecond, 200, 128},
		{"in between holds", 5 * time.Second, 512, 512},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, OptimizeMemory(tc.avg, tc.mem))
		})
	}
}
