package policy

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/access911/access911-infra/capacity"
	"github.com/access911/access911-infra/internal/plan"
)

// The pack's checks of functions and their event sources: async failure
// destinations, AWS's limits, queue receives, stream readers and positions.
func checkAsyncFailureDestinations(stacks []plan.Stack) []PolicyViolation {
	return perStack(stacks, func(_ plan.Stack, res []plan.Resource) []PolicyViolation {
		functions := byOutput(res, typeFunction, "arn")
		handled := map[string]bool{} // function name or ARN with an on-failure destination
		for _, c := range ofType(res, typeInvokeConfig) {
			if c.Str("destinationConfig.onFailure.destination") != "" {
				handled[c.Str("functionName")] = true
			}
		}
		var out []PolicyViolation
		for _, n := range ofType(res, typeNotification) {
			for _, x := range n.List("lambdaFunctions") {
				m, _ := x.(map[string]any)
				arn, _ := m["lambdaFunctionArn"].(string)
				fn, ok := functions[arn]
				if handled[arn] || (ok && handled[fn.Output("name")]) {
					continue
				}
				out = append(out, violation(n, "invokes %s asynchronously with no on-failure destination: after Lambda's retries a failed event is discarded", arn))
			}
		}
		return out
	})
}

// AWS's limits the aws-limits rule checks: those the configuration can reach
// are capacity's (with their sources); the rest only a plan can break.
const (
	limitRedriveSources = capacity.RedriveAllowMaxSourceQueues
	limitAlarmMetrics   = capacity.AlarmMaxMetrics
	limitAlarmExprs     = 10 // PutMetricAlarm: at most 10 Expression structures
	limitAlarmActions   = 5  // PutMetricAlarm: AlarmActions, OKActions, InsufficientDataActions at most 5 each
	limitMappingMin     = capacity.MappingMinConcurrency
	limitMappingMax     = capacity.MappingMaxConcurrency
	limitRetentionMin   = 60 // SQS API Reference, MessageRetentionPeriod: 60 s to 1,209,600 s
	limitRetentionMax   = capacity.SQSMaxRetentionDays * 24 * 3600
)

func checkAWSLimits(stacks []plan.Stack) []PolicyViolation {
	return perStack(stacks, func(_ plan.Stack, res []plan.Resource) []PolicyViolation {
		var out []PolicyViolation
		for _, r := range res {
			for _, problem := range limitProblems(r) {
				out = append(out, violation(r, "%s", problem))
			}
		}
		return out
	})
}

// limitProblems lists the AWS limits one resource exceeds.
func limitProblems(r plan.Resource) []string {
	var out []string
	switch r.Type {
	case typeRedriveAllow:
		var p struct{ SourceQueueArns []string }
		if json.Unmarshal([]byte(r.Str("redriveAllowPolicy")), &p) == nil && len(p.SourceQueueArns) > limitRedriveSources {
			out = append(out, strconv.Itoa(len(p.SourceQueueArns))+" source queues; a redrive allow policy names at most 10")
		}
	case typeAlarm:
		metrics, exprs := 0, 0
		for _, q := range r.List("metricQueries") {
			m, _ := q.(map[string]any)
			if _, ok := m["metric"]; ok {
				metrics++
			}
			if _, ok := m["expression"]; ok {
				exprs++
			}
		}
		if metrics > limitAlarmMetrics || exprs > limitAlarmExprs {
			out = append(out, strconv.Itoa(metrics)+" metrics and "+strconv.Itoa(exprs)+" expressions; an alarm takes at most 10 of each")
		}
		for _, path := range []string{"alarmActions", "okActions", "insufficientDataActions"} {
			if n := len(r.List(path)); n > limitAlarmActions {
				out = append(out, strconv.Itoa(n)+" "+path+"; an alarm takes at most 5 per state")
			}
		}
	case typeMapping:
		if v, ok := plan.Lookup(r.Inputs, "scalingConfig.maximumConcurrency").(float64); ok && (v < limitMappingMin || v > limitMappingMax) {
			out = append(out, "maximum concurrency "+strconv.FormatFloat(v, 'f', -1, 64)+"; an SQS mapping takes 2-1000")
		}
	case typeQueue:
		if v, ok := plan.Lookup(r.Inputs, "messageRetentionSeconds").(float64); ok && (v < limitRetentionMin || v > limitRetentionMax) {
			out = append(out, "retention "+strconv.FormatFloat(v, 'f', -1, 64)+" s; SQS keeps 60 s to 14 days")
		}
	}
	return out
}

func checkLambdaQueueReceives(stacks []plan.Stack) []PolicyViolation {
	return perStack(stacks, func(_ plan.Stack, res []plan.Resource) []PolicyViolation {
		queues := byOutput(res, typeQueue, "arn")
		var out []PolicyViolation
		for _, m := range ofType(res, typeMapping) {
			q, ok := queues[m.Str("eventSourceArn")]
			if !ok {
				continue
			}
			if _, n, has := redrive(q); has && n < LambdaQueueMinReceives {
				out = append(out, violation(q, "Lambda consumes it and it dead-letters after %d receives: throttled or batched receives count too, so healthy messages reach the DLQ (at least %d)", n, LambdaQueueMinReceives))
			}
		}
		return out
	})
}

// isStream tells whether an event source is a DynamoDB stream.
func isStream(source string) bool {
	return strings.Contains(source, ":dynamodb:") && strings.Contains(source, "/stream/")
}

func checkStreamReaders(stacks []plan.Stack) []PolicyViolation {
	return perStack(stacks, func(s plan.Stack, res []plan.Resource) []PolicyViolation {
		readers := map[string][]plan.Resource{}
		for _, m := range ofType(res, typeMapping) {
			if source := m.Str("eventSourceArn"); isStream(source) {
				readers[source] = append(readers[source], m)
			}
		}
		var out []PolicyViolation
		for _, source := range sortedKeys(readers) {
			ms := readers[source]
			switch {
			case globalTableStream(s, source) && len(ms) > capacity.GlobalTableStreamMaxReaders:
				out = append(out, violation(ms[0], "%d mappings read %s, the stream of a global table (replicated to %s): AWS advises one reader",
					len(ms), source, strings.Join(s.Config.Regions, ", ")))
			case len(ms) > capacity.StreamMaxReaders:
				out = append(out, violation(ms[0], "%d mappings read %s; a shard takes %d readers before DynamoDB throttles them",
					len(ms), source, capacity.StreamMaxReaders))
			}
		}
		return out
	})
}

// globalTableStream tells whether source is the stream of the stack's
// calls table while it is a global table (replicated to another region).
func globalTableStream(s plan.Stack, source string) bool {
	return len(s.Config.Regions) > 1 && strings.Contains(source, ":table/"+s.Config.TableName+"/stream/")
}

func checkStreamStart(stacks []plan.Stack) []PolicyViolation {
	return perStack(stacks, func(_ plan.Stack, res []plan.Resource) []PolicyViolation {
		var out []PolicyViolation
		for _, m := range ofType(res, typeMapping) {
			source := m.Str("eventSourceArn")
			if (isStream(source) || strings.Contains(source, ":kinesis:")) && m.Str("startingPosition") != "TRIM_HORIZON" {
				out = append(out, violation(m, "starts at %q: a call written while the mapping is created or replaced would never reach it",
					m.Str("startingPosition")))
			}
		}
		return out
	})
}

func checkStreamFailures(stacks []plan.Stack) []PolicyViolation {
	return perStack(stacks, func(_ plan.Stack, res []plan.Resource) []PolicyViolation {
		var out []PolicyViolation
		for _, m := range ofType(res, typeMapping) {
			source := m.Str("eventSourceArn")
			if !isStream(source) && !strings.Contains(source, ":kinesis:") {
				continue
			}
			dest := m.Str("destinationConfig.onFailure.destinationArn")
			switch {
			case dest == "":
				out = append(out, violation(m, "no on-failure destination: a batch that fails every retry is skipped and lost"))
			case !strings.Contains(dest, ":s3:::"):
				out = append(out, violation(m, "failed batches go to %s, which receives only shard and sequence numbers; the stream drops the records after 24 hours", dest))
			}
		}
		return out
	})
}

// LambdaQueueMinReceives is AWS's advice for a queue Lambda consumes.
const LambdaQueueMinReceives = capacity.LambdaQueueMinReceiveCount
