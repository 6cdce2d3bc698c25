package readcache

import (
	"context"

	"github.com/aws/aws-lambda-go/events"

	"github.com/access911/access911-infra/app/feed"
	"github.com/access911/access911-infra/contract"
)

// HandleStream is the invalidator function: the calls table's stream
// records, in order, applied to the cache. A record whose image is not a
// call is logged and skipped (nothing to cache); a cache failure fails the
// batch, which the mapping retries.
func (c *Cache) HandleStream(ctx context.Context, ev events.DynamoDBEvent) error {
	changes := make([]Change, 0, len(ev.Records))
	for _, r := range ev.Records {
		if r.EventName == string(events.DynamoDBOperationTypeRemove) {
			if id, ok := r.Change.Keys["conversation_id"]; ok {
				changes = append(changes, Change{Removed: true, ID: id.String()})
			}
			continue
		}
		call, err := feed.CallFromImage(r.Change.NewImage)
		if err == nil && contract.IsControlID(call.ConversationID) {
			continue // the failover control, never cached
		}
		if err != nil {
			c.logger().Warn("read cache: a stream record that is not a call", "event", r.EventID, "err", err)
			continue
		}
		changes = append(changes, Change{ID: call.ConversationID, Call: call})
	}
	return c.Apply(ctx, changes)
}
