package stackconfig

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// CheckStacksAgree checks what one stack cannot see on its own: that every
// stack agrees on the keys they share (SharedKeys: set once in Pulumi.yaml,
// they can differ only where a stack file overrides one), and that every
// serving region has exactly one stack. configs maps stack name to its
// parsed config.
func CheckStacksAgree(configs map[string]Config) error {
	if len(configs) == 0 {
		return errors.New("no stacks to compare")
	}
	names := make([]string, 0, len(configs))
	for n := range configs {
		names = append(names, n)
	}
	sort.Strings(names)
	ref := configs[names[0]]
	shared := []struct {
		key string
		get func(Config) string
	}{
		{KeyRegions, func(c Config) string { return strings.Join(c.Regions, ",") }},
		{KeyActiveRegion, func(c Config) string { return c.ActiveRegion }},
		{KeyHomeRegion, func(c Config) string { return c.HomeRegion }},
		{KeyNormalLoadRps, func(c Config) string { return fmt.Sprint(c.NormalLoadRps) }},
		{KeyTableName, func(c Config) string { return c.TableName }},
		{KeyAPIHostname, func(c Config) string { return c.APIHostname }},
		{KeyHostedZoneID, func(c Config) string { return c.HostedZoneID }},
		{KeyFailoverOrder, func(c Config) string { return strings.Join(c.FailoverOrder, ",") }},
	}
	var errs []error
	for _, s := range shared {
		for _, n := range names[1:] {
			if a, b := s.get(ref), s.get(configs[n]); a != b {
				errs = append(errs, fmt.Errorf("config %s differs between stacks: %s has %q, %s has %q; accepted: the same value in every stack file",
					s.key, names[0], a, n, b))
			}
		}
	}
	byRegion := map[string]string{}
	for _, n := range names {
		c := configs[n]
		if other, dup := byRegion[c.Region]; dup {
			errs = append(errs, fmt.Errorf("config %s: stacks %s and %s both deploy %s; accepted: one stack per region", KeyAWSRegion, other, n, c.Region))
		}
		byRegion[c.Region] = n
	}
	for _, r := range ref.Regions {
		if _, ok := byRegion[r]; !ok {
			errs = append(errs, fmt.Errorf("config %s lists %s but no stack file deploys it; accepted: a Pulumi.<stack>.yaml with %s: %s", KeyRegions, r, KeyAWSRegion, r))
		}
	}
	for r := range byRegion {
		if !slices.Contains(ref.Regions, r) {
			errs = append(errs, fmt.Errorf("config %s: stack %s deploys %s, which %s does not list", KeyAWSRegion, byRegion[r], r, KeyRegions))
		}
	}
	return errors.Join(errs...)
}
