package local

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/redis/go-redis/v9"

	"github.com/access911/access911-infra/app/handler"
	"github.com/access911/access911-infra/app/readcache"
	"github.com/access911/access911-infra/capacity"
	"github.com/access911/access911-infra/internal/emulator"
	"github.com/access911/access911-infra/internal/emulator/esm"
)

// ReadCacheOptions run the read cache locally: redis-server in front of the
// table's reads, kept current by the table's stream as the invalidator
// function keeps ElastiCache current in AWS.
type ReadCacheOptions struct {
	// Addr of a running redis-server (host:port); empty starts one.
	Addr string
	// TTL and QueryTTL: 0 takes the contract's defaults (300 s and 5 s).
	TTL, QueryTTL time.Duration
}

// ReadCache is the local read cache.
type ReadCache struct {
	Cache  *readcache.Cache
	Client *redis.Client
	// Redis is the redis-server this run started (nil with Options.Addr).
	Redis  *emulator.Server
	reader *esm.StreamReader
	cancel context.CancelFunc
}

// startReadCache puts the cache in front of h's reads and, with ownReader,
// starts a stream reader that keeps it current (all events: inserted,
// modified and removed calls). With the feed on, the feed's reader is the
// stream's one reader and hands the cache its changes, as the swarm does in
// AWS.
func (s *Server) startReadCache(ctx context.Context, o ReadCacheOptions, ddbURL string, h *handler.Handler, ownReader bool) error {
	rc := &ReadCache{}
	addr := o.Addr
	if addr == "" {
		srv, err := emulator.StartRedis(ctx)
		if err != nil {
			return fmt.Errorf("read cache: %w (install redis-server, e.g. apt-get install redis-server)", err)
		}
		rc.Redis, addr = srv, srv.URL
	}
	// The function's timeouts: a slow cache is skipped.
	rc.Client = redis.NewClient(&redis.Options{Addr: addr, DialTimeout: readcache.DialTimeout,
		ReadTimeout: readcache.CommandTimeout, WriteTimeout: readcache.CommandTimeout, MaxRetries: -1})
	rc.Cache = &readcache.Cache{Client: rc.Client, TTL: o.TTL, QueryTTL: o.QueryTTL, Metrics: h.Metrics, Log: h.Log}
	h.Store = &readcache.Store{Store: h.Store, Cache: rc.Cache}
	s.ReadCache = rc
	rctx, cancel := context.WithCancel(context.Background())
	rc.cancel = cancel
	if !ownReader {
		return nil
	}
	rc.reader = &esm.StreamReader{
		DB: s.Store.DB.(*dynamodb.Client), Table: s.Table,
		Streams: dynamodbstreams.New(dynamodbstreams.Options{Region: s.Config.Region, BaseEndpoint: aws.String(ddbURL),
			Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")}),
		BatchSize: capacity.ReadCacheStreamBatchSize,
		Function: func(ctx context.Context, records []esm.StreamRecord) error {
			return rc.Cache.HandleStream(ctx, esm.StreamEvent(rc.reader.StreamArn, records)) // the invalidator's own entry
		},
	}
	return rc.reader.Start(rctx)
}

// Close stops the stream reader, the client and a redis-server this run started.
func (rc *ReadCache) Close() {
	rc.cancel()
	if rc.reader != nil {
		rc.reader.Wait()
	}
	_ = rc.Client.Close()
	if rc.Redis != nil {
		rc.Redis.Stop()
	}
}
