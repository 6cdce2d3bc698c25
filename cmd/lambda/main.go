// Command lambda is the call-intake Lambda function (runtime provided.al2023,
// arm64, handler "bootstrap"). Its configuration comes from the environment
// the function component sets.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/access911/access911-infra/app/handler"
	"github.com/access911/access911-infra/app/metrics"
	"github.com/access911/access911-infra/app/store"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	table := os.Getenv("CALLS_TABLE")
	if table == "" {
		log.Error("CALLS_TABLE is not set")
		os.Exit(1)
	}
	db, err := store.NewClient(context.Background(), os.Getenv("AWS_REGION"), "")
	if err != nil {
		log.Error("dynamodb client", "err", err)
		os.Exit(1)
	}
	region := os.Getenv("AWS_REGION")
	h := &handler.Handler{
		Store:       &store.Store{DB: db, Table: table},
		Region:      region,
		AllowOrigin: os.Getenv("CORS_ALLOW_ORIGIN"),
		Log:         log,
		Metrics:     &metrics.Emitter{W: os.Stdout},
	}
	if bucket := os.Getenv("ARCHIVE_BUCKET"); bucket != "" {
		cfg, err := awsconfig.LoadDefaultConfig(context.Background(), awsconfig.WithRegion(region))
		if err != nil {
			log.Error("aws config", "err", err)
			os.Exit(1)
		}
		h.Archive = &handler.S3Archiver{Client: s3.NewFromConfig(cfg), Bucket: bucket}
		h.ArchivePrefix = os.Getenv("ARCHIVE_PREFIX")
	}
	lambda.Start(handler.LambdaAdapter(h.Routes()))
}
