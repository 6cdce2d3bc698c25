package components_test

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/access911/access911-infra/components"
	"github.com/access911/access911-infra/contract"
	"github.com/access911/access911-infra/pulumitest"
)

// intakeFunction is another app's call-intake function, its package in S3,
// with no provider webhook.
func intakeFunction(ctx *pulumi.Context, intake *components.FunctionIntake) (*components.Function, error) {
	return components.NewFunction(ctx, "shop-intake", &components.FunctionArgs{
		App: "shop", CodeHash: "2Ozs4ugHnS6ZHKNPYMx9gGaIkbGyGQvLdrWPY1qQzGY=",
		CodeObject: &components.CodeObject{Bucket: pulumi.String("shop-releases"), Key: pulumi.String("lambda/v1.4.2.zip")},
		TableName:  pulumi.String("shop-calls"), TableArn: pulumi.String("arn:aws:dynamodb:us-east-2:123456789012:table/shop-calls"),
		ArchiveBucketName: pulumi.String("shop-archive"), ArchiveBucketArn: pulumi.String("arn:aws:s3:::shop-archive"),
		ArchiveKMSKeyArn: pulumi.String("arn:aws:kms:us-east-2:123456789012:key/archive"),
		Intake:           intake,
	})
}

// withoutWebhook are the contract's routes but the provider's webhook.
func withoutWebhook() []*contract.Route {
	var routes []*contract.Route
	for _, r := range contract.Routes {
		if !strings.HasPrefix(r.Path, "/webhooks/") {
			routes = append(routes, r)
		}
	}
	return routes
}

// A function whose package a release pipeline uploaded to S3, for an app
// without the provider's webhook: the seed's sizing, its own role.
func ExampleNewFunction() {
	res, err := pulumitest.Run(func(ctx *pulumi.Context) error {
		_, err := intakeFunction(ctx, nil)
		return err
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fn := res.ByType("aws:lambda/function:Function")[0]
	fmt.Println(fn.Name, fn.Inputs["s3Bucket"], fn.Inputs["s3Key"], fn.Inputs["runtime"], fn.Inputs["architectures"])
	fmt.Println("memory:", fn.Inputs["memorySize"], "timeout:", fn.Inputs["timeout"], "reserved:", fn.Inputs["reservedConcurrentExecutions"])
	fmt.Println("role:", res.ByType("aws:iam/role:Role")[0].Inputs["description"])
	// Output:
	// shop-intake shop-releases lambda/v1.4.2.zip provided.al2023 [arm64]
	// memory: 512 timeout: 30 reserved: 100
	// role: shop call-intake Lambda
}

// The durable intake: an encrypted queue with its dead-letter queues, and
// the drain that stores what the function queued.
func ExampleNewIntakeQueue() {
	res, err := pulumitest.Run(func(ctx *pulumi.Context) error {
		q, err := components.NewIntakeQueue(ctx, "shop-intake-queue", &components.IntakeQueueArgs{App: "shop", DrainTimeoutSeconds: 30})
		if err != nil {
			return err
		}
		if _, err := intakeFunction(ctx, &components.FunctionIntake{Mode: contract.IntakeBuffered, QueueURL: q.QueueURL,
			QueueArn: q.QueueArn, KMSKeyArn: q.KMSKeyArn, InboxFailuresArn: q.InboxFailuresArn}); err != nil {
			return err
		}
		_, err = components.NewDrain(ctx, "shop-drain", &components.DrainArgs{App: "shop", Queue: q,
			CodeObject: &components.CodeObject{Bucket: pulumi.String("shop-releases"), Key: pulumi.String("lambda/v1.4.2.zip")},
			CodeHash:   "2Ozs4ugHnS6ZHKNPYMx9gGaIkbGyGQvLdrWPY1qQzGY=",
			TableName:  pulumi.String("shop-calls"), TableArn: pulumi.String("arn:aws:dynamodb:us-east-2:123456789012:table/shop-calls"),
			BatchSize: 10, BatchWindowSeconds: 1, MaxConcurrency: 20, TimeoutSeconds: 30, MemoryMB: 512, LogRetentionDays: 30})
		return err
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, q := range res.ByType("aws:sqs/queue:Queue") {
		fmt.Println(q.Name, "encrypted:", q.Inputs["kmsMasterKeyId"] != nil)
	}
	m := res.ByType("aws:lambda/eventSourceMapping:EventSourceMapping")[0]
	fmt.Println("drain:", m.Inputs["batchSize"], m.Inputs["functionResponseTypes"], m.Inputs["scalingConfig"])
	// Output:
	// shop-intake-queue encrypted: true
	// shop-intake-queue-dlq encrypted: true
	// shop-intake-queue-inbox-failures encrypted: true
	// drain: 10 [ReportBatchItemFailures] map[maximumConcurrency:20]
}

// A REST API of the contract's routes but the provider's webhook: each
// route validated, the private ones behind an API key.
func ExampleNewAPI() {
	res, err := pulumitest.Run(func(ctx *pulumi.Context) error {
		fn, err := intakeFunction(ctx, nil)
		if err != nil {
			return err
		}
		_, err = components.NewAPI(ctx, "shop-api", &components.APIArgs{App: "shop", Function: fn, Routes: withoutWebhook()})
		return err
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, m := range res.ByType("aws:apigateway/method:Method") {
		if m.Inputs["httpMethod"] != "OPTIONS" {
			fmt.Println(m.Name, "api key:", m.Inputs["apiKeyRequired"])
		}
	}
	fmt.Println(res.ByType("aws:apigateway/restApi:RestApi")[0].Inputs["description"])
	// Output:
	// shop-api-get-calls api key: true
	// shop-api-get-calls-id api key: true
	// shop-api-get-control-region api key: false
	// shop-api-get-health api key: false
	// shop-api-post-calls api key: true
	// shop-api-post-simulate api key: true
	// shop emergency-call intake
}

// The second region of a two-region chain: it owns level 1's PRIMARY and
// level 0's SECONDARY alias to it, behind a gate that reads both regions'
// failover controls.
func ExampleNewFailover() {
	res, err := pulumitest.Run(func(ctx *pulumi.Context) error {
		fn, err := intakeFunction(ctx, nil)
		if err != nil {
			return err
		}
		api, err := components.NewAPI(ctx, "shop-api", &components.APIArgs{App: "shop", Function: fn, Routes: withoutWebhook()})
		if err != nil {
			return err
		}
		_, err = components.NewFailover(ctx, "shop-dns", &components.FailoverArgs{App: "shop",
			Hostname: "calls.shop.example", ZoneID: "Z0123456789ABCDEFGHIJ", Region: "ca-central-1",
			Position: 1, Readers: []string{"us-east-2", "ca-central-1"}, API: api})
		return err
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range res.ByType("aws:route53/record:Record") {
		if name := r.Inputs["name"].(string); !strings.HasPrefix(name, "_") { // certificate validation aside
			fmt.Println(name, r.Inputs["type"], r.Inputs["failoverRoutingPolicies"], "alias:", r.Inputs["aliases"] != nil)
		}
	}
	for _, c := range res.ByType("aws:route53/healthCheck:HealthCheck") {
		fmt.Println(c.Inputs["type"], c.Inputs["tags"].(map[string]any)["Name"])
	}
	// Output:
	// failover-2.calls.shop.example CNAME [map[type:PRIMARY]] alias: false
	// ca-central-1.calls.shop.example CNAME <nil> alias: false
	// calls.shop.example CNAME [map[type:SECONDARY]] alias: true
	// HTTPS shop ca-central-1 /health
	// HTTPS_STR_MATCH shop ca-central-1 denied by ca-central-1's control
	// HTTPS_STR_MATCH shop ca-central-1 denied by us-east-2's control
	// CALCULATED shop ca-central-1 gate
}
