// Command lambda is the call-intake Lambda function: the binary
// contract.Binary for contract.Architecture on contract.Runtime. Its
// configuration comes from the environment the function component sets
// (contract.Env*) and Lambda's own AWS_REGION.
package main

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/access911/access911-infra/app/handler"
	"github.com/access911/access911-infra/app/intake"
	"github.com/access911/access911-infra/app/metrics"
	"github.com/access911/access911-infra/app/store"
	"github.com/access911/access911-infra/contract"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	region := os.Getenv("AWS_REGION")
	db, err := store.NewClient(context.Background(), region, "")
	if err != nil {
		log.Error("dynamodb client", "err", err)
		os.Exit(1)
	}
	cfg, err := awsconfig.LoadDefaultConfig(context.Background(), awsconfig.WithRegion(region))
	if err != nil {
		log.Error("aws config", "err", err)
		os.Exit(1)
	}
	if role := os.Getenv(contract.EnvFeedRole); role != "" {
		startFeed(role, cfg, db, log) // one of the dispatcher feed's functions
		return
	}
	table := os.Getenv(contract.EnvCallsTable)
	if table == "" {
		log.Error(contract.EnvCallsTable + " is not set")
		os.Exit(1)
	}
	callsTable := &store.Store{DB: db, Table: table}
	h := &handler.Handler{
		Store:       callsTable,
		Region:      region,
		AllowOrigin: os.Getenv(contract.EnvCORSAllowOrigin),
		Log:         log,
		Metrics:     &metrics.Emitter{W: os.Stdout},
	}
	if endpoint := os.Getenv(contract.EnvReadCacheEndpoint); endpoint != "" {
		startReadCache(endpoint, h, log) // the read cache's reader or invalidator
		return
	}
	if bucket := os.Getenv(contract.EnvArchiveBucket); bucket != "" {
		archive := &handler.S3Archiver{Client: s3.NewFromConfig(cfg), Bucket: bucket}
		h.Archive, h.Inbox = archive, archive
	}
	// The same binary is the drain function: its event source mapping hands
	// it SQS batches.
	drainer := &intake.Drainer{Store: callsTable, Metrics: h.Metrics, Log: log}
	if url := os.Getenv(contract.EnvIntakeQueueURL); url != "" {
		queue := &intake.SQSQueue{Client: sqs.NewFromConfig(cfg), URL: url}
		h.Queue, h.IntakeMode = queue, os.Getenv(contract.EnvIntakeMode)
		drainer.Depth, drainer.DepthEvery = queue.Depth, 10*time.Second
	}
	// Read on the first provider delivery, then kept for the function's life.
	if arn := os.Getenv(contract.EnvWebhookSecretARN); arn != "" {
		h.WebhookSecrets = &handler.SecretsManagerSource{Client: secretsmanager.NewFromConfig(cfg), ARN: arn}
	}
	lambda.Start(handler.LambdaEntry(h, drainer))
}
