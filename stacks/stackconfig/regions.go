package stackconfig

import "slices"

// knownRegions are the AWS commercial regions a stack may name. Anything else
// in a stack file is a typo or an unsupported partition.
var knownRegions = []string{
	"af-south-1", "ap-east-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
	"ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3",
	"ap-southeast-4", "ca-central-1", "ca-west-1", "eu-central-1", "eu-central-2",
	"eu-north-1", "eu-south-1", "eu-south-2", "eu-west-1", "eu-west-2", "eu-west-3",
	"il-central-1", "me-central-1", "me-south-1", "sa-east-1",
	"us-east-1", "us-east-2", "us-west-1", "us-west-2",
}

// euRegions are the regions located in EU member states. eu-west-2 (London)
// and eu-central-2 (Zurich) carry an "eu-" prefix but are outside the EU.
var euRegions = []string{"eu-central-1", "eu-north-1", "eu-south-1", "eu-south-2", "eu-west-1", "eu-west-3"}

// defaultArchiveReplicaRegion pairs each serving region with the region its
// archive replicates to when the stack does not say: never a serving region
// (a stack then owns resources only in its own serving region, and deploys
// while any other is down), so both US archives replicate to us-east-2
// (Ohio) and Ireland to Frankfurt, inside the EU.
var defaultArchiveReplicaRegion = map[string]string{
	"us-east-1": "us-east-2",
	"us-west-2": "us-east-2",
	"eu-west-1": "eu-central-1",
}

func isKnownRegion(r string) bool { return slices.Contains(knownRegions, r) }

func isEURegion(r string) bool { return slices.Contains(euRegions, r) }
