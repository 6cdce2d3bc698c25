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
	"github.com/access911/access911-infra/app/readcache"
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
	kind := contract.FunctionKind(os.Getenv)
	if missing := contract.MissingEnv(os.Getenv); len(missing) > 0 {
		log.Error("the function's environment lacks what it needs", "kind", kind, "missing", missing)
		os.Exit(1)
	}
	emf := newEmitter()
	switch kind {
	case contract.FunctionIntake, contract.FunctionCacheReader:
	case contract.FunctionCacheInvalidator:
		cache := readCache(os.Getenv(contract.EnvReadCacheEndpoint), emf, log)
		lambda.Start(cache.HandleStream) // invoked by the swarm with each stream batch
		return
	default:
		startFeed(kind, cfg, db, log) // one of the dispatcher feed's functions
		return
	}
	callsTable := &store.Store{DB: db, Table: os.Getenv(contract.EnvCallsTable)}
	h := &handler.Handler{
		Store:       callsTable,
		Region:      region,
		AllowOrigin: os.Getenv(contract.EnvCORSAllowOrigin),
		Log:         log,
		Metrics:     emf,
	}
	if kind == contract.FunctionCacheReader {
		h.Store = &readcache.Store{Store: h.Store, Cache: readCache(os.Getenv(contract.EnvReadCacheEndpoint), emf, log)}
		log.Info("read cache in front of the table")
		lambda.Start(handler.LambdaAdapter(h.Routes()))
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

// newEmitter writes the function's metrics to its log, dimensioned by the
// app its environment names.
func newEmitter() *metrics.Emitter {
	return &metrics.Emitter{W: os.Stdout, Service: os.Getenv(contract.EnvMetricsService)}
}
