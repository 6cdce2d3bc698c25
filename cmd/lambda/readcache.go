package main

import (
	"crypto/tls"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/access911/access911-infra/app/metrics"
	"github.com/access911/access911-infra/app/readcache"
	"github.com/access911/access911-infra/contract"
)

// readCache connects to the read cache at endpoint: ElastiCache Serverless
// speaks TLS only and is a cluster (its one endpoint routes each key), with
// short timeouts so a slow cache is skipped, never waited for.
func readCache(endpoint string, emf *metrics.Emitter, log *slog.Logger) *readcache.Cache {
	client := redis.NewClusterClient(&redis.ClusterOptions{
		Addrs:       []string{endpoint},
		TLSConfig:   &tls.Config{MinVersion: tls.VersionTLS12},
		DialTimeout: readcache.DialTimeout, ReadTimeout: readcache.CommandTimeout, WriteTimeout: readcache.CommandTimeout,
		MaxRetries: -1, // a failed command falls back to the table at once
	})
	return &readcache.Cache{Client: client, TTL: seconds(contract.EnvReadCacheTTL), QueryTTL: seconds(contract.EnvReadCacheQueryTTL),
		Metrics: emf, Log: log}
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
