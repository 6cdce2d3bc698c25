package drill

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// NewClients builds the drill's clients from the default credential chain,
// one per region the drill calls, each configured for that region (its STS
// too): none is pinned to us-east-1. endpoint, when set, replaces every AWS
// endpoint (an emulator such as moto); production runs leave it empty.
func NewClients(ctx context.Context, endpoint string) (Clients, error) {
	if _, err := awsconfig.LoadDefaultConfig(ctx); err != nil {
		return Clients{}, fmt.Errorf("aws config: %w", err)
	}
	in := RegionConfigs(ctx)
	return Clients{
		CloudWatch: PerRegion(func(region string) *cloudwatch.Client {
			return cloudwatch.NewFromConfig(in(region), func(o *cloudwatch.Options) {
				o.Region = region
				if endpoint != "" {
					o.BaseEndpoint = aws.String(endpoint)
				}
			})
		}),
		DynamoDB: PerRegion(func(region string) *dynamodb.Client {
			return dynamodb.NewFromConfig(in(region), func(o *dynamodb.Options) {
				o.Region = region
				if endpoint != "" {
					o.BaseEndpoint = aws.String(endpoint)
				}
			})
		}),
		S3: PerRegion(func(region string) *s3.Client {
			return s3.NewFromConfig(in(region), func(o *s3.Options) {
				o.Region = region
				if endpoint != "" {
					o.BaseEndpoint = aws.String(endpoint)
					o.UsePathStyle = true // emulators serve buckets by path
				}
			})
		}),
		SecretsManager: PerRegion(func(region string) *secretsmanager.Client {
			return secretsmanager.NewFromConfig(in(region), func(o *secretsmanager.Options) {
				o.Region = region
				if endpoint != "" {
					o.BaseEndpoint = aws.String(endpoint)
				}
			})
		}),
		HTTP: &http.Client{Timeout: 5 * time.Second},
	}, nil
}

// RegionConfigs is the default credential chain loaded for each region, once,
// on first use: credentials that assume a role then call STS in that region
// (the SDK's regional endpoint), so a client of us-west-2 works while
// us-east-1 is unreachable. A chain that fails to load gives a bare config
// whose calls fail with the reason (NewClients loaded it once already).
func RegionConfigs(ctx context.Context) func(region string) aws.Config {
	return PerRegion(func(region string) aws.Config {
		cfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion(region))
		if err != nil {
			return aws.Config{Region: region}
		}
		return cfg
	})
}

// PerRegion builds one client per region, once, on first use.
func PerRegion[C any](build func(region string) C) func(string) C {
	var mu sync.Mutex
	clients := map[string]C{}
	return func(region string) C {
		mu.Lock()
		defer mu.Unlock()
		c, ok := clients[region]
		if !ok {
			c = build(region)
			clients[region] = c
		}
		return c
	}
}
