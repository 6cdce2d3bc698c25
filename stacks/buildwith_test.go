package stacks_test

import (
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/access911/access911-infra/artifact"
	"github.com/access911/access911-infra/internal/plan"
	"github.com/access911/access911-infra/stacks"
	"github.com/access911/access911-infra/stacks/stackconfig"
)

// Another app builds a region from this composition: its keys under its own
// namespace, its own Lambda artifact (nothing compiles ./cmd/lambda); an
// invalid key is named as that app wrote it.
func TestBuildWithAnotherNamespaceAndArtifact(t *testing.T) {
	proj, cfg := stackFile(t, "us-west-2")
	shop := map[string]string{}
	for k, v := range cfg {
		shop[strings.Replace(k, stackconfig.Namespace+":", "shop:", 1)] = v
	}
	code := &artifact.Artifact{Path: "dist/shop-lambda.zip", SHA256: "c2hvcC1hcnRpZmFjdC1zaGEyNTY="}
	build := func(ctx *pulumi.Context) (pulumi.Map, error) {
		return stacks.BuildWith(ctx, stacks.Options{ConfigNamespace: "shop", Code: code})
	}
	res, err := plan.Run(proj.Name(), "us-west-2", shop, build)
	require.NoError(t, err)
	access, err := plan.Run(proj.Name(), "us-west-2", cfg, stacks.Build)
	require.NoError(t, err)
	assert.Len(t, res.Custom(), len(access.Custom()), "the same region, read from shop: keys")
	fns := res.ByType("aws:lambda/function:Function")
	require.NotEmpty(t, fns)
	for _, fn := range fns {
		assert.Equal(t, code.SHA256, get(fn, "sourceCodeHash"), fn.Name)
	}
	assert.Equal(t, code.SHA256, res.Outputs["artifactSha256"])

	shop["shop:regions"] = "us-west-2"
	_, err = plan.Run(proj.Name(), "us-west-2", shop, build)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "shop:regions")
	assert.NotContains(t, err.Error(), "access911:regions")

	_, err = plan.Run(proj.Name(), "us-west-2", cfg, func(ctx *pulumi.Context) (pulumi.Map, error) {
		return stacks.BuildWith(ctx, stacks.Options{Code: &artifact.Artifact{Path: "x.zip"}})
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Code needs the zip's Path and its SHA256")
}
