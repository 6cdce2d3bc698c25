package components

import (
	"encoding/json"
	"testing"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/access911/access911-infra/capacity"
	"github.com/access911/access911-infra/contract"
)

type noMocks struct{}

func (noMocks) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	return args.Name + "-id", args.Inputs, nil
}

func (noMocks) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	return resource.PropertyMap{}, nil
}

func runWithMocks(t *testing.T, program pulumi.RunFunc) error {
	t.Helper()
	return pulumi.RunErr(program, pulumi.WithMocks("access911", "test", noMocks{}))
}

func TestArchiveBucketArgsValidation(t *testing.T) {
	tests := []struct {
		name string
		args ArchiveBucketArgs
		want string
	}{
		{"no replica provider", ArchiveBucketArgs{}, "replica provider"},
		{"IA before 30 days", ArchiveBucketArgs{InfrequentAccessAfterDays: 10}, "at least 30"},
		{"glacier too soon after IA", ArchiveBucketArgs{GlacierAfterDays: 45}, "at least 30 days after"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := runWithMocks(t, func(ctx *pulumi.Context) error {
				args := tc.args
				if tc.name != "no replica provider" {
					p, err := aws.NewProvider(ctx, "replica", &aws.ProviderArgs{Region: pulumi.String("us-west-2")})
					require.NoError(t, err)
					args.ReplicaProvider = p
				}
				_, err := NewArchiveBucket(ctx, "archive", &args)
				return err
			})
			require.Error(t, err)
			assert.Contains(t, err.Error(), `archive bucket "archive"`)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestArchiveDefaultsAreTheSeedNumbers(t *testing.T) {
	a := (&ArchiveBucketArgs{}).withDefaults()
	assert.Equal(t, 30, a.InfrequentAccessAfterDays)
	assert.Equal(t, 90, a.GlacierAfterDays)
	assert.Equal(t, "STANDARD_IA", InfrequentAccessStorageClass)
	assert.Equal(t, "GLACIER", GlacierStorageClass)
}

func TestCallsTableRejectsBadArgs(t *testing.T) {
	tests := []struct {
		name string
		args *CallsTableArgs
		want string
	}{
		{"no name", &CallsTableArgs{Billing: capacity.Billing{Mode: capacity.PayPerRequest}}, "table name is required"},
		{"seed's ON_DEMAND spelling", &CallsTableArgs{Name: "calls", Billing: capacity.Billing{Mode: "ON_DEMAND"}}, `"ON_DEMAND" is not one of PAY_PER_REQUEST, PROVISIONED`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := runWithMocks(t, func(ctx *pulumi.Context) error {
				_, err := NewCallsTable(ctx, "calls", tc.args)
				return err
			})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestDefinitionHashTracksTheAPI(t *testing.T) {
	star := DefinitionHash("*")
	assert.Len(t, star, 64, "a hex SHA-256")
	assert.NotEqual(t, star, DefinitionHash("https://dispatch.example.org"), "a CORS change redeploys")
	// A route change redeploys: the hash covers the contract's routes.
	saved := contract.Health
	t.Cleanup(func() { contract.Health = saved })
	contract.Health.Public = false
	assert.NotEqual(t, star, DefinitionHash("*"), "a route change redeploys")
}

func TestPoliciesGrantNoWildcards(t *testing.T) {
	doc := ReplicationPolicy("arn:aws:s3:::src", "arn:aws:kms:r:a:key/s", "arn:aws:s3:::dst", "arn:aws:kms:r2:a:key/d")
	for _, st := range doc.Statement {
		require.Equal(t, "Allow", st.Effect)
		for _, a := range st.Action {
			assert.NotContains(t, a, "*")
		}
		assert.NotContains(t, st.Resource, "*")
	}
	var back PolicyDocument
	require.NoError(t, json.Unmarshal([]byte(doc.JSON()), &back))
	assert.Equal(t, doc, back)

	tls := TLSOnlyBucketPolicy("arn:aws:s3:::b")
	for _, st := range tls.Statement {
		assert.Equal(t, "Deny", st.Effect, "the TLS policy grants nothing")
	}
}
