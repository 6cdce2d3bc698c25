// Command consumer is another team's Pulumi Go program built on
// access911-infra's components, as a consumer module would write it (its own
// go.mod, `replace` to this checkout): an order table with its own keys and
// an archive replicating eu-west-2 -> eu-west-1, alarms for an existing
// function on an existing topic. `go run .` runs it under
// mocks (package pulumitest) and prints each registered resource's type,
// name and key inputs; CI runs it (make examples).
package main

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/access911/access911-infra/capacity"
	"github.com/access911/access911-infra/components"
	"github.com/access911/access911-infra/contract"
	"github.com/access911/access911-infra/pulumitest"
)

// program is the consumer's Pulumi program.
func program(ctx *pulumi.Context) error {
	home, err := aws.NewProvider(ctx, "eu-west-2", &aws.ProviderArgs{Region: pulumi.String("eu-west-2")})
	if err != nil {
		return err
	}
	replica, err := aws.NewProvider(ctx, "eu-west-1", &aws.ProviderArgs{Region: pulumi.String("eu-west-1")})
	if err != nil {
		return err
	}
	table, err := components.NewCallsTable(ctx, "orders", &components.CallsTableArgs{
		Name:    "shop-orders",
		Billing: capacity.Billing{Mode: capacity.PayPerRequest},
		Keys: &components.TableKeys{
			Hash:    contract.KeyAttribute{Name: "order_id", Type: "S"},
			Range:   contract.KeyAttribute{Name: "placed_at", Type: "N"},
			Indexes: []components.TableIndex{{Name: "by-customer", Hash: contract.KeyAttribute{Name: "customer_id", Type: "S"}}},
		},
		TTLAttribute: "purge_at",
	}, pulumi.Provider(home))
	if err != nil {
		return err
	}
	archive, err := components.NewArchiveBucket(ctx, "order-archive", &components.ArchiveBucketArgs{
		ReplicaProvider: replica, Purpose: "shop order archive",
	}, pulumi.Provider(home))
	if err != nil {
		return err
	}
	// Alarms for a function the team already runs, on its paging topic.
	alarms, err := components.NewAlarms(ctx, "checkout", &components.AlarmsArgs{
		Region: "eu-west-2", FunctionName: pulumi.String("checkout"), ReservedConcurrency: 50,
		TopicArn: pulumi.String("arn:aws:sns:eu-west-2:111122223333:oncall"), NoAppMetrics: true,
	}, pulumi.Provider(home))
	if err != nil {
		return err
	}
	ctx.Export("ordersTable", table.TableName)
	ctx.Export("alarmArns", alarms.AlarmArns)
	ctx.Export("archiveReplicaKey", archive.ReplicaKMSKeyArn)
	return nil
}

// keyInputs are the inputs worth a line per resource type.
var keyInputs = map[string][]string{
	"aws:dynamodb/table:Table": {"name", "hashKey", "rangeKey", "billingMode", "deletionProtectionEnabled"},
	"aws:s3/bucketV2:BucketV2": {"forceDestroy"},
	"aws:kms/key:Key":          {"description", "enableKeyRotation"},
	"aws:iam/role:Role":        {"description"},
	"pulumi:providers:aws":     {"region"},
	"aws:s3/bucketReplicationConfig:BucketReplicationConfig": {"role"},
}

func main() {
	res, err := pulumitest.Run(program, pulumitest.Project("shop"), pulumitest.Stack("eu-west-2"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "consumer:", err)
		os.Exit(1)
	}
	for _, r := range res.Resources {
		var parts []string
		for _, k := range keyInputs[r.Type] {
			if v, ok := r.Inputs[k]; ok {
				parts = append(parts, fmt.Sprintf("%s=%v", k, v))
			}
		}
		sort.Strings(parts)
		fmt.Printf("%-58s %-34s %s\n", r.Type, r.Name, strings.Join(parts, " "))
	}
	fmt.Printf("%d resources registered\n", len(res.Resources))
}
