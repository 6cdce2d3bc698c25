// Package readcache serves the API's call reads from a Redis-protocol cache
// (ElastiCache Serverless for Valkey in AWS, redis-server locally), kept
// current by the calls table's stream.
//
//   - GET /calls/{id} is cache-aside on the seed's key call:<id> with the
//     seed's TTL (300 s). A miss reads the table and fills the entry only if
//     it is still absent (SET NX), so a read that raced a write never
//     overwrites the stream's newer value.
//   - The stream writes every inserted or modified call into its entry and
//     deletes removed ones (Apply), so a read after a write sees it within
//     the stream's delay, not after the TTL.
//   - A page of GET /calls?... is cached for a few seconds under a key of
//     its query and never invalidated: a new call shows in lists within that
//     bound (docs/cache.md).
//   - A cache that fails, is slower than Timeout, or holds something that is
//     not the call asked for is skipped: the read goes to the table, never
//     fails because of the cache, and counts as a fallback (an alarm reads
//     it). A corrupt entry is replaced.
package readcache

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/access911/access911-infra/app/calls"
	"github.com/access911/access911-infra/app/handler"
	"github.com/access911/access911-infra/app/metrics"
	"github.com/access911/access911-infra/app/store"
	"github.com/access911/access911-infra/contract"
)

// Client is what the cache needs of a Redis-protocol client (a
// *redis.Client locally, a *redis.ClusterClient for ElastiCache
// Serverless): single-key commands only.
type Client interface {
	Get(ctx context.Context, key string) *redis.StringCmd
	Set(ctx context.Context, key string, value any, ttl time.Duration) *redis.StatusCmd
	SetNX(ctx context.Context, key string, value any, ttl time.Duration) *redis.BoolCmd
	Del(ctx context.Context, keys ...string) *redis.IntCmd
}

// Cache is the read cache's client with its lifetimes.
type Cache struct {
	Client Client
	// TTL is a call entry's lifetime, QueryTTL a page's; Timeout bounds one
	// command. Zero takes the contract's defaults.
	TTL, QueryTTL, Timeout time.Duration
	Metrics                *metrics.Emitter
	Log                    *slog.Logger
}

// CallKey is the seed's key of a call: call:<id>.
func CallKey(id string) string { return "call:" + id }

// QueryKey is a page's key: its query, hashed.
func QueryKey(q store.Query) string {
	b, _ := json.Marshal(q) // a struct of strings and numbers: cannot fail
	sum := sha256.Sum256(b)
	return "calls:" + hex.EncodeToString(sum[:16])
}

func (c *Cache) ttl() time.Duration {
	return or(c.TTL, contract.ReadCacheTTLSeconds*time.Second)
}

func (c *Cache) queryTTL() time.Duration {
	return or(c.QueryTTL, contract.ReadCacheQueryTTLSeconds*time.Second)
}

func (c *Cache) timeout() time.Duration {
	return or(c.Timeout, CommandTimeout)
}

// CommandTimeout bounds one cache command (contract.ReadCacheTimeoutMs);
// DialTimeout a new connection's set-up (TLS included), five times as
// long. The clients (the function's, the local run's) take both, and no
// retries: a slow or failed cache sends the read to the table at once.
const (
	CommandTimeout = contract.ReadCacheTimeoutMs * time.Millisecond
	DialTimeout    = 5 * CommandTimeout
	// applyTimeout bounds one stream change's write: the invalidator has
	// no caller waiting, so it may wait longer than a read.
	applyTimeout = 4 * CommandTimeout
)

func or(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// outcome of a lookup.
type outcome int

const (
	hit outcome = iota
	miss
	fallback // failed, slow, or not what was asked for
)

// lookup reads key into v. valid says whether what was read is the value
// asked for (a call with the id of its key).
func (c *Cache) lookup(ctx context.Context, key string, v any, valid func() bool) outcome {
	ctx, cancel := context.WithTimeout(ctx, c.timeout())
	defer cancel()
	b, err := c.Client.Get(ctx, key).Bytes()
	switch {
	case errors.Is(err, redis.Nil):
		return miss
	case err != nil:
		c.logger().Warn("read cache: get failed, reading the table", "key", key, "err", err)
		return fallback
	case json.Unmarshal(b, v) != nil || !valid():
		c.logger().Warn("read cache: entry is not what its key names; replacing it", "key", key)
		return fallback
	}
	return hit
}

// fill stores v under key for ttl: only if absent after a miss (a newer
// value from the stream wins), unconditionally over a bad entry. A failure
// is logged; the read has its answer already.
func (c *Cache) fill(ctx context.Context, key string, v any, ttl time.Duration, overwrite bool) {
	b, err := json.Marshal(v)
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout())
	defer cancel()
	if overwrite {
		err = c.Client.Set(ctx, key, b, ttl).Err()
	} else {
		err = c.Client.SetNX(ctx, key, b, ttl).Err()
	}
	if err != nil {
		c.logger().Warn("read cache: fill failed", "key", key, "err", err)
	}
}

// count emits one lookup's outcome.
func (c *Cache) count(o outcome, route string) {
	name := map[outcome]string{hit: contract.CacheHits, miss: contract.CacheMisses, fallback: contract.CacheFallbacks}[o]
	c.Metrics.Emit([]metrics.Value{{Name: name, Value: 1, Unit: metrics.Count}}, map[string]any{"route": route})
}

func (c *Cache) logger() *slog.Logger {
	if c.Log != nil {
		return c.Log
	}
	return slog.Default()
}

// Store is the calls table with the cache in front of its reads; writes
// pass through to the table (the stream brings them to the cache).
type Store struct {
	handler.Store
	Cache *Cache
}

// Get answers a call from the cache, or from the table (filling the cache).
func (s *Store) Get(ctx context.Context, id string) (calls.Call, error) {
	var c calls.Call
	o := s.Cache.lookup(ctx, CallKey(id), &c, func() bool { return c.ConversationID == id })
	s.Cache.count(o, contract.GetCall.Pattern())
	if o == hit {
		return c, nil
	}
	c, err := s.Store.Get(ctx, id)
	if err != nil {
		return c, err
	}
	s.Cache.fill(ctx, CallKey(id), c, s.Cache.ttl(), o == fallback)
	return c, nil
}

// QueryByType answers a page from the cache for QueryTTL after a table read.
func (s *Store) QueryByType(ctx context.Context, q store.Query) (store.Page, error) {
	var p store.Page
	o := s.Cache.lookup(ctx, QueryKey(q), &p, func() bool { return p.Calls != nil })
	s.Cache.count(o, contract.QueryCalls.Pattern())
	if o == hit {
		return p, nil
	}
	p, err := s.Store.QueryByType(ctx, q)
	if err != nil {
		return p, err
	}
	if p.Calls == nil {
		p.Calls = []calls.Call{} // an empty page is still a page
	}
	s.Cache.fill(ctx, QueryKey(q), p, s.Cache.queryTTL(), true)
	return p, nil
}

// Change is one stream record: an inserted or modified call's new image,
// or a removed call's id.
type Change struct {
	Removed bool
	ID      string
	Call    calls.Call
}

// Apply brings the cache up to date with the table's changes, in order:
// a new or modified call is written (the entry a reader finds next), a
// removed one deleted. An error fails the batch, so the mapping retries it.
func (c *Cache) Apply(ctx context.Context, changes []Change) error {
	for _, ch := range changes {
		cctx, cancel := context.WithTimeout(ctx, applyTimeout)
		var err error
		if ch.Removed {
			err = c.Client.Del(cctx, CallKey(ch.ID)).Err()
		} else if b, merr := json.Marshal(ch.Call); merr == nil {
			err = c.Client.Set(cctx, CallKey(ch.ID), b, c.ttl()).Err()
		}
		cancel()
		if err != nil {
			return fmt.Errorf("read cache: apply %s: %w", ch.ID, err)
		}
	}
	return nil
}
