package contract

// Route53 weights of the shared hostname's per-region records. With
// failover routing the active region's record has ActiveWeight and every
// other region's StandbyWeight: Route53 answers zero-weight records only
// while every non-zero one is unhealthy, so 100/0/0 fails over across all
// regions. The failover component sets them and the DR drill moves them.
const (
	ActiveWeight  = 100
	StandbyWeight = 0
	// MaxWeight is Route53's largest record weight.
	MaxWeight = 255
)
