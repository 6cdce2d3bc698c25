package components_test

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/access911/access911-infra/components"
	"github.com/access911/access911-infra/contract"
	"github.com/access911/access911-infra/pulumitest"
)

// functionArgs are a function's required arguments, code aside.
func functionArgs() *components.FunctionArgs {
	return &components.FunctionArgs{CodeHash: "aGFzaA==",
		TableName: pulumi.String("orders"), TableArn: pulumi.String("arn:aws:dynamodb:eu-west-2:111122223333:table/orders"),
		ArchiveBucketName: pulumi.String("order-archive"), ArchiveBucketArn: pulumi.String("arn:aws:s3:::order-archive"),
		ArchiveKMSKeyArn: pulumi.String("arn:aws:kms:eu-west-2:111122223333:key/k")}
}

func function(t *testing.T, args *components.FunctionArgs) (*pulumitest.Result, error) {
	t.Helper()
	return pulumitest.Run(func(ctx *pulumi.Context) error {
		_, err := components.NewFunction(ctx, "fn", args)
		return err
	})
}

// The package may be an S3 object a release pipeline uploaded (with a
// version); a function without the provider's webhook has no rights on its
// secret, inbox or audio; another app's name is in its description, role
// and metrics.
func TestFunctionFromAnS3ObjectForAnotherApp(t *testing.T) {
	a := functionArgs()
	a.App = "shop"
	a.CodeObject = &components.CodeObject{Bucket: pulumi.String("shop-releases"), Key: pulumi.String("lambda/v1.4.2.zip"),
		Version: pulumi.String("3HL4kqtJlcpXroDTDmjVBH40Nrjfkd")}
	res, err := function(t, a)
	require.NoError(t, err)
	fn := res.ByType("aws:lambda/function:Function")[0]
	assert.Equal(t, "shop-releases", fn.Inputs["s3Bucket"])
	assert.Equal(t, "lambda/v1.4.2.zip", fn.Inputs["s3Key"])
	assert.Equal(t, "3HL4kqtJlcpXroDTDmjVBH40Nrjfkd", fn.Inputs["s3ObjectVersion"])
	assert.Nil(t, fn.Inputs["code"])
	assert.Equal(t, "aGFzaA==", fn.Inputs["sourceCodeHash"])
	assert.Contains(t, fn.Inputs["description"], "shop call intake")
	env := fn.Inputs["environment"].(map[string]any)["variables"].(map[string]any)
	assert.Equal(t, "shop", env[contract.EnvMetricsService])
	assert.NotContains(t, env, contract.EnvWebhookSecretARN)
	policy := res.ByType("aws:iam/rolePolicy:RolePolicy")[0].Inputs["policy"].(string)
	for _, sid := range []string{"WebhookSecret", "ProcessInbox", "FindCallAudio"} {
		assert.NotContains(t, policy, `"Sid":"`+sid+`"`)
	}
	for _, sid := range []string{"CallsTable", "ArchivePayloads", "ArchiveEncryption", "OwnLogs"} {
		assert.Contains(t, policy, `"Sid":"`+sid+`"`)
	}
	assert.Equal(t, "shop call-intake Lambda", res.ByType("aws:iam/role:Role")[0].Inputs["description"])
}

// The package is given exactly one way, with its hash.
func TestFunctionCodeIsGivenOneWay(t *testing.T) {
	object := &components.CodeObject{Bucket: pulumi.String("b"), Key: pulumi.String("k.zip")}
	for _, c := range []struct {
		name string
		edit func(*components.FunctionArgs)
		want string
	}{
		{"neither", func(*components.FunctionArgs) {}, "a deployment package (Code, or CodeObject's Bucket and Key)"},
		{"both", func(a *components.FunctionArgs) { a.Code, a.CodeObject = pulumi.NewFileArchive("x.zip"), object }, "Code and CodeObject are both set"},
		{"an object without a key", func(a *components.FunctionArgs) { a.CodeObject = &components.CodeObject{Bucket: pulumi.String("b")} }, "CodeObject's Bucket and Key"},
		{"no hash", func(a *components.FunctionArgs) { a.CodeObject, a.CodeHash = object, "" }, "CodeHash is empty"},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := functionArgs()
			c.edit(a)
			_, err := function(t, a)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
	a := functionArgs()
	a.Code = pulumi.NewFileArchive("dist/lambda.zip")
	res, err := function(t, a)
	require.NoError(t, err)
	fn := res.ByType("aws:lambda/function:Function")[0]
	assert.Nil(t, fn.Inputs["s3Bucket"])
	assert.NotNil(t, fn.Inputs["code"])
	assert.NotContains(t, fn.Inputs["environment"].(map[string]any)["variables"], contract.EnvMetricsService, "access911's functions as deployed")
}
