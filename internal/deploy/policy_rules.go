package deploy

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/access911/access911-infra/capacity"
)

// The pack's checks, one per rule (see PolicyRules for what each requires
// and where AWS documents it).

// publishedTargets maps each topic or queue an AWS service publishes to
// (by ARN) to that service's principal: CloudWatch for alarm actions, S3
// for bucket notifications.
func publishedTargets(res []Resource) map[string]string {
	targets := map[string]string{}
	for _, a := range ofType(res, typeAlarm) {
		for _, path := range []string{"alarmActions", "okActions", "insufficientDataActions"} {
			for _, x := range list(a, path) {
				if arn, ok := x.(string); ok {
					targets[arn] = "cloudwatch.amazonaws.com"
				}
			}
		}
	}
	for _, n := range ofType(res, typeNotification) {
		for kind, field := range map[string]string{"topics": "topicArn", "queues": "queueArn"} {
			for _, x := range list(n, kind) {
				if m, ok := x.(map[string]any); ok {
					if arn, _ := m[field].(string); arn != "" {
						targets[arn] = "s3.amazonaws.com"
					}
				}
			}
		}
	}
	return targets
}

func checkPublisherKeys(stacks []Stack) []PolicyViolation {
	return perStack(stacks, func(_ Stack, res []Resource) []PolicyViolation {
		destinations := byOutput(res, typeTopic, "arn")
		for arn, q := range byOutput(res, typeQueue, "arn") {
			destinations[arn] = q
		}
		keys := byOutput(res, typeKey, "arn")
		for id, k := range byOutput(res, typeKey, "keyId") {
			keys[id] = k
		}
		targets := publishedTargets(res)
		var out []PolicyViolation
		for _, arn := range sortedKeys(targets) {
			dest, ok := destinations[arn]
			keyID := str(dest, "kmsMasterKeyId")
			if !ok || keyID == "" {
				continue // not in this plan, or not encrypted with KMS (delivery works)
			}
			service := targets[arn]
			key, known := keys[keyID]
			switch {
			case strings.HasPrefix(keyID, "alias/aws/"):
				out = append(out, violation(dest, "encrypted with the AWS managed key %s, whose policy cannot grant %s: every message it publishes is dropped", keyID, service))
			case !known:
				out = append(out, violation(dest, "encrypted with %s, which is not in the plan: nothing shows its policy grants %s", keyID, service))
			case !keyGrants(str(key, "policy"), service, "kms:Decrypt") || !keyGrants(str(key, "policy"), service, "kms:GenerateDataKey"):
				out = append(out, violation(dest, "its key %s does not let %s use it (kms:Decrypt and kms:GenerateDataKey*): every message it publishes is dropped", key.Name, service))
			}
		}
		return out
	})
}

// keyGrants reports whether a key policy allows a service principal an action.
func keyGrants(policy, service, action string) bool {
	var doc struct {
		Statement []struct {
			Effect    string
			Principal any
			Action    any
		}
	}
	if json.Unmarshal([]byte(policy), &doc) != nil {
		return false
	}
	for _, st := range doc.Statement {
		p, _ := st.Principal.(map[string]any)
		if st.Effect != "Allow" || p == nil || !slices.Contains(stringList(p["Service"]), service) {
			continue
		}
		for _, pattern := range stringList(st.Action) {
			if pattern == action || (strings.HasSuffix(pattern, "*") && strings.HasPrefix(action, strings.TrimSuffix(pattern, "*"))) {
				return true
			}
		}
	}
	return false
}

// stringList reads a policy field that is a string or a list of strings.
func stringList(v any) []string {
	switch t := v.(type) {
	case string:
		return []string{t}
	case []any:
		var out []string
		for _, x := range t {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func checkAlarmTopicsSubscribed(stacks []Stack) []PolicyViolation {
	return perStack(stacks, func(_ Stack, res []Resource) []PolicyViolation {
		subscribed := map[string]bool{}
		for _, sub := range ofType(res, typeSubscription) {
			subscribed[str(sub, "topic")] = true
		}
		topics := byOutput(res, typeTopic, "arn")
		var out []PolicyViolation
		for _, arn := range sortedKeys(publishedTargets(res)) {
			if t, ok := topics[arn]; ok && !subscribed[arn] {
				out = append(out, violation(t, "alarms notify it and no one is subscribed: an outage would reach no one (set access911:alarmEmail, or subscribe your paging tool after the first up)"))
			}
		}
		return out
	})
}

func checkAsyncFailureDestinations(stacks []Stack) []PolicyViolation {
	return perStack(stacks, func(_ Stack, res []Resource) []PolicyViolation {
		functions := byOutput(res, typeFunction, "arn")
		handled := map[string]bool{} // function name or ARN with an on-failure destination
		for _, c := range ofType(res, typeInvokeConfig) {
			if str(c, "destinationConfig.onFailure.destination") != "" {
				handled[str(c, "functionName")] = true
			}
		}
		var out []PolicyViolation
		for _, n := range ofType(res, typeNotification) {
			for _, x := range list(n, "lambdaFunctions") {
				m, _ := x.(map[string]any)
				arn, _ := m["lambdaFunctionArn"].(string)
				fn, ok := functions[arn]
				if handled[arn] || (ok && handled[output(fn, "name")]) {
					continue
				}
				out = append(out, violation(n, "invokes %s asynchronously with no on-failure destination: after Lambda's retries a failed event is discarded", arn))
			}
		}
		return out
	})
}

// SQSDefaultRetentionSeconds is a queue's retention when none is set (4 days).
const SQSDefaultRetentionSeconds = 345600

func retention(q Resource) float64 {
	if v, ok := Lookup(q.Inputs, "messageRetentionSeconds").(float64); ok {
		return v
	}
	return SQSDefaultRetentionSeconds
}

// redrive reads a queue's redrive policy: its dead-letter target and
// maxReceiveCount (a number, or a number in a string as SQS also accepts).
func redrive(q Resource) (target string, maxReceives int, ok bool) {
	raw := str(q, "redrivePolicy")
	var p map[string]any
	if raw == "" || json.Unmarshal([]byte(raw), &p) != nil {
		return "", 0, false
	}
	target, _ = p["deadLetterTargetArn"].(string)
	switch n := p["maxReceiveCount"].(type) {
	case float64:
		maxReceives = int(n)
	case string:
		maxReceives, _ = strconv.Atoi(n)
	}
	return target, maxReceives, true
}

func checkDeadLetterRetention(stacks []Stack) []PolicyViolation {
	return perStack(stacks, func(_ Stack, res []Resource) []PolicyViolation {
		queues := byOutput(res, typeQueue, "arn")
		var out []PolicyViolation
		for _, arn := range sortedKeys(queues) {
			src := queues[arn]
			target, _, ok := redrive(src)
			dlq, known := queues[target]
			if !ok || !known {
				continue
			}
			if retention(dlq) <= retention(src) {
				out = append(out, violation(dlq, "keeps messages %s, no longer than its source %s (%s): a message dead-lettered late expires almost at once",
					days(retention(dlq)), src.Name, days(retention(src))))
			}
		}
		return out
	})
}

func days(seconds float64) string {
	return strconv.FormatFloat(seconds/86400, 'f', -1, 64) + " d"
}

// clientKey is what one stack's plan says of one API key.
type clientKey struct {
	stack, region string
	key           Resource
	// writes is the shared secret's name when the key is generated and
	// its value written to a secret; reads is the secret the value is read from.
	writes, reads string
	replicas      []string
}

func checkClientKeys(stacks []Stack) []PolicyViolation {
	var keys []clientKey
	var out []PolicyViolation
	for _, s := range stacks {
		for _, k := range ofType(s.Result.Custom(), typeAPIKey) {
			ck, problem := describeClientKey(s, k)
			if problem != "" {
				v := violation(k, "%s", problem)
				v.Stack = s.Result.Stack
				out = append(out, v)
			}
			if ck.writes != "" || ck.reads != "" {
				keys = append(keys, ck) // compared with the others all the same
			}
		}
	}
	return append(out, compareClientKeys(stacks, keys)...)
}

// describeClientKey reads where a key's value comes from, or what is wrong.
func describeClientKey(s Stack, k Resource) (clientKey, string) {
	res := s.Result.Custom()
	ck := clientKey{stack: s.Result.Stack, region: s.Result.Region, key: k}
	if _, set := k.Inputs["value"]; set {
		for _, inv := range s.Result.Invokes {
			if inv.Token == invokeSecret && inv.Region == s.Result.Region {
				ck.reads, _ = inv.Args["secretId"].(string)
			}
		}
		if ck.reads == "" {
			return ck, "its value is set but not read from the shared secret: nothing shows the other regions hold the same"
		}
		return ck, ""
	}
	for _, v := range ofType(res, typeSecretValue) {
		if !slices.Contains(v.DependsOn, k.URN) {
			continue
		}
		for _, sec := range ofType(res, typeSecret) {
			if slices.Contains(v.DependsOn, sec.URN) {
				ck.writes = str(sec, "name")
				for _, r := range list(sec, "replicas") {
					if m, ok := r.(map[string]any); ok {
						region, _ := m["region"].(string)
						ck.replicas = append(ck.replicas, region)
					}
				}
			}
		}
	}
	if ck.writes == "" {
		return ck, "API Gateway generates its value and no secret carries it to the other regions: a client's key is refused (403) wherever this region's is not the key"
	}
	var missing []string
	for _, r := range s.Config.Regions {
		if r != ck.region && !slices.Contains(ck.replicas, r) {
			missing = append(missing, r)
		}
	}
	if len(missing) > 0 {
		return ck, "its value's secret " + ck.writes + " has no replica in " + strings.Join(missing, ", ") + ": those regions cannot read it"
	}
	return ck, ""
}

// compareClientKeys: one writer across the planned stacks, and every reader
// reads what it writes.
func compareClientKeys(stacks []Stack, keys []clientKey) []PolicyViolation {
	var writers []clientKey
	for _, k := range keys {
		if k.writes != "" {
			writers = append(writers, k)
		}
	}
	var out []PolicyViolation
	add := func(k clientKey, format string, args ...any) {
		v := violation(k.key, format, args...)
		v.Stack = k.stack
		out = append(out, v)
	}
	if len(writers) > 1 {
		for _, w := range writers {
			add(w, "%d regions generate a key of their own; one must, the others read its value", len(writers))
		}
		return out
	}
	for _, k := range keys {
		switch {
		case k.reads == "":
		case len(writers) == 1 && k.reads != writers[0].writes:
			add(k, "reads its value from %s, but %s's key is written to %s", k.reads, writers[0].stack, writers[0].writes)
		case len(writers) == 0 && allRegionsPlanned(stacks):
			add(k, "reads its value from %s, which no planned stack writes", k.reads)
		}
	}
	return out
}

// allRegionsPlanned reports whether every serving region's stack is planned.
func allRegionsPlanned(stacks []Stack) bool {
	if len(stacks) == 0 {
		return false
	}
	planned := map[string]bool{}
	for _, s := range stacks {
		planned[s.Result.Region] = true
	}
	for _, r := range stacks[0].Config.Regions {
		if !planned[r] {
			return false
		}
	}
	return true
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

func checkAWSLimits(stacks []Stack) []PolicyViolation {
	return perStack(stacks, func(_ Stack, res []Resource) []PolicyViolation {
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
func limitProblems(r Resource) []string {
	var out []string
	switch r.Type {
	case typeRedriveAllow:
		var p struct{ SourceQueueArns []string }
		if json.Unmarshal([]byte(str(r, "redriveAllowPolicy")), &p) == nil && len(p.SourceQueueArns) > limitRedriveSources {
			out = append(out, strconv.Itoa(len(p.SourceQueueArns))+" source queues; a redrive allow policy names at most 10")
		}
	case typeAlarm:
		metrics, exprs := 0, 0
		for _, q := range list(r, "metricQueries") {
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
			if n := len(list(r, path)); n > limitAlarmActions {
				out = append(out, strconv.Itoa(n)+" "+path+"; an alarm takes at most 5 per state")
			}
		}
	case typeMapping:
		if v, ok := Lookup(r.Inputs, "scalingConfig.maximumConcurrency").(float64); ok && (v < limitMappingMin || v > limitMappingMax) {
			out = append(out, "maximum concurrency "+strconv.FormatFloat(v, 'f', -1, 64)+"; an SQS mapping takes 2-1000")
		}
	case typeQueue:
		if v, ok := Lookup(r.Inputs, "messageRetentionSeconds").(float64); ok && (v < limitRetentionMin || v > limitRetentionMax) {
			out = append(out, "retention "+strconv.FormatFloat(v, 'f', -1, 64)+" s; SQS keeps 60 s to 14 days")
		}
	}
	return out
}

// LambdaQueueMinReceives is AWS's advice for a queue Lambda consumes.
const LambdaQueueMinReceives = capacity.LambdaQueueMinReceiveCount

func checkLambdaQueueReceives(stacks []Stack) []PolicyViolation {
	return perStack(stacks, func(_ Stack, res []Resource) []PolicyViolation {
		queues := byOutput(res, typeQueue, "arn")
		var out []PolicyViolation
		for _, m := range ofType(res, typeMapping) {
			q, ok := queues[str(m, "eventSourceArn")]
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

func checkStreamReaders(stacks []Stack) []PolicyViolation {
	return perStack(stacks, func(s Stack, res []Resource) []PolicyViolation {
		readers := map[string][]Resource{}
		for _, m := range ofType(res, typeMapping) {
			if source := str(m, "eventSourceArn"); isStream(source) {
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
func globalTableStream(s Stack, source string) bool {
	return len(s.Config.Regions) > 1 && strings.Contains(source, ":table/"+s.Config.TableName+"/stream/")
}

func checkDNSFailoverOn(stacks []Stack) []PolicyViolation {
	return perStack(stacks, func(s Stack, _ []Resource) []PolicyViolation {
		if s.Config.DNSEnabled() {
			return nil
		}
		return []PolicyViolation{{Message: fmt.Sprintf("DNS failover is off (access911:apiHostname is empty): callers hold %s's own URL "+
			"and nothing moves them when it fails; set apiHostname and hostedZoneId in Pulumi.yaml", s.Config.Region)}}
	})
}

func checkOwnRegionOnly(stacks []Stack) []PolicyViolation {
	return perStack(stacks, func(s Stack, res []Resource) []PolicyViolation {
		var out []PolicyViolation
		for _, r := range res {
			global := strings.HasPrefix(r.Type, "aws:iam/") // IAM has no region: its provider's is only where it is called
			if !global && r.Region != "" && r.Region != s.Config.Region && slices.Contains(s.Config.Regions, r.Region) {
				out = append(out, violation(r, "is in %s, another serving region: stack %s could not be deployed or changed while %s is down",
					r.Region, s.Config.Region, r.Region))
			}
		}
		return out
	})
}

func checkStreamStart(stacks []Stack) []PolicyViolation {
	return perStack(stacks, func(_ Stack, res []Resource) []PolicyViolation {
		var out []PolicyViolation
		for _, m := range ofType(res, typeMapping) {
			source := str(m, "eventSourceArn")
			if (isStream(source) || strings.Contains(source, ":kinesis:")) && str(m, "startingPosition") != "TRIM_HORIZON" {
				out = append(out, violation(m, "starts at %q: a call written while the mapping is created or replaced would never reach it",
					str(m, "startingPosition")))
			}
		}
		return out
	})
}

func checkStreamFailures(stacks []Stack) []PolicyViolation {
	return perStack(stacks, func(_ Stack, res []Resource) []PolicyViolation {
		var out []PolicyViolation
		for _, m := range ofType(res, typeMapping) {
			source := str(m, "eventSourceArn")
			if !isStream(source) && !strings.Contains(source, ":kinesis:") {
				continue
			}
			dest := str(m, "destinationConfig.onFailure.destinationArn")
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

// contextVariable matches a $context variable in a template.
var contextVariable = regexp.MustCompile(`\$context\.[A-Za-z.]+[A-Za-z]`)

// Variables whose values are bare tokens (ids, enum names), and the one API
// Gateway quotes itself; any other may hold double quotes.
var (
	bareContextVariables = []string{"$context.requestId", "$context.extendedRequestId", "$context.error.responseType",
		"$context.apiId", "$context.stage", "$context.httpMethod", "$context.resourceId", "$context.domainName"}
	quotedContextVariables = []string{"$context.error.messageString"}
)

func checkGatewayResponses(stacks []Stack) []PolicyViolation {
	return perStack(stacks, func(_ Stack, res []Resource) []PolicyViolation {
		var out []PolicyViolation
		for _, gr := range ofType(res, typeGWResponse) {
			templates, _ := Lookup(gr.Inputs, "responseTemplates").(map[string]any)
			for contentType, t := range templates {
				template, _ := t.(string)
				if !strings.Contains(contentType, "json") {
					continue
				}
				sample := contextVariable.ReplaceAllStringFunc(template, func(v string) string {
					switch {
					case slices.Contains(bareContextVariables, v):
						return "token"
					case slices.Contains(quotedContextVariables, v):
						return `"a \"quoted\" message"`
					}
					return `value with "quotes"` // what e.g. validationErrorString holds
				})
				if !json.Valid([]byte(sample)) {
					out = append(out, violation(gr, "its %s template is not valid JSON once its variables hold what they can: %s", contentType, template))
				}
			}
		}
		return out
	})
}

func checkLifecycleSize(stacks []Stack) []PolicyViolation {
	return perStack(stacks, func(_ Stack, res []Resource) []PolicyViolation {
		var out []PolicyViolation
		for _, lc := range ofType(res, typeLifecycle) {
			transitions := false
			for _, rule := range list(lc, "rules") {
				if m, ok := rule.(map[string]any); ok && m["transitions"] != nil {
					transitions = true
				}
			}
			if transitions && str(lc, "transitionDefaultMinimumObjectSize") == "" {
				out = append(out, violation(lc, "transitions objects without saying which: by default S3 skips objects under 128 KB"))
			}
		}
		return out
	})
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
