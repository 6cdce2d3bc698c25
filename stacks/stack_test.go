package stacks_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/access911/access911-infra/capacity"
	"github.com/access911/access911-infra/components"
	"github.com/access911/access911-infra/contract"
	"github.com/access911/access911-infra/internal/plan"
	"github.com/access911/access911-infra/stacks"
	"github.com/access911/access911-infra/stacks/stackconfig"
)

// The mock tests run the real program (stacks.Build) for each stack with the
// configuration read from the real Pulumi.<stack>.yaml in the repository root.

const projectDir = ".."

const (
	tableType       = "aws:dynamodb/table:Table"
	replicaType     = "aws:dynamodb/tableReplica:TableReplica"
	targetType      = "aws:appautoscaling/target:Target"
	policyType      = "aws:appautoscaling/policy:Policy"
	bucketType      = "aws:s3/bucketV2:BucketV2"
	versioningType  = "aws:s3/bucketVersioningV2:BucketVersioningV2"
	sseType         = "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2"
	pabType         = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
	bucketPolicy    = "aws:s3/bucketPolicy:BucketPolicy"
	lifecycleType   = "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2"
	replicationType = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
	kmsKeyType      = "aws:kms/key:Key"
	roleType        = "aws:iam/role:Role"
	rolePolicyType  = "aws:iam/rolePolicy:RolePolicy"
	awsProviderType = "pulumi:providers:aws"
)

// stackFile loads one stack's real configuration.
func stackFile(t *testing.T, stack string) (*plan.Project, map[string]string) {
	t.Helper()
	proj, err := plan.LoadProject(projectDir)
	require.NoError(t, err)
	cfg, err := proj.StackConfig(stack)
	require.NoError(t, err)
	return proj, cfg.Values
}

// synthesize runs the program for a stack, after edit changes its config.
func synthesize(t *testing.T, stack string, edit func(map[string]string)) (*plan.Result, error) {
	t.Helper()
	proj, cfg := stackFile(t, stack)
	if edit != nil {
		edit(cfg)
	}
	return plan.Run(proj.Name(), stack, cfg, stacks.Build)
}

func mustSynthesize(t *testing.T, stack string, edit func(map[string]string)) *plan.Result {
	t.Helper()
	res, err := synthesize(t, stack, edit)
	require.NoError(t, err)
	return res
}

func get(r plan.Resource, path string) any { return plan.Lookup(r.Inputs, path) }

func one(t *testing.T, res *plan.Result, token, name string) plan.Resource {
	t.Helper()
	var found []plan.Resource
	for _, r := range res.ByType(token) {
		if r.Name == name {
			found = append(found, r)
		}
	}
	require.Len(t, found, 1, "%s %s", token, name)
	return found[0]
}

var stackCases = []struct {
	stack         string
	owner         bool
	active        bool
	replicaRegion string
	load          int
}{
	{stack: "us-east-1", owner: true, active: true, replicaRegion: "us-east-2", load: 100},
	{stack: "us-west-2", owner: false, active: false, replicaRegion: "us-east-2", load: 60},
	{stack: "eu-west-1", owner: false, active: false, replicaRegion: "eu-central-1", load: 30},
}

func TestStackFilesAsCommitted(t *testing.T) {
	proj, err := plan.LoadProject(projectDir)
	require.NoError(t, err)
	names, err := proj.Stacks()
	require.NoError(t, err)
	assert.Equal(t, []string{"eu-west-1", "us-east-1", "us-west-2"}, names)

	configs := map[string]stackconfig.Config{}
	loads := map[int]bool{}
	for _, tc := range stackCases {
		_, raw := stackFile(t, tc.stack)
		c, err := stackconfig.Parse(raw)
		require.NoError(t, err, tc.stack)
		assert.Equal(t, tc.stack, c.Region, "each stack is named after its region")
		assert.Equal(t, tc.load, c.ExpectedLoadRps, tc.stack)
		configs[tc.stack] = c
		loads[c.ExpectedLoadRps] = true
	}
	assert.Len(t, loads, 3, "the regions have different expected loads")
	require.NoError(t, stackconfig.CheckStacksAgree(configs))
}

func TestEveryStack(t *testing.T) {
	for _, tc := range stackCases {
		t.Run(tc.stack, func(t *testing.T) {
			res := mustSynthesize(t, tc.stack, nil)
			region := tc.stack

			t.Run("providers", func(t *testing.T) {
				var regions []string
				for _, p := range res.ByType(awsProviderType) {
					regions = append(regions, p.Region)
					assert.Equal(t, "pulumi", get(p, "defaultTags.tags.managed-by"))
					assert.Equal(t, tc.stack, get(p, "defaultTags.tags.stack"))
				}
				assert.ElementsMatch(t, []string{region, tc.replicaRegion}, regions)
				for _, r := range res.Resources {
					if strings.HasPrefix(r.Type, "aws:") {
						assert.NotEmpty(t, r.Provider, "%s %s uses a default provider", r.Type, r.Name)
						assert.NotContains(t, r.Provider, "default_", "%s %s", r.Type, r.Name)
					}
				}
			})

			t.Run("resource regions", func(t *testing.T) {
				for _, r := range res.Custom() {
					want := region
					if r.Name == "access911-archive-replica" {
						want = tc.replicaRegion
					}
					assert.Equal(t, want, r.Region, "%s %s", r.Type, r.Name)
				}
			})

			t.Run("table", func(t *testing.T) { assertTable(t, res, tc.owner, region) })
			t.Run("archive", func(t *testing.T) { assertArchive(t, res, region, tc.replicaRegion) })

			t.Run("outputs", func(t *testing.T) {
				o := res.Outputs
				assert.Equal(t, region, o["region"])
				assert.Equal(t, "us-east-1", o["activeRegion"])
				assert.Equal(t, tc.active, o["isActive"])
				assert.Equal(t, "access911-calls", o["tableName"])
				assert.Equal(t, "arn:aws:dynamodb:"+region+":"+plan.MockAccountID+":table/access911-calls", o["tableArn"])
				assert.Equal(t, "PAY_PER_REQUEST", o["tableBillingMode"])
				assert.Equal(t, tc.replicaRegion, o["archiveReplicaRegion"])
				assert.Equal(t, map[bool]string{true: "owner", false: "replica"}[tc.owner], o["tableRole"])
				assert.NotEmpty(t, o["archiveBucketName"])
				assert.NotEmpty(t, o["archiveReplicaBucketName"])
			})
		})
	}
}

func assertTable(t *testing.T, res *plan.Result, owner bool, region string) {
	// The committed stacks share a failover load of 190 rps: a design peak of
	// 1900 rps > 1000, so the table is on-demand.
	assert.Empty(t, res.ByType(targetType), "on-demand tables have no autoscaling")
	assert.Empty(t, res.ByType(policyType))
	if !owner {
		for _, table := range res.ByType(tableType) {
			assert.True(t, strings.HasPrefix(table.Name, "access911-feed-"), "only the home stack owns the calls table, not %s", table.Name)
		}
		r := one(t, res, replicaType, "calls-replica")
		assert.Equal(t, region, r.Region)
		assert.Equal(t, "arn:aws:dynamodb:us-east-1:"+plan.MockAccountID+":table/access911-calls", get(r, "globalTableArn"))
		assert.Equal(t, true, get(r, "pointInTimeRecovery"))
		assert.Equal(t, true, get(r, "deletionProtectionEnabled"))
		assert.True(t, r.Protect, "replica is protected")
		assert.True(t, r.RetainOnDelete, "replica is retained on delete")
		return
	}
	assert.Empty(t, res.ByType(replicaType))
	r := one(t, res, tableType, "calls")
	assert.Equal(t, "access911-calls", get(r, "name"))
	assert.Equal(t, "PAY_PER_REQUEST", get(r, "billingMode"))
	assert.Nil(t, get(r, "readCapacity"))
	assert.Nil(t, get(r, "writeCapacity"))
	assert.Equal(t, "conversation_id", get(r, "hashKey"))
	assert.Equal(t, "timestamp", get(r, "rangeKey"))
	assert.ElementsMatch(t, []any{
		map[string]any{"name": "conversation_id", "type": "S"},
		map[string]any{"name": "timestamp", "type": "N"},
		map[string]any{"name": "emergency_type", "type": "S"},
	}, get(r, "attributes"))
	assert.Equal(t, map[string]any{
		"name": "emergency-type-index", "hashKey": "emergency_type", "rangeKey": "timestamp", "projectionType": "ALL",
	}, get(r, "globalSecondaryIndexes.0"))
	assert.Nil(t, get(r, "globalSecondaryIndexes.1"))
	assert.Equal(t, true, get(r, "pointInTimeRecovery.enabled"))
	assert.Equal(t, true, get(r, "serverSideEncryption.enabled"))
	assert.Equal(t, true, get(r, "deletionProtectionEnabled"))
	assert.Equal(t, true, get(r, "streamEnabled"))
	assert.Equal(t, "NEW_AND_OLD_IMAGES", get(r, "streamViewType"))
	assert.Equal(t, "expires_at", get(r, "ttl.attributeName"))
	assert.Equal(t, true, get(r, "ttl.enabled"))
	assert.True(t, r.Protect)
	assert.True(t, r.RetainOnDelete)
	assert.Contains(t, r.IgnoreChanges, "replicas")
}

func assertArchive(t *testing.T, res *plan.Result, region, replicaRegion string) {
	type side struct{ name, region string }
	sides := []side{{"access911-archive", region}, {"access911-archive-replica", replicaRegion}}
	buckets := map[string]plan.Resource{}
	keys := map[string]plan.Resource{}
	versioning := map[string]plan.Resource{}
	for _, s := range sides {
		b := one(t, res, bucketType, s.name)
		assert.Equal(t, s.region, b.Region)
		assert.True(t, b.Protect, "bucket %s protected", s.name)
		assert.True(t, b.RetainOnDelete, "bucket %s retained", s.name)
		assert.Equal(t, false, get(b, "forceDestroy"))
		buckets[s.name] = b
		bucketName := "access911-" + strings.TrimPrefix(s.name, "access911-") + "-0123456"
		bucketArn := "arn:aws:s3:::" + bucketName

		k := one(t, res, kmsKeyType, s.name)
		assert.Equal(t, s.region, k.Region, "the key is in the bucket's region")
		assert.Equal(t, true, get(k, "enableKeyRotation"))
		assert.Equal(t, 30.0, get(k, "deletionWindowInDays"))
		keys[s.name] = k
		keyArn := "arn:aws:kms:" + s.region + ":" + plan.MockAccountID + ":key/" + s.name + "-key-id"

		v := one(t, res, versioningType, s.name)
		assert.Equal(t, bucketName, get(v, "bucket"))
		assert.Equal(t, "Enabled", get(v, "versioningConfiguration.status"))
		versioning[s.name] = v

		sse := one(t, res, sseType, s.name)
		assert.Equal(t, bucketName, get(sse, "bucket"))
		assert.Equal(t, "aws:kms", get(sse, "rules.0.applyServerSideEncryptionByDefault.sseAlgorithm"))
		assert.Equal(t, keyArn, get(sse, "rules.0.applyServerSideEncryptionByDefault.kmsMasterKeyId"))
		assert.Equal(t, true, get(sse, "rules.0.bucketKeyEnabled"))

		pab := one(t, res, pabType, s.name)
		assert.Equal(t, bucketName, get(pab, "bucket"))
		for _, setting := range []string{"blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"} {
			assert.Equal(t, true, get(pab, setting), "%s %s", s.name, setting)
		}

		pol := one(t, res, bucketPolicy, s.name)
		assert.Equal(t, bucketName, get(pol, "bucket"))
		doc := parsePolicy(t, get(pol, "policy"))
		require.Len(t, doc.Statement, 2)
		for _, st := range doc.Statement {
			assert.Equal(t, "Deny", st.Effect, "the bucket policy only denies")
			assert.Equal(t, "*", st.Principal)
			assert.ElementsMatch(t, []string{bucketArn, bucketArn + "/*"}, st.Resource)
		}
		assert.Equal(t, map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}}, doc.Statement[0].Condition)
		assert.Equal(t, map[string]any{"NumericLessThan": map[string]any{"s3:TlsVersion": "1.2"}}, doc.Statement[1].Condition)

		lc := one(t, res, lifecycleType, s.name)
		assert.Equal(t, bucketName, get(lc, "bucket"))
		assert.Equal(t, "ArchiveOldCalls", get(lc, "rules.0.id"))
		assert.Equal(t, "Enabled", get(lc, "rules.0.status"))
		assert.Equal(t, "", get(lc, "rules.0.filter.prefix"), "the rule covers every object")
		assert.Equal(t, []any{
			map[string]any{"days": 30.0, "storageClass": "STANDARD_IA"},
			map[string]any{"days": 90.0, "storageClass": "GLACIER"},
		}, get(lc, "rules.0.transitions"))
		assert.Equal(t, "all_storage_classes_128K", get(lc, "transitionDefaultMinimumObjectSize"),
			"said in the plan: transitions move audio, not the few-KB call payloads (README: the archive's lifecycle)")
		assert.Equal(t, 365.0, get(lc, "rules.0.noncurrentVersionExpiration.noncurrentDays"))
		assert.Equal(t, 7.0, get(lc, "rules.0.abortIncompleteMultipartUpload.daysAfterInitiation"))
		assert.Contains(t, lc.DependsOn, v.URN, "lifecycle waits for versioning")
	}

	rep := one(t, res, replicationType, "access911-archive")
	assert.Equal(t, region, rep.Region)
	primaryName := "access911-archive-0123456"
	replicaArn := "arn:aws:s3:::access911-archive-replica-0123456"
	replicaKeyArn := "arn:aws:kms:" + replicaRegion + ":" + plan.MockAccountID + ":key/access911-archive-replica-key-id"
	assert.Equal(t, primaryName, get(rep, "bucket"))
	assert.Equal(t, "arn:aws:iam::"+plan.MockAccountID+":role/access911-archive-replication", get(rep, "role"))
	assert.Equal(t, "Enabled", get(rep, "rules.0.status"))
	assert.Equal(t, replicaArn, get(rep, "rules.0.destination.bucket"))
	assert.Equal(t, replicaKeyArn, get(rep, "rules.0.destination.encryptionConfiguration.replicaKmsKeyId"))
	assert.Equal(t, "Enabled", get(rep, "rules.0.deleteMarkerReplication.status"))
	assert.Equal(t, "Enabled", get(rep, "rules.0.sourceSelectionCriteria.sseKmsEncryptedObjects.status"))
	assert.Equal(t, "Enabled", get(rep, "rules.0.destination.replicationTime.status"))
	assert.Equal(t, 15.0, get(rep, "rules.0.destination.replicationTime.time.minutes"))
	assert.Equal(t, "Enabled", get(rep, "rules.0.destination.metrics.status"))
	for _, name := range []string{"access911-archive", "access911-archive-replica"} {
		assert.Contains(t, rep.DependsOn, versioning[name].URN, "replication waits for versioning on %s", name)
	}

	role := one(t, res, roleType, "access911-archive-replication")
	trust := parsePolicy(t, get(role, "assumeRolePolicy"))
	require.Len(t, trust.Statement, 1)
	assert.Equal(t, map[string]any{"Service": "s3.amazonaws.com"}, trust.Statement[0].Principal)
	assert.Equal(t, []string{"sts:AssumeRole"}, trust.Statement[0].Action)

	rp := one(t, res, rolePolicyType, "access911-archive-replication")
	doc := parsePolicy(t, get(rp, "policy"))
	primaryArn := "arn:aws:s3:::" + primaryName
	primaryKeyArn := "arn:aws:kms:" + region + ":" + plan.MockAccountID + ":key/access911-archive-key-id"
	allowed := map[string][]string{} // action -> resources
	for _, st := range doc.Statement {
		assert.Equal(t, "Allow", st.Effect)
		for _, a := range st.Action {
			assert.NotContains(t, a, "*", "no wildcard actions in the replication role")
			allowed[a] = append(allowed[a], st.Resource...)
		}
		for _, r := range st.Resource {
			assert.NotEqual(t, "*", r, "no wildcard resources in the replication role")
		}
	}
	assert.Equal(t, map[string][]string{
		"s3:GetReplicationConfiguration":    {primaryArn},
		"s3:ListBucket":                     {primaryArn},
		"s3:GetObjectVersionForReplication": {primaryArn + "/*"},
		"s3:GetObjectVersionAcl":            {primaryArn + "/*"},
		"s3:GetObjectVersionTagging":        {primaryArn + "/*"},
		"s3:ReplicateObject":                {replicaArn + "/*"},
		"s3:ReplicateDelete":                {replicaArn + "/*"},
		"s3:ReplicateTags":                  {replicaArn + "/*"},
		"kms:Decrypt":                       {primaryKeyArn},
		"kms:Encrypt":                       {replicaKeyArn},
		"kms:GenerateDataKey":               {replicaKeyArn},
	}, allowed)
}

type policyDoc struct {
	Statement []struct {
		Effect    string
		Principal any
		Action    []string
		Resource  []string
		Condition map[string]any
	}
}

func parsePolicy(t *testing.T, v any) policyDoc {
	t.Helper()
	s, ok := v.(string)
	require.True(t, ok, "policy is a JSON string, got %T", v)
	var doc policyDoc
	require.NoError(t, json.Unmarshal([]byte(s), &doc))
	return doc
}

// With a design peak (10 x failover load) at or below 1000 rps the seed's rule
// selects provisioned capacity = peak/2 with autoscaling, on the owner table
// and on every replica (each replica's capacity lives in its own region).
func TestProvisionedBillingFromFailoverLoad(t *testing.T) {
	for _, tc := range stackCases {
		t.Run(tc.stack, func(t *testing.T) {
			res := mustSynthesize(t, tc.stack, func(c map[string]string) {
				c[stackconfig.KeyNormalLoadRps] = `{"us-east-1":40,"us-west-2":30,"eu-west-1":21}` // failover load 91
			})
			const units = 455 // 910 / 2
			if tc.owner {
				r := one(t, res, tableType, "calls")
				assert.Equal(t, "PROVISIONED", get(r, "billingMode"))
				assert.Equal(t, float64(units), get(r, "readCapacity"))
				assert.Equal(t, float64(units), get(r, "writeCapacity"))
				assert.Equal(t, float64(units), get(r, "globalSecondaryIndexes.0.readCapacity"))
				assert.Equal(t, float64(units), get(r, "globalSecondaryIndexes.0.writeCapacity"))
				assert.Equal(t, true, get(r, "pointInTimeRecovery.enabled"), "PITR stays on in provisioned mode")
				assert.Subset(t, r.IgnoreChanges, []string{"readCapacity", "writeCapacity"}, "autoscaling owns capacity")
			}
			want := map[string]string{
				"table/access911-calls|dynamodb:table:ReadCapacityUnits":                             "DynamoDBReadCapacityUtilization",
				"table/access911-calls|dynamodb:table:WriteCapacityUnits":                            "DynamoDBWriteCapacityUtilization",
				"table/access911-calls/index/emergency-type-index|dynamodb:index:ReadCapacityUnits":  "DynamoDBReadCapacityUtilization",
				"table/access911-calls/index/emergency-type-index|dynamodb:index:WriteCapacityUnits": "DynamoDBWriteCapacityUtilization",
			}
			targets := res.ByType(targetType)
			require.Len(t, targets, 4)
			for _, tg := range targets {
				key := get(tg, "resourceId").(string) + "|" + get(tg, "scalableDimension").(string)
				assert.Contains(t, want, key)
				assert.Equal(t, "dynamodb", get(tg, "serviceNamespace"))
				assert.Equal(t, float64(units), get(tg, "minCapacity"))
				assert.Equal(t, float64(units*10), get(tg, "maxCapacity"), "room for the seed's 10x spike")
				assert.Equal(t, tc.stack, tg.Region, "autoscaling in the replica's own region")
			}
			policies := res.ByType(policyType)
			require.Len(t, policies, 4)
			for _, p := range policies {
				key := get(p, "resourceId").(string) + "|" + get(p, "scalableDimension").(string)
				assert.Equal(t, "TargetTrackingScaling", get(p, "policyType"))
				assert.Equal(t, 70.0, get(p, "targetTrackingScalingPolicyConfiguration.targetValue"))
				assert.Equal(t, want[key], get(p, "targetTrackingScalingPolicyConfiguration.predefinedMetricSpecification.predefinedMetricType"))
			}
			assert.Equal(t, "PROVISIONED", res.Outputs["tableBillingMode"])
		})
	}
}

// Bad configuration fails with the key named, before any resource exists.
func TestBadConfigFailsBeforeAnyResource(t *testing.T) {
	tests := []struct {
		name string
		edit func(map[string]string)
		key  string
	}{
		{"unknown region", func(c map[string]string) { c["aws:region"] = "us-north-9" }, "aws:region"},
		{"active region not in regions", func(c map[string]string) { c[stackconfig.KeyActiveRegion] = "ap-south-1" }, stackconfig.KeyActiveRegion},
		{"negative load", func(c map[string]string) {
			c[stackconfig.KeyNormalLoadRps] = `{"us-east-1":100,"us-west-2":60,"eu-west-1":-100}`
		}, stackconfig.KeyNormalLoadRps},
		{"non-numeric load", func(c map[string]string) {
			c[stackconfig.KeyNormalLoadRps] = `{"us-east-1":"many","us-west-2":60,"eu-west-1":30}`
		}, stackconfig.KeyNormalLoadRps},
		{"a region without a load", func(c map[string]string) {
			c[stackconfig.KeyNormalLoadRps] = `{"us-east-1":100,"us-west-2":60}`
		}, stackconfig.KeyNormalLoadRps},
		{"missing key without default", func(c map[string]string) { delete(c, stackconfig.KeyNormalLoadRps) }, stackconfig.KeyNormalLoadRps},
		{"archive leaves the EU", func(c map[string]string) { c[stackconfig.KeyArchiveReplicaRegion] = "us-east-2" }, stackconfig.KeyArchiveReplicaRegion},
		{"more feed queues than partitions", func(c map[string]string) {
			c[stackconfig.KeyFeedPartitions], c[stackconfig.KeyFeedQueues] = "4", "10"
		}, stackconfig.KeyFeedQueues},
		{"feed workers below 2 per queue", func(c map[string]string) { c[stackconfig.KeyFeedQueryConcurrency] = "19" }, stackconfig.KeyFeedQueryConcurrency},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := synthesize(t, "eu-west-1", tc.edit)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "config "+tc.key)
			assert.Contains(t, err.Error(), "accepted:")
			var registered []string
			for _, r := range res.Resources {
				if r.Type != "pulumi:pulumi:Stack" {
					registered = append(registered, r.Type+" "+r.Name)
				}
			}
			assert.Empty(t, registered, "nothing is registered when config is bad")
		})
	}
}

// Pulumi.yaml declares every key the program reads: the shared ones as
// project values, every other one with exactly stackconfig's default.
func TestProjectDeclaresEveryKey(t *testing.T) {
	proj, err := plan.LoadProject(projectDir)
	require.NoError(t, err)
	assert.Equal(t, "access911", proj.Name())
	assert.Equal(t, "go", proj.Project.Runtime.Name())
	var declared []string
	for k, v := range proj.Project.Config {
		full := stackconfig.Namespace + ":" + k
		declared = append(declared, full)
		assert.NotEmpty(t, v.Description, "%s has a description", full)
		if slices.Contains(stackconfig.SharedKeys, full) {
			assert.NotNil(t, v.Value, "%s is shared: a project value", full)
			assert.Nil(t, v.Default, full)
			continue
		}
		assert.NotEmpty(t, v.Type, "%s has a type", full)
		require.Contains(t, stackconfig.Defaults, full, "%s has a default in stackconfig.Defaults", full)
		assert.Equal(t, stackconfig.Defaults[full], fmt.Sprint(v.Default), "%s: Pulumi.yaml's default is stackconfig's", full)
	}
	keys := stackconfig.Keys()
	slices.Sort(keys)
	slices.Sort(declared)
	assert.Equal(t, keys, declared)
}

// Every copy of a default is the same number: Pulumi.yaml's (checked above
// against stackconfig.Defaults), the seed's in capacity, the components'.
func TestProjectDefaultsAreTheSeedNumbers(t *testing.T) {
	for key, want := range map[string]int{
		stackconfig.KeyLambdaReservedConcurrency: capacity.ReservedConcurrency, // seed 000 line 24
		stackconfig.KeyLambdaMemoryMB:            capacity.MemoryMB,            // line 25
		stackconfig.KeyLambdaTimeoutSeconds:      capacity.TimeoutSeconds,      // line 26
		stackconfig.KeyAPIThrottleBurst:          capacity.ThrottleBurst,       // line 12
		stackconfig.KeyAPIThrottleRateRps:        capacity.ThrottleRateRps,     // line 13
		stackconfig.KeyLogRetentionDays:          components.LogRetentionDays,
		stackconfig.KeyDNSTTLSeconds:             components.DNSTTLSeconds,
		stackconfig.KeyExpectedP99Ms:             int(capacity.DefaultP99Duration.Milliseconds()),
	} {
		assert.Equal(t, strconv.Itoa(want), stackconfig.Defaults[key], key)
	}
	assert.Equal(t, contract.DefaultAllowOrigin, stackconfig.Defaults[stackconfig.KeyCORSAllowOrigin])
	assert.Equal(t, []int{100, 512, 30, 5000, 2000}, []int{capacity.ReservedConcurrency, capacity.MemoryMB,
		capacity.TimeoutSeconds, capacity.ThrottleBurst, capacity.ThrottleRateRps}, "seed 000's numbers")
}
