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

func TestFeedArgsValidation(t *testing.T) {
	valid := func() FeedArgs {
		return FeedArgs{Code: pulumi.NewFileArchive("x.zip"), CodeHash: "h", StreamArn: pulumi.String("s"), SecretArn: pulumi.String("k"),
			FailureBucketArn: pulumi.String("b"), FailureKeyArn: pulumi.String("bk"),
			AlarmTopicArn: pulumi.String("t"), Region: "us-east-1", Partitions: capacity.FeedPartitions, Queues: capacity.FeedQueues,
			QueryBatchSize: capacity.FeedQueryBatchSize, QueryConcurrency: capacity.FeedQueryConcurrency,
			TimeoutSeconds: 30, MemoryMB: 512, LogRetentionDays: 30}
	}
	tests := []struct {
		name string
		edit func(*FeedArgs)
		want string
	}{
		{"no code", func(a *FeedArgs) { a.Code = nil }, "deployment package"},
		{"no stream", func(a *FeedArgs) { a.StreamArn = nil }, "stream"},
		{"no failure bucket", func(a *FeedArgs) { a.FailureBucketArn = nil }, "failed stream batches"},
		{"more queues than a redrive allow policy names", func(a *FeedArgs) { a.Queues, a.QueryConcurrency = 11, 250 }, "at most 10 queues"},
		{"mapping concurrency above 1000", func(a *FeedArgs) { a.QueryConcurrency = 10010 }, "above 1000 per queue"},
		{"more queues than partitions", func(a *FeedArgs) { a.Partitions = 5 }, "at least one partition per queue"},
		{"batch above SQS's 10", func(a *FeedArgs) { a.QueryBatchSize = 11 }, "1-10"},
		{"concurrency below 2 per queue", func(a *FeedArgs) { a.QueryConcurrency = 19 }, "below 2 per queue"},
		{"no timeout", func(a *FeedArgs) { a.TimeoutSeconds = 0 }, "timeout"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := valid()
			tc.edit(&args)
			err := runWithMocks(t, func(ctx *pulumi.Context) error {
				_, err := NewFeed(ctx, "feed", &args)
				return err
			})
			require.Error(t, err)
			assert.Contains(t, err.Error(), `feed "feed"`)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	assert.Equal(t, 25, capacity.FeedMappingConcurrency(250, 10), "seed 002's 250 over 10 queues")
	assert.Equal(t, 2, capacity.FeedMappingConcurrency(5, 10), "SQS mappings take at least 2")
	assert.Equal(t, "arn:aws:dynamodb:r:1:table/t/stream/*", streamsOf("arn:aws:dynamodb:r:1:table/t/stream/2026-01-01T00:00:00.000"))
}
