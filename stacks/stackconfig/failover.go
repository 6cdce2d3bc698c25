package stackconfig

import (
	"encoding/json"
	"fmt"
	"slices"
)

// The shared hostname, its zone and the failover chain's order.

// failoverOrder reads the failover chain: distinct serving regions, the
// active region first.
func (p *parser) failoverOrder(c *Config) []string {
	v, ok := p.values[KeyFailoverOrder]
	accepted := "a YAML list of distinct serving regions (" + KeyRegions + ") starting with " + KeyActiveRegion +
		", e.g. [us-east-1, us-west-2], set once in Pulumi.yaml"
	var order []string
	if err := json.Unmarshal([]byte(v), &order); !ok || err != nil || len(order) == 0 {
		p.bad(&ConfigError{Key: KeyFailoverOrder, Value: v, Missing: !ok, Problem: "not a list of region names", Accepted: accepted})
		return nil
	}
	seen := map[string]bool{}
	for _, r := range order {
		if !slices.Contains(c.Regions, r) || seen[r] {
			p.bad(&ConfigError{Key: KeyFailoverOrder, Value: v, Problem: fmt.Sprintf("%q is not a serving region or is listed twice", r), Accepted: accepted})
			return nil
		}
		seen[r] = true
	}
	if c.ActiveRegion != "" && order[0] != c.ActiveRegion {
		p.bad(&ConfigError{Key: KeyFailoverOrder, Value: v, Problem: fmt.Sprintf("starts with %s, but %s is %s", order[0], KeyActiveRegion, c.ActiveRegion), Accepted: accepted})
		return nil
	}
	return order
}

// dns reads the shared hostname, its zone and the records' TTL.
func (p *parser) dns(c *Config) {
	c.APIHostname = p.matching(KeyAPIHostname, hostnamePattern, "not a DNS name", "a name such as calls.example.org")
	c.HostedZoneID = p.matching(KeyHostedZoneID, zoneIDPattern, "not a Route53 hosted zone id", "Z followed by letters and digits")
	if (p.values[KeyAPIHostname] == "") != (p.values[KeyHostedZoneID] == "") {
		missing, other := KeyHostedZoneID, KeyAPIHostname
		if p.values[KeyAPIHostname] == "" {
			missing, other = KeyAPIHostname, KeyHostedZoneID
		}
		p.bad(&ConfigError{Key: missing, Missing: true, Problem: "needed because " + other + " is set",
			Accepted: "both " + KeyAPIHostname + " and " + KeyHostedZoneID + ", or neither (no DNS failover)"})
	}
	c.DNSTTLSeconds = p.int(KeyDNSTTLSeconds, 5, 3600, "seconds")
}
