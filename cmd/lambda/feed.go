package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigatewaymanagementapi"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/access911/access911-infra/app/feed"
	"github.com/access911/access911-infra/app/feed/registry"
	"github.com/access911/access911-infra/app/handler"
	"github.com/access911/access911-infra/contract"
)

// feedSecrets reads the feed secret the way the webhook's is read: once per
// cold start, kept, in either form (a secret, or current/previous).
type feedSecrets struct{ *handler.SecretsManagerSource }

func (s feedSecrets) FeedSecrets(ctx context.Context) ([]string, error) { return s.WebhookSecrets(ctx) }

// feedEntry is the handler of a feed function, chosen by contract.EnvFeedRole.
func feedEntry(role string, awsCfg aws.Config, db *dynamodb.Client, log *slog.Logger) (any, error) {
	registry := &registry.Registry{DB: db, Connections: os.Getenv(contract.EnvFeedConnectionsTable),
		Partitions: os.Getenv(contract.EnvFeedPartitionsTable)}
	registry.PartitionCount, _ = strconv.Atoi(os.Getenv(contract.EnvFeedPartitions))
	registry.PerArea, _ = strconv.Atoi(os.Getenv(contract.EnvFeedPartitionsPerArea))
	poster := &feed.ManagementPoster{Client: apigatewaymanagementapi.NewFromConfig(awsCfg, func(o *apigatewaymanagementapi.Options) {
		o.BaseEndpoint = aws.String(os.Getenv(contract.EnvFeedManagementEndpoint))
		o.HTTPClient = feed.PostHTTPClient()
	})}
	switch role {
	case contract.FeedRoleAuthorizer:
		src := &handler.SecretsManagerSource{Client: secretsmanager.NewFromConfig(awsCfg), ARN: os.Getenv(contract.EnvFeedSecretARN)}
		return (&feed.Authorizer{Secrets: feedSecrets{src}}).Authorize, nil
	case contract.FeedRoleConnect, contract.FeedRoleDisconnect, contract.FeedRoleDefault:
		routes := &feed.Routes{Registry: registry, Poster: poster, Log: log}
		for route, r := range contract.FeedRouteRoles {
			if r == role {
				return routes.Only(route), nil
			}
		}
	case contract.FeedRoleSwarm:
		swarm := &feed.Swarm{SQS: sqs.NewFromConfig(awsCfg), Queues: strings.Split(os.Getenv(contract.EnvFeedQueueURLs), ","),
			Partitions: registry.PartitionCount, PerArea: registry.PerArea, Log: log,
			Region: os.Getenv("AWS_REGION"), Metrics: newEmitter(),
			Broadcasts: &feed.Broadcasts{DB: db, Table: os.Getenv(contract.EnvFeedDeliveriesTable)}}
		if fn := os.Getenv(contract.EnvReadCacheInvalidatorFunction); fn != "" {
			swarm.Invalidate = feed.LambdaInvoker(awslambda.NewFromConfig(awsCfg), fn)
		}
		return func(ctx context.Context, ev events.DynamoDBEvent) error {
			_, err := swarm.Handle(ctx, ev)
			return err
		}, nil
	case contract.FeedRoleWorker:
		lease, _ := strconv.Atoi(os.Getenv(contract.EnvFeedDeliveryLease))
		worker := &feed.Worker{Members: registry, Poster: poster, Forgetter: registry, Parallelism: contract.FeedPostsInFlight,
			Ledger:  &feed.Ledger{DB: db, Table: os.Getenv(contract.EnvFeedDeliveriesTable), Lease: time.Duration(max(lease, 1)) * time.Second},
			Metrics: newEmitter()}
		return func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
			resp, d, err := worker.Handle(ctx, ev)
			log.Info("delivered", "frames", d.Sent, "calls", d.Calls, "filtered", d.Filtered, "gone", d.Gone, "failed", len(d.Failed))
			return resp, err
		}, nil
	}
	return nil, fmt.Errorf("%s=%q is not a feed role", contract.EnvFeedRole, role)
}

// startFeed runs the feed function's entry point.
func startFeed(role string, cfg aws.Config, db *dynamodb.Client, log *slog.Logger) {
	entry, err := feedEntry(role, cfg, db, log)
	if err != nil {
		log.Error("feed function", "err", err)
		os.Exit(1)
	}
	lambda.Start(entry)
}
