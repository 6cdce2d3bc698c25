package capacity

import "time"

// Lambda memory bounds from seed 000's optimize_memory_configuration.
const (
	// MaxLambdaMemoryMB: seed 000, "min(memory_usage * 2, 3008) # Max Lambda memory".
	MaxLambdaMemoryMB = 3008
	// MinLambdaMemoryMB: seed 000, "max(memory_usage // 2, 128) # Min Lambda memory".
	MinLambdaMemoryMB = 128
	// SlowInvocation: seed 000, "if avg_processing_time > 10: # seconds".
	SlowInvocation = 10 * time.Second
	// FastInvocation: seed 000, "elif avg_processing_time < 2".
	FastInvocation = 2 * time.Second
)

// Queue-depth thresholds from seed 000's calculate_scaling_factor (lines 83-88); the
// QueueDepth alarm applies the scale-up one at the reserved-concurrency ceiling.
const (
	// ScaleUpQueueFactor: seed 000, "if queue_depth > current_instances * 10".
	ScaleUpQueueFactor = 10
	// ScaleDownQueueFactor: seed 000, "elif queue_depth < current_instances * 5".
	ScaleDownQueueFactor = 5
)

// OptimizeMemory is seed 000's optimize_memory_configuration: an average
// duration above 10 s doubles the memory (up to 3008 MB), below 2 s halves it
// (down to 128 MB); otherwise the memory stays.
func OptimizeMemory(avgDuration time.Duration, memoryMB int) int {
	switch {
	case avgDuration > SlowInvocation:
		return min(memoryMB*2, MaxLambdaMemoryMB)
	case avgDuration < FastInvocation:
		return max(memoryMB/2, MinLambdaMemoryMB)
	default:
		return memoryMB
	}
}
