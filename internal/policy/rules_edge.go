package policy

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/access911/access911-infra/internal/plan"
)

// The pack's checks of the edge: API keys across stacks, DNS failover,
// one region per stack, gateway responses.
// clientKey is what one stack's plan says of one API key.
type clientKey struct {
	stack, region string
	key           plan.Resource
	// writes is the shared secret's name when the key is generated and
	// its value written to a secret; reads is the secret the value is read from.
	writes, reads string
	replicas      []string
}

func checkClientKeys(stacks []plan.Stack) []PolicyViolation {
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
func describeClientKey(s plan.Stack, k plan.Resource) (clientKey, string) {
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
				ck.writes = sec.Str("name")
				for _, r := range sec.List("replicas") {
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
func compareClientKeys(stacks []plan.Stack, keys []clientKey) []PolicyViolation {
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
func allRegionsPlanned(stacks []plan.Stack) bool {
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

func checkDNSFailoverOn(stacks []plan.Stack) []PolicyViolation {
	return perStack(stacks, func(s plan.Stack, _ []plan.Resource) []PolicyViolation {
		if s.Config.DNSEnabled() {
			return nil
		}
		return []PolicyViolation{{Message: fmt.Sprintf("DNS failover is off (access911:apiHostname is empty): callers hold %s's own URL "+
			"and nothing moves them when it fails; set apiHostname and hostedZoneId in Pulumi.yaml", s.Config.Region)}}
	})
}

func checkOwnRegionOnly(stacks []plan.Stack) []PolicyViolation {
	return perStack(stacks, func(s plan.Stack, res []plan.Resource) []PolicyViolation {
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

// contextVariable matches a $context variable in a template.
var contextVariable = regexp.MustCompile(`\$context\.[A-Za-z.]+[A-Za-z]`)

// Variables whose values are bare tokens (ids, enum names), and the one API
// Gateway quotes itself; any other may hold double quotes.
var (
	bareContextVariables = []string{"$context.requestId", "$context.extendedRequestId", "$context.error.responseType",
		"$context.apiId", "$context.stage", "$context.httpMethod", "$context.resourceId", "$context.domainName"}
	quotedContextVariables = []string{"$context.error.messageString"}
)

func checkGatewayResponses(stacks []plan.Stack) []PolicyViolation {
	return perStack(stacks, func(_ plan.Stack, res []plan.Resource) []PolicyViolation {
		var out []PolicyViolation
		for _, gr := range ofType(res, typeGWResponse) {
			templates, _ := plan.Lookup(gr.Inputs, "responseTemplates").(map[string]any)
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
