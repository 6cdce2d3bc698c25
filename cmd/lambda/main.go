// Command lambda is the call-intake Lambda function (runtime provided.al2023,
// arm64, handler "bootstrap"). Its configuration comes from the environment
// the function component sets.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/access911/access911-infra/handler"
	"github.com/access911/access911-infra/store"
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
	h := &handler.Handler{
		Store:       &store.Store{DB: db, Table: table},
		Region:      os.Getenv("AWS_REGION"),
		AllowOrigin: os.Getenv("CORS_ALLOW_ORIGIN"),
		Log:         log,
	}
	lambda.Start(handler.LambdaAdapter(h.Routes()))
}
