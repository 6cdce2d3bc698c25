package policy

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	"github.com/access911/access911-infra/internal/plan"
)

// The pack's checks of messaging: who may publish to encrypted topics and
// queues, alarm topics with a subscriber, dead-letter retention.
// The pack's checks, one per rule (see PolicyRules for what each requires
// and where AWS documents it).

// publishedTargets maps each topic or queue an AWS service publishes to
// (by ARN) to that service's principal: CloudWatch for alarm actions, S3
// for bucket notifications.
func publishedTargets(res []plan.Resource) map[string]string {
	targets := map[string]string{}
	for _, a := range ofType(res, typeAlarm) {
		for _, path := range []string{"alarmActions", "okActions", "insufficientDataActions"} {
			for _, x := range a.List(path) {
				if arn, ok := x.(string); ok {
					targets[arn] = "cloudwatch.amazonaws.com"
				}
			}
		}
	}
	for _, n := range ofType(res, typeNotification) {
		for kind, field := range map[string]string{"topics": "topicArn", "queues": "queueArn"} {
			for _, x := range n.List(kind) {
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

func checkPublisherKeys(stacks []plan.Stack) []PolicyViolation {
	return perStack(stacks, func(_ plan.Stack, res []plan.Resource) []PolicyViolation {
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
			keyID := dest.Str("kmsMasterKeyId")
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
			case !keyGrants(key.Str("policy"), service, "kms:Decrypt") || !keyGrants(key.Str("policy"), service, "kms:GenerateDataKey"):
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

func checkAlarmTopicsSubscribed(stacks []plan.Stack) []PolicyViolation {
	return perStack(stacks, func(_ plan.Stack, res []plan.Resource) []PolicyViolation {
		subscribed := map[string]bool{}
		for _, sub := range ofType(res, typeSubscription) {
			subscribed[sub.Str("topic")] = true
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

func retention(q plan.Resource) float64 {
	if v, ok := plan.Lookup(q.Inputs, "messageRetentionSeconds").(float64); ok {
		return v
	}
	return SQSDefaultRetentionSeconds
}

// redrive reads a queue's redrive policy: its dead-letter target and
// maxReceiveCount (a number, or a number in a string as SQS also accepts).
func redrive(q plan.Resource) (target string, maxReceives int, ok bool) {
	raw := q.Str("redrivePolicy")
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

func checkDeadLetterRetention(stacks []plan.Stack) []PolicyViolation {
	return perStack(stacks, func(_ plan.Stack, res []plan.Resource) []PolicyViolation {
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

// SQSDefaultRetentionSeconds is a queue's retention when none is set (4 days).
const SQSDefaultRetentionSeconds = 345600
