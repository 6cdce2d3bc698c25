package store

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// NewClient is the DynamoDB client the Lambda and the tools use: the default
// credential chain and region, the tuned HTTP client and retryer, and, when
// endpoint is set, that endpoint instead of AWS's (for emulators; nothing in
// a production path sets it).
func NewClient(ctx context.Context, region, endpoint string) (*dynamodb.Client, error) {
	opts := []func(*awsconfig.LoadOptions) error{}
	if region != "" {
		opts = append(opts, awsconfig.WithRegion(region))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("aws config: %w", err)
	}
	return dynamodb.NewFromConfig(cfg, ClientOptions, func(o *dynamodb.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
	}), nil
}

// NewLocalClient talks to DynamoDB Local at endpoint with throwaway
// credentials (DynamoDB Local accepts any).
func NewLocalClient(endpoint string, extra ...func(*dynamodb.Options)) *dynamodb.Client {
	opts := dynamodb.Options{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", ""),
	}
	ClientOptions(&opts)
	opts.BaseEndpoint = aws.String(endpoint)
	for _, f := range extra {
		f(&opts)
	}
	return dynamodb.New(opts)
}
