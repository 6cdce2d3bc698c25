package main

import (
	"crypto/tls"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/redis/go-redis/v9"

	"github.com/access911/access911-infra/app/handler"
	"github.com/access911/access911-infra/app/readcache"
	"github.com/access911/access911-infra/contract"
)

// readCache connects to the read cache at endpoint: ElastiCache Serverless
// speaks TLS only and is a cluster (its one endpoint routes each key), with
// short timeouts so a slow cache is skipped, never waited for.
func readCache(endpoint string, h *handler.Handler) *readcache.Cache {
	client := redis.NewClusterClient(&redis.ClusterOptions{
		Addrs:       []string{endpoint},
		TLSConfig:   &tls.Config{MinVersion: tls.VersionTLS12},
		DialTimeout: readcache.DialTimeout, ReadTimeout: readcache.CommandTimeout, WriteTimeout: readcache.CommandTimeout,
		MaxRetries: -1, // a failed command falls back to the table at once
	})
	return &readcache.Cache{Client: client, TTL: seconds(contract.EnvReadCacheTTL), QueryTTL: seconds(contract.EnvReadCacheQueryTTL),
		Metrics: h.Metrics, Log: h.Log}
}

// seconds reads a duration in whole seconds from the environment (0, the
// contract's default, when unset or not a number).
func seconds(env string) time.Duration {
	n, err := strconv.Atoi(os.Getenv(env))
	if err != nil || n < 1 {
		return 0
	}
	return time.Duration(n) * time.Second
}

// startReadCache runs a read cache function: the invalidator on the table's
// stream, or the reader, which serves the API's GET routes with the cache
// in front of the table.
func startReadCache(endpoint string, h *handler.Handler, log *slog.Logger) {
	cache := readCache(endpoint, h)
	if os.Getenv(contract.EnvReadCacheRole) == contract.ReadCacheInvalidator {
		lambda.Start(cache.HandleStream)
		return
	}
	h.Store = &readcache.Store{Store: h.Store, Cache: cache}
	log.Info("read cache in front of the table", "endpoint", endpoint)
	lambda.Start(handler.LambdaAdapter(h.Routes()))
}
