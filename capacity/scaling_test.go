package capacity

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestScalingFactor(t *testing.T) {
	tests := []struct {
		name                   string
		queue, current, lo, hi int
		want                   int
	}{
		{"queue above 10x doubles", 101, 10, 1, 100, 20},
		{"exactly 10x holds", 100, 10, 1, 100, 10},
		{"doubling is capped at max", 1000, 80, 1, 100, 100},
		{"queue below 5x halves", 49, 10, 1, 100, 5},
		{"exactly 5x holds", 50, 10, 1, 100, 10},
		{"halving is floored at min", 0, 10, 8, 100, 8},
		{"halving uses integer division", 0, 7, 1, 100, 3},
		{"between 5x and 10x holds", 75, 10, 1, 100, 10},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, ScalingFactor(tc.queue, tc.current, tc.lo, tc.hi))
		})
	}
}

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
