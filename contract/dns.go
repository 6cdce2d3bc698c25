package contract

import "fmt"

// The shared hostname's failover chain. Callers resolve the hostname; each
// level of the chain is a Route 53 failover pair whose PRIMARY is one
// region (in the configured failover order) and whose SECONDARY is an alias
// to the next level, so while the first region's gate is unhealthy EVERY
// caller goes to the second, and so on: one named standby, never a split.
//
// Level 0 is the hostname itself; level i > 0 is failover-<i+1>.<hostname>.
// The stack of the region at position i owns level i's PRIMARY and level
// i-1's SECONDARY, so each stack owns only records naming its own region.
func ChainName(hostname string, level int) string {
	if level == 0 {
		return hostname
	}
	return fmt.Sprintf("failover-%d.%s", level+1, hostname)
}

// RegionalHostname is the name that always reaches one region's API,
// whatever the chain answers: <region>.<hostname>. The other regions' gate
// checks read the control from it, and operators use it to reach a region.
func RegionalHostname(region, hostname string) string { return region + "." + hostname }
