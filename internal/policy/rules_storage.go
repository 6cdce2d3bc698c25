package policy

import (
	"sort"

	"github.com/access911/access911-infra/internal/plan"
)

// The pack's checks of storage: lifecycle rules and object sizes.
func checkLifecycleSize(stacks []plan.Stack) []PolicyViolation {
	return perStack(stacks, func(_ plan.Stack, res []plan.Resource) []PolicyViolation {
		var out []PolicyViolation
		for _, lc := range ofType(res, typeLifecycle) {
			transitions := false
			for _, rule := range lc.List("rules") {
				if m, ok := rule.(map[string]any); ok && m["transitions"] != nil {
					transitions = true
				}
			}
			if transitions && lc.Str("transitionDefaultMinimumObjectSize") == "" {
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
