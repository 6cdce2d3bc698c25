package components

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/access911/access911-infra/contract"
)

// ArchiveBucketType is the Pulumi type token of the ArchiveBucket component.
const ArchiveBucketType = "access911:components:ArchiveBucket"

// Lifecycle defaults. The transition days and classes are seed 000's
// "ArchiveOldCalls" rule; the rest are this project's choices.
const (
	// InfrequentAccessAfterDays: seed 000, Transitions[0] Days 30 STANDARD_IA.
	InfrequentAccessAfterDays = 30
	// GlacierAfterDays: seed 000, Transitions[1] Days 90 GLACIER.
	GlacierAfterDays = 90
	// InfrequentAccessStorageClass and GlacierStorageClass: seed 000.
	InfrequentAccessStorageClass = "STANDARD_IA"
	GlacierStorageClass          = "GLACIER"
	// LifecycleRuleID keeps the seed's rule id.
	LifecycleRuleID = "ArchiveOldCalls"
	// NoncurrentVersionExpirationDays: an overwritten or deleted payload stays
	// recoverable for a year (call records may be needed for after-action
	// review), then the old version is removed.
	NoncurrentVersionExpirationDays = 365
	// AbortIncompleteMultipartUploadDays: parts of failed uploads are billed
	// until removed; a week is ample for any retry.
	AbortIncompleteMultipartUploadDays = 7
	// KMSKeyDeletionWindowDays is the longest window AWS allows, so a key
	// scheduled for deletion by mistake can be rescued.
	KMSKeyDeletionWindowDays = 30
	// TransitionMinimumObjectSize says in the plan what S3 does by default
	// since September 2024: lifecycle transitions skip objects under 128 KB
	// (S3 user guide, "Transitioning objects using Amazon S3 Lifecycle",
	// minimum object size). The seed's transitions therefore move call audio
	// (hundreds of KB and up) and not call payloads (a few KB): STANDARD_IA
	// bills every object as 128 KB, GLACIER adds 40 KB of metadata to each,
	// and each transition is a paid request, so moving a 3 KB payload would
	// cost more than keeping it in STANDARD. Decision: keep it that way.
	TransitionMinimumObjectSize = "all_storage_classes_128K"
	// ReplicationTimeMinutes is S3 Replication Time Control's only SLA value.
	ReplicationTimeMinutes = 15
	// MinimumTLSVersion: requests over older TLS are denied by bucket policy.
	MinimumTLSVersion = "1.2"
)

// ArchiveBucketArgs configures the archive bucket and its replica.
type ArchiveBucketArgs struct {
	// ReplicaProvider is an AWS provider for the replication destination
	// region. Required: the archive is the only copy of raw payloads.
	ReplicaProvider pulumi.ProviderResource `pulumi:"replicaProvider"`
	// Lifecycle overrides; zero values take the defaults above.
	InfrequentAccessAfterDays       int `pulumi:"infrequentAccessAfterDays"`
	GlacierAfterDays                int `pulumi:"glacierAfterDays"`
	NoncurrentVersionExpirationDays int `pulumi:"noncurrentVersionExpirationDays"`
	// ForceDestroy lets `pulumi destroy` empty the buckets. Off by default.
	ForceDestroy bool `pulumi:"forceDestroy"`
	// InboxExpiry adds the rule that expires what is left under
	// contract.InboxPrefix after contract.InboxExpiryDays (access911's
	// provider inbox). Off by default: a bucket without an inbox keeps
	// everything.
	InboxExpiry bool `pulumi:"inboxExpiry"`
	// Purpose describes the data in the KMS keys' and the replication
	// role's descriptions (default "access911 call archive").
	Purpose string `pulumi:"purpose"`
	// Tags are added to every resource (the providers' default tags apply too).
	Tags pulumi.StringMap `pulumi:"tags"`
}

func (a *ArchiveBucketArgs) withDefaults() ArchiveBucketArgs {
	out := *a
	if out.InfrequentAccessAfterDays == 0 {
		out.InfrequentAccessAfterDays = InfrequentAccessAfterDays
	}
	if out.GlacierAfterDays == 0 {
		out.GlacierAfterDays = GlacierAfterDays
	}
	if out.NoncurrentVersionExpirationDays == 0 {
		out.NoncurrentVersionExpirationDays = NoncurrentVersionExpirationDays
	}
	if out.Purpose == "" {
		out.Purpose = "access911 call archive"
	}
	return out
}

func (a ArchiveBucketArgs) validate() error {
	if a.ReplicaProvider == nil {
		return fmt.Errorf("a replica provider (the replication destination region) is required")
	}
	// S3 requires 30 days in STANDARD before STANDARD_IA, and GLACIER after IA
	// must come at least 30 days later to avoid IA's minimum-storage charge.
	if a.InfrequentAccessAfterDays < 30 {
		return fmt.Errorf("infrequent-access transition after %d days: S3 requires at least 30", a.InfrequentAccessAfterDays)
	}
	if a.GlacierAfterDays < a.InfrequentAccessAfterDays+30 {
		return fmt.Errorf("glacier transition after %d days must be at least 30 days after the infrequent-access transition (%d)",
			a.GlacierAfterDays, a.InfrequentAccessAfterDays)
	}
	if a.NoncurrentVersionExpirationDays < 1 {
		return fmt.Errorf("noncurrent version expiration must be at least 1 day, got %d", a.NoncurrentVersionExpirationDays)
	}
	return nil
}

// ArchiveBucket stores raw call payloads and replicates them to another region.
//
// How the destination bucket comes to exist: this component creates it. The
// replica bucket, its KMS key, versioning, encryption, public-access block and
// TLS policy are registered by the same stack through ReplicaProvider, so a
// region's archive stack is self-contained: no stack waits on another stack,
// and a destination outside the three serving regions (eu-west-1's EU replica)
// is owned by someone.
type ArchiveBucket struct {
	pulumi.ResourceState

	BucketName pulumi.StringOutput `pulumi:"bucketName"`
	BucketArn  pulumi.StringOutput `pulumi:"bucketArn"`
	KMSKeyArn  pulumi.StringOutput `pulumi:"kmsKeyArn"`
	// ReplicaKMSKeyArn is the key the replica bucket encrypts with (in the
	// replica's region).
	ReplicaKMSKeyArn  pulumi.StringOutput `pulumi:"replicaKmsKeyArn"`
	ReplicaBucketName pulumi.StringOutput `pulumi:"replicaBucketName"`
	ReplicaBucketArn  pulumi.StringOutput `pulumi:"replicaBucketArn"`
	ReplicationRole   pulumi.StringOutput `pulumi:"replicationRoleArn"`
}

// NewArchiveBucket registers the archive bucket, its replica and replication.
func NewArchiveBucket(ctx *pulumi.Context, name string, args *ArchiveBucketArgs, opts ...pulumi.ResourceOption) (*ArchiveBucket, error) {
	if args == nil {
		args = &ArchiveBucketArgs{}
	}
	a := args.withDefaults()
	if err := a.validate(); err != nil {
		return nil, fmt.Errorf("archive bucket %q: %w", name, err)
	}
	c := &ArchiveBucket{}
	if err := ctx.RegisterComponentResource(ArchiveBucketType, name, c, opts...); err != nil {
		return nil, err
	}

	primary, err := newSecureBucket(ctx, name, a, pulumi.Parent(c))
	if err != nil {
		return nil, fmt.Errorf("archive bucket %q: %w", name, err)
	}
	replica, err := newSecureBucket(ctx, name+"-replica", a, pulumi.Parent(c), pulumi.Provider(a.ReplicaProvider))
	if err != nil {
		return nil, fmt.Errorf("archive bucket %q: replica: %w", name, err)
	}

	role, err := iam.NewRole(ctx, name+"-replication", &iam.RoleArgs{
		Description:      pulumi.String("S3 replication of the " + a.Purpose),
		AssumeRolePolicy: pulumi.String(assumeRolePolicy("s3.amazonaws.com")),
		Tags:             a.Tags,
	}, pulumi.Parent(c))
	if err != nil {
		return nil, fmt.Errorf("archive bucket %q: replication role: %w", name, err)
	}
	rolePolicy, err := iam.NewRolePolicy(ctx, name+"-replication", &iam.RolePolicyArgs{
		Role: role.ID(),
		Policy: pulumi.All(primary.bucket.Arn, primary.key.Arn, replica.bucket.Arn, replica.key.Arn).ApplyT(
			func(v []any) string {
				return ReplicationPolicy(v[0].(string), v[1].(string), v[2].(string), v[3].(string)).JSON()
			}).(pulumi.StringOutput),
	}, pulumi.Parent(c))
	if err != nil {
		return nil, fmt.Errorf("archive bucket %q: replication policy: %w", name, err)
	}

	_, err = s3.NewBucketReplicationConfig(ctx, name, &s3.BucketReplicationConfigArgs{
		Bucket: primary.bucket.ID(),
		Role:   role.Arn,
		Rules: s3.BucketReplicationConfigRuleArray{s3.BucketReplicationConfigRuleArgs{
			Id:       pulumi.String(contract.ArchiveReplicationRuleID),
			Status:   pulumi.String("Enabled"),
			Priority: pulumi.Int(1),
			// An empty filter selects every object and makes this a V2 rule,
			// which is what allows delete-marker replication.
			Filter:                  s3.BucketReplicationConfigRuleFilterArgs{Prefix: pulumi.String("")},
			DeleteMarkerReplication: s3.BucketReplicationConfigRuleDeleteMarkerReplicationArgs{Status: pulumi.String("Enabled")},
			SourceSelectionCriteria: s3.BucketReplicationConfigRuleSourceSelectionCriteriaArgs{
				SseKmsEncryptedObjects: s3.BucketReplicationConfigRuleSourceSelectionCriteriaSseKmsEncryptedObjectsArgs{Status: pulumi.String("Enabled")},
			},
			Destination: s3.BucketReplicationConfigRuleDestinationArgs{
				Bucket: replica.bucket.Arn,
				EncryptionConfiguration: s3.BucketReplicationConfigRuleDestinationEncryptionConfigurationArgs{
					ReplicaKmsKeyId: replica.key.Arn,
				},
				// Replication Time Control: 99.99 % of objects within 15
				// minutes, with metrics to alarm on; the archive's RPO.
				ReplicationTime: s3.BucketReplicationConfigRuleDestinationReplicationTimeArgs{
					Status: pulumi.String("Enabled"),
					Time:   s3.BucketReplicationConfigRuleDestinationReplicationTimeTimeArgs{Minutes: pulumi.Int(ReplicationTimeMinutes)},
				},
				Metrics: s3.BucketReplicationConfigRuleDestinationMetricsArgs{
					Status:         pulumi.String("Enabled"),
					EventThreshold: s3.BucketReplicationConfigRuleDestinationMetricsEventThresholdArgs{Minutes: pulumi.Int(ReplicationTimeMinutes)},
				},
			},
		}},
	}, pulumi.Parent(c), pulumi.DependsOn([]pulumi.Resource{primary.versioning, replica.versioning, rolePolicy}))
	if err != nil {
		return nil, fmt.Errorf("archive bucket %q: replication: %w", name, err)
	}

	c.BucketName = primary.bucket.Bucket
	c.BucketArn = primary.bucket.Arn
	c.KMSKeyArn = primary.key.Arn
	c.ReplicaKMSKeyArn = replica.key.Arn
	c.ReplicaBucketName = replica.bucket.Bucket
	c.ReplicaBucketArn = replica.bucket.Arn
	c.ReplicationRole = role.Arn
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{
		"bucketName":         c.BucketName,
		"bucketArn":          c.BucketArn,
		"kmsKeyArn":          c.KMSKeyArn,
		"replicaKmsKeyArn":   c.ReplicaKMSKeyArn,
		"replicaBucketName":  c.ReplicaBucketName,
		"replicaBucketArn":   c.ReplicaBucketArn,
		"replicationRoleArn": c.ReplicationRole,
	}); err != nil {
		return nil, err
	}
	return c, nil
}

// secureBucket is a bucket with every default this project requires.
type secureBucket struct {
	bucket     *s3.BucketV2
	key        *kms.Key
	versioning *s3.BucketVersioningV2
}

// newSecureBucket registers a versioned, KMS-encrypted, private, TLS-only
// bucket with the archive lifecycle. opts select the parent and provider.
func newSecureBucket(ctx *pulumi.Context, name string, a ArchiveBucketArgs, opts ...pulumi.ResourceOption) (*secureBucket, error) {
	key, err := kms.NewKey(ctx, name, &kms.KeyArgs{
		Description:          pulumi.Sprintf("%s (%s)", a.Purpose, name),
		EnableKeyRotation:    pulumi.Bool(true),
		DeletionWindowInDays: pulumi.Int(KMSKeyDeletionWindowDays),
		Tags:                 a.Tags,
	}, append(opts, pulumi.Protect(true))...)
	if err != nil {
		return nil, fmt.Errorf("kms key: %w", err)
	}
	bucket, err := s3.NewBucketV2(ctx, name, &s3.BucketV2Args{
		ForceDestroy: pulumi.Bool(a.ForceDestroy),
		Tags:         a.Tags,
	}, append(opts, pulumi.Protect(true), pulumi.RetainOnDelete(true))...)
	if err != nil {
		return nil, fmt.Errorf("bucket: %w", err)
	}
	pab, err := s3.NewBucketPublicAccessBlock(ctx, name, &s3.BucketPublicAccessBlockArgs{
		Bucket:                bucket.ID(),
		BlockPublicAcls:       pulumi.Bool(true),
		BlockPublicPolicy:     pulumi.Bool(true),
		IgnorePublicAcls:      pulumi.Bool(true),
		RestrictPublicBuckets: pulumi.Bool(true),
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("public access block: %w", err)
	}
	if _, err := s3.NewBucketPolicy(ctx, name, &s3.BucketPolicyArgs{
		Bucket: bucket.ID(),
		Policy: bucket.Arn.ApplyT(func(arn string) string { return TLSOnlyBucketPolicy(arn).JSON() }).(pulumi.StringOutput),
	}, append(opts, pulumi.DependsOn([]pulumi.Resource{pab}))...); err != nil {
		return nil, fmt.Errorf("bucket policy: %w", err)
	}
	versioning, err := s3.NewBucketVersioningV2(ctx, name, &s3.BucketVersioningV2Args{
		Bucket: bucket.ID(),
		VersioningConfiguration: s3.BucketVersioningV2VersioningConfigurationArgs{
			Status: pulumi.String("Enabled"),
		},
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("versioning: %w", err)
	}
	if _, err := s3.NewBucketServerSideEncryptionConfigurationV2(ctx, name, &s3.BucketServerSideEncryptionConfigurationV2Args{
		Bucket: bucket.ID(),
		Rules: s3.BucketServerSideEncryptionConfigurationV2RuleArray{s3.BucketServerSideEncryptionConfigurationV2RuleArgs{
			ApplyServerSideEncryptionByDefault: s3.BucketServerSideEncryptionConfigurationV2RuleApplyServerSideEncryptionByDefaultArgs{
				SseAlgorithm:   pulumi.String("aws:kms"),
				KmsMasterKeyId: key.Arn,
			},
			// S3 Bucket Keys cut KMS requests (and cost) by orders of magnitude.
			BucketKeyEnabled: pulumi.Bool(true),
		}},
	}, opts...); err != nil {
		return nil, fmt.Errorf("encryption: %w", err)
	}
	rules := s3.BucketLifecycleConfigurationV2RuleArray{archiveLifecycle(a)}
	if a.InboxExpiry {
		rules = append(rules, inboxExpiry())
	}
	if _, err := s3.NewBucketLifecycleConfigurationV2(ctx, name, &s3.BucketLifecycleConfigurationV2Args{
		Bucket:                             bucket.ID(),
		TransitionDefaultMinimumObjectSize: pulumi.String(TransitionMinimumObjectSize),
		Rules:                              rules,
		// Lifecycle rules on noncurrent versions need versioning in place.
	}, append(opts, pulumi.DependsOn([]pulumi.Resource{versioning}))...); err != nil {
		return nil, fmt.Errorf("lifecycle: %w", err)
	}
	return &secureBucket{bucket: bucket, key: key, versioning: versioning}, nil
}

// archiveLifecycle is the seed's rule for every object: STANDARD_IA, then
// GLACIER, old versions expired, incomplete uploads aborted.
func archiveLifecycle(a ArchiveBucketArgs) s3.BucketLifecycleConfigurationV2RuleArgs {
	return s3.BucketLifecycleConfigurationV2RuleArgs{
		Id:     pulumi.String(LifecycleRuleID),
		Status: pulumi.String("Enabled"),
		Filter: s3.BucketLifecycleConfigurationV2RuleFilterArgs{Prefix: pulumi.String("")},
		Transitions: s3.BucketLifecycleConfigurationV2RuleTransitionArray{
			s3.BucketLifecycleConfigurationV2RuleTransitionArgs{
				Days: pulumi.Int(a.InfrequentAccessAfterDays), StorageClass: pulumi.String(InfrequentAccessStorageClass),
			},
			s3.BucketLifecycleConfigurationV2RuleTransitionArgs{
				Days: pulumi.Int(a.GlacierAfterDays), StorageClass: pulumi.String(GlacierStorageClass),
			},
		},
		NoncurrentVersionExpiration: s3.BucketLifecycleConfigurationV2RuleNoncurrentVersionExpirationArgs{
			NoncurrentDays: pulumi.Int(a.NoncurrentVersionExpirationDays),
		},
		AbortIncompleteMultipartUpload: s3.BucketLifecycleConfigurationV2RuleAbortIncompleteMultipartUploadArgs{
			DaysAfterInitiation: pulumi.Int(AbortIncompleteMultipartUploadDays),
		},
	}
}

// InboxRuleID names the lifecycle rule that clears the delivery inbox.
const InboxRuleID = "ExpireInbox"

// inboxExpiry removes deliveries left in the inbox (contract.InboxPrefix)
// after contract.InboxExpiryDays: the function deletes each once processed,
// so what remains failed every retry and has been alarmed on; the raw
// delivery of every stored call is kept under the archive prefix.
func inboxExpiry() s3.BucketLifecycleConfigurationV2RuleArgs {
	return s3.BucketLifecycleConfigurationV2RuleArgs{
		Id:         pulumi.String(InboxRuleID),
		Status:     pulumi.String("Enabled"),
		Filter:     s3.BucketLifecycleConfigurationV2RuleFilterArgs{Prefix: pulumi.String(contract.InboxPrefix)},
		Expiration: s3.BucketLifecycleConfigurationV2RuleExpirationArgs{Days: pulumi.Int(contract.InboxExpiryDays)},
		NoncurrentVersionExpiration: s3.BucketLifecycleConfigurationV2RuleNoncurrentVersionExpirationArgs{
			NoncurrentDays: pulumi.Int(1),
		},
	}
}

// TLSOnlyBucketPolicy denies every request to the bucket that does not use
// TLS, or uses TLS older than MinimumTLSVersion. It grants nothing.
func TLSOnlyBucketPolicy(bucketArn string) PolicyDocument {
	resources := []string{bucketArn, bucketArn + "/*"}
	return PolicyDocument{Version: policyVersion, Statement: []PolicyStatement{
		{
			Sid: "DenyInsecureTransport", Effect: "Deny", Principal: "*",
			Action: []string{"s3:*"}, Resource: resources,
			Condition: map[string]any{"Bool": map[string]string{"aws:SecureTransport": "false"}},
		},
		{
			Sid: "DenyOutdatedTLS", Effect: "Deny", Principal: "*",
			Action: []string{"s3:*"}, Resource: resources,
			Condition: map[string]any{"NumericLessThan": map[string]string{"s3:TlsVersion": MinimumTLSVersion}},
		},
	}}
}

// ReplicationPolicy is the least-privilege policy of the S3 replication role:
// read versions from the source, write replicas to the destination, decrypt
// with the source key and encrypt with the destination key, nothing else.
func ReplicationPolicy(sourceBucketArn, sourceKeyArn, destBucketArn, destKeyArn string) PolicyDocument {
	return PolicyDocument{Version: policyVersion, Statement: []PolicyStatement{
		{
			Sid: "ReadReplicationConfiguration", Effect: "Allow",
			Action:   []string{"s3:GetReplicationConfiguration", "s3:ListBucket"},
			Resource: []string{sourceBucketArn},
		},
		{
			Sid: "ReadSourceVersions", Effect: "Allow",
			Action:   []string{"s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl", "s3:GetObjectVersionTagging"},
			Resource: []string{sourceBucketArn + "/*"},
		},
		{
			Sid: "WriteReplicas", Effect: "Allow",
			Action:   []string{"s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"},
			Resource: []string{destBucketArn + "/*"},
		},
		{
			Sid: "DecryptSource", Effect: "Allow",
			Action:   []string{"kms:Decrypt"},
			Resource: []string{sourceKeyArn},
		},
		{
			Sid: "EncryptReplica", Effect: "Allow",
			Action:   []string{"kms:Encrypt", "kms:GenerateDataKey"},
			Resource: []string{destKeyArn},
		},
	}}
}
