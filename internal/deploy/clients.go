package deploy

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/servicequotas"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/access911/access911-infra/internal/drill"
)

// Clients are the AWS clients the preflight and the readiness wait use,
// one per region, from the default credential chain. endpoint, when set,
// replaces every AWS endpoint (an emulator); against AWS it is empty.
type Clients struct {
	Preflight PreflightClients
	DynamoDB  func(region string) *dynamodb.Client
}

// NewClients builds the clients.
func NewClients(ctx context.Context, endpoint string, cli CLI) (Clients, error) {
	cfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion("us-east-1"))
	if err != nil {
		return Clients{}, fmt.Errorf("aws config: %w", err)
	}
	var base *string
	if endpoint != "" {
		base = aws.String(endpoint)
	}
	in := drill.RegionConfigs(ctx) // each region's clients, and their credentials, from that region
	return Clients{
		Preflight: PreflightClients{
			STS: drill.PerRegion(func(r string) *sts.Client {
				return sts.NewFromConfig(in(r), func(o *sts.Options) { o.Region, o.BaseEndpoint = r, base })
			}),
			Lambda: drill.PerRegion(func(r string) *lambda.Client {
				return lambda.NewFromConfig(in(r), func(o *lambda.Options) { o.Region, o.BaseEndpoint = r, base })
			}),
			Quotas: drill.PerRegion(func(r string) *servicequotas.Client {
				return servicequotas.NewFromConfig(in(r), func(o *servicequotas.Options) { o.Region, o.BaseEndpoint = r, base })
			}),
			Secrets: drill.PerRegion(func(r string) *secretsmanager.Client {
				return secretsmanager.NewFromConfig(in(r), func(o *secretsmanager.Options) { o.Region, o.BaseEndpoint = r, base })
			}),
			SNS: drill.PerRegion(func(r string) *sns.Client {
				return sns.NewFromConfig(in(r), func(o *sns.Options) { o.Region, o.BaseEndpoint = r, base })
			}),
			// Route53's control plane lives in us-east-1.
			Route53: route53.NewFromConfig(cfg, func(o *route53.Options) { o.BaseEndpoint = base }),
			CLI:     cli,
		},
		DynamoDB: drill.PerRegion(func(r string) *dynamodb.Client {
			return dynamodb.NewFromConfig(in(r), func(o *dynamodb.Options) { o.Region, o.BaseEndpoint = r, base })
		}),
	}, nil
}
