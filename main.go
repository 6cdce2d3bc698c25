// Command access911-infra is the Pulumi program (runtime: go). Each region is a
// stack; `pulumi stack select us-east-1 && pulumi up` deploys one region.
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/access911/access911-infra/stacks"
)

func main() {
	pulumi.Run(stacks.Deploy)
}
