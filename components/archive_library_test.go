package components_test

import (
	"testing"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/access911/access911-infra/components"
	"github.com/access911/access911-infra/pulumitest"
)

// Another service's archive eu-west-2 -> eu-west-1: no inbox rule unless
// asked for, its own purpose in the descriptions, and the replica's key out.
func TestArchiveForAnotherService(t *testing.T) {
	for _, inbox := range []bool{false, true} {
		res, err := pulumitest.Run(func(ctx *pulumi.Context) error {
			replica, err := aws.NewProvider(ctx, "eu-west-1", &aws.ProviderArgs{Region: pulumi.String("eu-west-1")})
			if err != nil {
				return err
			}
			_, err = components.NewArchiveBucket(ctx, "orders", &components.ArchiveBucketArgs{
				ReplicaProvider: replica, Purpose: "shop order archive", InboxExpiry: inbox})
			return err
		})
		require.NoError(t, err)
		for _, lc := range res.ByType("aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2") {
			var ids []any
			for _, r := range lc.Inputs["rules"].([]any) {
				ids = append(ids, r.(map[string]any)["id"])
			}
			want := []any{components.LifecycleRuleID}
			if inbox {
				want = append(want, components.InboxRuleID)
			}
			assert.Equal(t, want, ids, "%s, inbox expiry %v", lc.Name, inbox)
		}
		keys := res.ByType("aws:kms/key:Key")
		require.Len(t, keys, 2)
		for _, k := range keys {
			assert.Contains(t, k.Inputs["description"], "shop order archive")
			assert.NotContains(t, k.Inputs["description"], "access911")
		}
		role := res.ByType("aws:iam/role:Role")[0]
		assert.Equal(t, "S3 replication of the shop order archive", role.Inputs["description"])
	}
}
