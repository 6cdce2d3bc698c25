package main

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/access911/access911-infra/components"
)

// ArchiveBucketArgs are components.ArchiveBucketArgs as plain values: the
// replica's provider is its region's name.
type ArchiveBucketArgs struct {
	// ReplicaRegion is where the replica bucket goes (an AWS provider for
	// it is created beside the archive).
	ReplicaRegion                   string            `pulumi:"replicaRegion"`
	InfrequentAccessAfterDays       int               `pulumi:"infrequentAccessAfterDays,optional"`
	GlacierAfterDays                int               `pulumi:"glacierAfterDays,optional"`
	NoncurrentVersionExpirationDays int               `pulumi:"noncurrentVersionExpirationDays,optional"`
	ForceDestroy                    bool              `pulumi:"forceDestroy,optional"`
	InboxExpiry                     bool              `pulumi:"inboxExpiry,optional"`
	Purpose                         string            `pulumi:"purpose,optional"`
	Tags                            map[string]string `pulumi:"tags,optional"`
}

// NewArchiveBucket constructs components.ArchiveBucket from plain
// arguments, with a provider for the replica's region.
func NewArchiveBucket(ctx *pulumi.Context, name string, args ArchiveBucketArgs, opts ...pulumi.ResourceOption) (*components.ArchiveBucket, error) {
	if args.ReplicaRegion == "" {
		return nil, fmt.Errorf("archive %q: replicaRegion is required: the archive is the only copy of raw payloads", name)
	}
	replica, err := aws.NewProvider(ctx, name+"-"+args.ReplicaRegion, &aws.ProviderArgs{Region: pulumi.String(args.ReplicaRegion)}, opts...)
	if err != nil {
		return nil, fmt.Errorf("archive %q: provider for %s: %w", name, args.ReplicaRegion, err)
	}
	return components.NewArchiveBucket(ctx, name, &components.ArchiveBucketArgs{ReplicaProvider: replica,
		InfrequentAccessAfterDays: args.InfrequentAccessAfterDays, GlacierAfterDays: args.GlacierAfterDays,
		NoncurrentVersionExpirationDays: args.NoncurrentVersionExpirationDays, ForceDestroy: args.ForceDestroy,
		InboxExpiry: args.InboxExpiry, Purpose: args.Purpose, Tags: pulumi.ToStringMap(args.Tags)}, opts...)
}
