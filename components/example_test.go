package components_test

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/access911/access911-infra/capacity"
	"github.com/access911/access911-infra/components"
	"github.com/access911/access911-infra/contract"
	"github.com/access911/access911-infra/pulumitest"
)

// Another service's table: its own key schema and index, on-demand, with
// the data protections on as they are by default.
func ExampleNewCallsTable() {
	res, err := pulumitest.Run(func(ctx *pulumi.Context) error {
		_, err := components.NewCallsTable(ctx, "orders", &components.CallsTableArgs{
			Name:    "shop-orders",
			Billing: capacity.Billing{Mode: capacity.PayPerRequest},
			Keys: &components.TableKeys{
				Hash:    contract.KeyAttribute{Name: "order_id", Type: "S"},
				Range:   contract.KeyAttribute{Name: "placed_at", Type: "N"},
				Indexes: []components.TableIndex{{Name: "by-customer", Hash: contract.KeyAttribute{Name: "customer_id", Type: "S"}}},
			},
			TTLAttribute: "purge_at",
		})
		return err
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	t := res.ByType("aws:dynamodb/table:Table")[0]
	fmt.Println(t.Name, t.Inputs["name"], t.Inputs["hashKey"], t.Inputs["rangeKey"], t.Inputs["billingMode"])
	fmt.Println("index:", t.Inputs["globalSecondaryIndexes"].([]any)[0].(map[string]any)["name"])
	fmt.Println("ttl:", t.Inputs["ttl"].(map[string]any)["attributeName"])
	fmt.Println("protect:", t.Protect, "retain:", t.RetainOnDelete, "deletion protection:", t.Inputs["deletionProtectionEnabled"])
	// Output:
	// orders shop-orders order_id placed_at PAY_PER_REQUEST
	// index: by-customer
	// ttl: purge_at
	// protect: true retain: true deletion protection: true
}

// Another service's archive in eu-west-2, replicated to eu-west-1 through a
// provider for that region: both buckets encrypted with keys of their own.
func ExampleNewArchiveBucket() {
	res, err := pulumitest.Run(func(ctx *pulumi.Context) error {
		replica, err := aws.NewProvider(ctx, "eu-west-1", &aws.ProviderArgs{Region: pulumi.String("eu-west-1")})
		if err != nil {
			return err
		}
		_, err = components.NewArchiveBucket(ctx, "orders", &components.ArchiveBucketArgs{
			ReplicaProvider: replica, Purpose: "shop order archive"})
		return err
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, k := range res.ByType("aws:kms/key:Key") {
		fmt.Println(k.Name, "|", k.Inputs["description"], "| rotation:", k.Inputs["enableKeyRotation"])
	}
	fmt.Println("replication rules:", len(res.ByType("aws:s3/bucketReplicationConfig:BucketReplicationConfig")))
	// Output:
	// orders | shop order archive (orders) | rotation: true
	// orders-replica | shop order archive (orders-replica) | rotation: true
	// replication rules: 1
}

// Alarms for a function another team already runs, on its paging topic.
func ExampleNewAlarms() {
	res, err := pulumitest.Run(func(ctx *pulumi.Context) error {
		_, err := components.NewAlarms(ctx, "checkout", &components.AlarmsArgs{
			Region: "eu-west-2", FunctionName: pulumi.String("checkout"), ReservedConcurrency: 50,
			TopicArn: pulumi.String("arn:aws:sns:eu-west-2:111122223333:oncall"), NoAppMetrics: true,
		})
		return err
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, al := range res.ByType("aws:cloudwatch/metricAlarm:MetricAlarm") {
		fmt.Println(al.Name)
	}
	// Output:
	// checkout-LambdaConcurrencyNearLimit
	// checkout-LambdaErrors
	// checkout-LambdaThrottles
}
