// Command consumer is another team's Pulumi Go programs built on
// access911-infra, as a consumer module would write them (its own go.mod,
// `replace` to this checkout):
//   - program: an order table with its own keys, an archive replicating
//     eu-west-2 -> eu-west-1, alarms for an existing function on an existing
//     topic;
//   - region: a whole region of the team's app "shop" in us-east-2
//     (stacks.BuildWith): its names, its shop: keys, its own Lambda package,
//     without the dispatcher feed or the provider's webhook.
//
// `go run .` runs both under mocks (package pulumitest), prints each
// registered resource's type, name and key inputs, and fails if any name or
// input is access911's; CI runs it (make examples).
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/access911/access911-infra/artifact"
	"github.com/access911/access911-infra/capacity"
	"github.com/access911/access911-infra/components"
	"github.com/access911/access911-infra/contract"
	"github.com/access911/access911-infra/pulumitest"
	"github.com/access911/access911-infra/stacks"
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

// region is the shop app's region: access911's composition with shop's
// names. The package is the team's own build (under `pulumi up` the file
// must exist; its base64 SHA-256 is what `openssl dgst -sha256 -binary |
// base64` prints); us-east-2's archive replicates to us-west-1.
func region(ctx *pulumi.Context) error {
	outputs, err := stacks.BuildWith(ctx, stacks.Options{
		App: "shop", ConfigNamespace: "shop",
		Code:         &artifact.Artifact{Path: "dist/shop-lambda.zip", SHA256: "2Ozs4ugHnS6ZHKNPYMx9gGaIkbGyGQvLdrWPY1qQzGY="},
		ArchivePairs: map[string]string{"us-east-2": "us-west-1", "ca-central-1": "us-west-1"},
		Features:     stacks.Features{NoFeed: true, NoProviderWebhook: true},
	})
	for k, v := range outputs {
		ctx.Export(k, v)
	}
	return err
}

// regionConfig is the shop region's stack configuration (Pulumi.yaml's
// project values and Pulumi.us-east-2.yaml, as the engine passes them).
var regionConfig = map[string]string{
	"aws:region":           "us-east-2",
	"shop:regions":         `["us-east-2","ca-central-1"]`,
	"shop:activeRegion":    "us-east-2",
	"shop:homeRegion":      "us-east-2",
	"shop:failoverOrder":   `["us-east-2","ca-central-1"]`,
	"shop:normalLoadRps":   `{"us-east-2":150,"ca-central-1":50}`,
	"shop:alarmEmail":      "oncall@shop.example",
	"shop:corsAllowOrigin": "https://shop.example",
}

// keyInputs are the inputs worth a line per resource type.
var keyInputs = map[string][]string{
	"aws:dynamodb/table:Table":                               {"name", "hashKey", "rangeKey", "billingMode", "deletionProtectionEnabled"},
	"aws:s3/bucketV2:BucketV2":                               {"forceDestroy"},
	"aws:kms/key:Key":                                        {"description", "enableKeyRotation"},
	"aws:iam/role:Role":                                      {"description"},
	"pulumi:providers:aws":                                   {"region", "defaultTags"},
	"aws:lambda/function:Function":                           {"description"},
	"aws:secretsmanager/secret:Secret":                       {"name"},
	"aws:cloudwatch/dashboard:Dashboard":                     {"dashboardName"},
	"aws:s3/bucketReplicationConfig:BucketReplicationConfig": {"role"},
}

func main() {
	failed, total := false, 0
	for _, run := range []struct {
		title   string
		program pulumi.RunFunc
		opts    []pulumitest.Option
	}{
		{"program (eu-west-2)", program, []pulumitest.Option{pulumitest.Project("shop"), pulumitest.Stack("eu-west-2")}},
		{"region (us-east-2)", region, []pulumitest.Option{pulumitest.Project("shop"), pulumitest.Stack("us-east-2"),
			pulumitest.Config(regionConfig)}},
	} {
		res, err := pulumitest.Run(run.program, run.opts...)
		if err != nil {
			fmt.Fprintf(os.Stderr, "consumer: %s: %v\n", run.title, err)
			os.Exit(1)
		}
		fmt.Printf("== %s\n", run.title)
		print(res)
		total += len(res.Resources)
		if bad := access911Names(res); len(bad) > 0 {
			failed = true
			fmt.Fprintf(os.Stderr, "consumer: %s: access911's names in %d resources:\n  %s\n", run.title, len(bad), strings.Join(bad, "\n  "))
		}
	}
	if failed {
		os.Exit(1)
	}
	fmt.Printf("%d resources registered by 2 programs, none with access911's names\n", total)
}

// print writes a line per resource and the count.
func print(res *pulumitest.Result) {
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

// cliMentions are the runbook lines that name the access911 CLI (its
// replay and cost commands read any app's stack outputs): not a name.
var cliMentions = strings.NewReplacer("access911 replay", "", "access911 cost", "")

// access911Names are the resources whose name or inputs say access911.
func access911Names(res *pulumitest.Result) []string {
	var bad []string
	for _, r := range res.Resources {
		inputs, err := json.Marshal(r.Inputs)
		if err != nil || strings.Contains(cliMentions.Replace(r.Name+" "+string(inputs)), "access911") {
			bad = append(bad, r.Type+" "+r.Name)
		}
	}
	return bad
}
