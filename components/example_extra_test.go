package components_test

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/access911/access911-infra/components"
	"github.com/access911/access911-infra/pulumitest"
)

// shopPackage is the shop app's Lambda package in S3.
var shopPackage = &components.CodeObject{Bucket: pulumi.String("shop-releases"), Key: pulumi.String("lambda/v1.4.2.zip")}

const shopHash = "2Ozs4ugHnS6ZHKNPYMx9gGaIkbGyGQvLdrWPY1qQzGY="

// A secret whose value a stack's secret config gives, and the API key
// secret every region reads its replica of.
func ExampleNewWebhookSecret() {
	res, err := pulumitest.Run(func(ctx *pulumi.Context) error {
		if _, err := components.NewWebhookSecret(ctx, "shop-webhook-secret", &components.WebhookSecretArgs{
			Value: pulumi.ToSecret(pulumi.String("whsec_example")).(pulumi.StringOutput), Description: "the payment provider's webhook secret",
		}); err != nil {
			return err
		}
		_, err := components.NewClientKeySecret(ctx, "shop-api-key", &components.ClientKeySecretArgs{
			Name: "shop/api-key", Value: pulumi.ToSecret(pulumi.String("key")).(pulumi.StringOutput), ReplicaRegions: []string{"ca-central-1"}})
		return err
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range res.ByType("aws:secretsmanager/secret:Secret") {
		fmt.Println(s.Name, "| replicas:", s.Inputs["replicas"])
	}
	// Output:
	// shop-api-key | replicas: [map[region:ca-central-1]]
	// shop-webhook-secret | replicas: <nil>
}

// The read cache for another app's table: Valkey serverless in two zones,
// its reader and invalidator functions in the private subnets.
func ExampleNewReadCache() {
	res, err := pulumitest.Run(func(ctx *pulumi.Context) error {
		_, err := components.NewReadCache(ctx, "shop-read-cache", &components.ReadCacheArgs{App: "shop",
			CodeObject: shopPackage, CodeHash: shopHash,
			AvailabilityZoneIDs: []string{"use2-az1", "use2-az2"}, DynamoDBServiceName: "com.amazonaws.us-east-2.dynamodb",
			TableName: pulumi.String("shop-calls"), TableArn: pulumi.String("arn:aws:dynamodb:us-east-2:123456789012:table/shop-calls"),
			TTLSeconds: 300, QueryTTLSeconds: 5, MaxECPUPerSecond: 5000, MaxDataGB: 1,
			MemoryMB: 512, TimeoutSeconds: 30, LogRetentionDays: 30})
		return err
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	c := res.ByType("aws:elasticache/serverlessCache:ServerlessCache")[0]
	fmt.Println(c.Inputs["engine"], c.Inputs["majorEngineVersion"], c.Inputs["description"])
	fmt.Println("subnets:", len(res.ByType("aws:ec2/subnet:Subnet")), "functions:", len(res.ByType("aws:lambda/function:Function")))
	// Output:
	// valkey 8 shop read cache: calls read by GET /calls, kept current by the table's stream
	// subnets: 2 functions: 2
}

// The dispatcher feed for another app: a WebSocket API, its partition
// queues and the functions that fan each new call out.
func ExampleNewFeed() {
	res, err := pulumitest.Run(func(ctx *pulumi.Context) error {
		_, err := components.NewFeed(ctx, "shop-feed", &components.FeedArgs{App: "shop",
			CodeObject: shopPackage, CodeHash: shopHash,
			StreamArn:        pulumi.String("arn:aws:dynamodb:us-east-2:123456789012:table/shop-calls/stream/2026-12-05T00:00:00.000"),
			SecretArn:        pulumi.String("arn:aws:secretsmanager:us-east-2:123456789012:secret:shop/feed-AbCdEf"),
			FailureBucketArn: pulumi.String("arn:aws:s3:::shop-archive"), FailureKeyArn: pulumi.String("arn:aws:kms:us-east-2:123456789012:key/archive"),
			Partitions: 20, PartitionsPerArea: 1, Queues: 2, QueryBatchSize: 10, QueryConcurrency: 4,
			TimeoutSeconds: 30, MemoryMB: 512, LogRetentionDays: 30,
			AlarmTopicArn: pulumi.String("arn:aws:sns:us-east-2:123456789012:oncall"), Region: "us-east-2"})
		return err
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.ByType("aws:apigatewayv2/api:Api")[0].Inputs["protocolType"])
	fmt.Println("functions:", len(res.ByType("aws:lambda/function:Function")), "queues:", len(res.ByType("aws:sqs/queue:Queue")))
	fmt.Println(res.ByType("aws:cloudwatch/dashboard:Dashboard")[0].Inputs["dashboardName"])
	// Output:
	// WEBSOCKET
	// functions: 6 queues: 3
	// shop-feed-us-east-2
}

// An inbox: objects landing under the inbox prefix invoke the function,
// and an event that fails every retry is recorded on a queue.
func ExampleNewInboxTrigger() {
	res, err := pulumitest.Run(func(ctx *pulumi.Context) error {
		fn, err := intakeFunction(ctx, nil)
		if err != nil {
			return err
		}
		_, err = components.NewInboxTrigger(ctx, "shop-inbox", &components.InboxTriggerArgs{Function: fn,
			BucketName: pulumi.String("shop-archive"), BucketArn: pulumi.String("arn:aws:s3:::shop-archive"),
			FailureDestinationArn: pulumi.String("arn:aws:sqs:us-east-2:123456789012:shop-inbox-failures")})
		return err
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	n := res.ByType("aws:s3/bucketNotification:BucketNotification")[0]
	fmt.Println(n.Inputs["bucket"], n.Inputs["lambdaFunctions"].([]any)[0].(map[string]any)["filterPrefix"])
	c := res.ByType("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig")[0]
	fmt.Println("on failure:", c.Inputs["destinationConfig"].(map[string]any)["onFailure"].(map[string]any)["destination"])
	// Output:
	// shop-archive inbox/elevenlabs/
	// on failure: arn:aws:sqs:us-east-2:123456789012:shop-inbox-failures
}
