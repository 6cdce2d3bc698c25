package contract

import (
	"regexp"
	"sync"
)

var patterns sync.Map // string -> *regexp.Regexp

// patternFor compiles a schema pattern once. The patterns used here are the
// common subset of ECMA 262 (API Gateway) and Go's RE2.
func patternFor(p string) *regexp.Regexp {
	if re, ok := patterns.Load(p); ok {
		return re.(*regexp.Regexp)
	}
	re := regexp.MustCompile(p)
	patterns.Store(p, re)
	return re
}
