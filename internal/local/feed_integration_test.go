//go:build integration

package local

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/apigatewaymanagementapi"
	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/access911/access911-infra/app/calls"
	"github.com/access911/access911-infra/app/feed"
	"github.com/access911/access911-infra/app/store"
)

const feedSecret = "fsec_local_test"

type feedStack struct {
	gw       *WebSocketGateway
	srv      *httptest.Server
	registry *feed.Registry
	poster   *feed.ManagementPoster
}

func startFeed(t *testing.T, partitions int) *feedStack {
	t.Helper()
	db := store.NewLocalClient(ddbLocal.Require(t).URL)
	suffix := fmt.Sprint(time.Now().UnixNano())
	reg := &feed.Registry{DB: db, Connections: "connections-" + suffix, Partitions: "partitions-" + suffix, PartitionCount: partitions}
	require.NoError(t, feed.EnsureTables(context.Background(), db, reg.Connections, reg.Partitions))
	f := &feedStack{registry: reg, gw: &WebSocketGateway{Authorizer: &feed.Authorizer{Secrets: feedSecrets{feedSecret}}}}
	f.srv = httptest.NewServer(f.gw)
	t.Cleanup(f.srv.Close)
	// The post workers call the @connections API with the SDK's client, as in
	// AWS; here its endpoint is the local gateway.
	f.poster = &feed.ManagementPoster{Client: apigatewaymanagementapi.New(apigatewaymanagementapi.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(f.srv.URL), Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")})}
	f.gw.Routes = &feed.Routes{Registry: reg, Poster: f.poster}
	return f
}

type feedSecrets []string

func (s feedSecrets) FeedSecrets(context.Context) ([]string, error) { return s, nil }

func (f *feedStack) dial(t *testing.T, token string) (*websocket.Conn, error) {
	t.Helper()
	u := "ws" + strings.TrimPrefix(f.srv.URL, "http") + "/?token=" + token
	c, _, err := websocket.Dial(context.Background(), u, nil)
	return c, err
}

func TestUnauthenticatedConnectIsRefused(t *testing.T) {
	f := startFeed(t, 4)
	for _, token := range []string{"", "v1.abc.def", feed.MintToken("fsec_other", "mallory", time.Hour, time.Now())} {
		_, err := f.dial(t, token)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "403")
	}
	assert.Zero(t, f.gw.Connections())
}

// Every subscribed client receives every matching call exactly once and no
// other type; a vanished client gets 410 and is forgotten, its partition
// count decremented.
func TestFeedDeliversByTypeAndForgetsTheGone(t *testing.T) {
	const partitions, clients = 4, 12
	f := startFeed(t, partitions)
	ctx := context.Background()
	token := feed.MintToken(feedSecret, "dispatcher", time.Hour, time.Now())
	type client struct {
		c    *websocket.Conn
		mu   sync.Mutex
		got  []string
		subs string
	}
	var all []*client
	for i := 0; i < clients; i++ {
		c, err := f.dial(t, token)
		require.NoError(t, err)
		cl := &client{c: c, subs: []string{"", "fire", "flood"}[i%3]}
		all = append(all, cl)
		go func() {
			for {
				_, data, err := c.Read(ctx)
				if err != nil {
					return
				}
				cl.mu.Lock()
				cl.got = append(cl.got, string(data))
				cl.mu.Unlock()
			}
		}()
		msg := `{"action":"subscribe","emergency_types":[]}`
		if cl.subs != "" {
			msg = `{"action":"subscribe","emergency_types":["` + cl.subs + `"]}`
		}
		require.NoError(t, c.Write(ctx, websocket.MessageText, []byte(msg)))
	}
	require.Eventually(t, func() bool { return f.gw.Connections() == clients }, 5*time.Second, 20*time.Millisecond)
	require.Eventually(t, func() bool { // every subscription acknowledged
		for _, cl := range all {
			cl.mu.Lock()
			n := len(cl.got)
			cl.mu.Unlock()
			if n == 0 {
				return false
			}
		}
		return true
	}, 5*time.Second, 20*time.Millisecond)

	fire := calls.Call{ConversationID: "feed-fire-1", EmergencyType: "fire", Timestamp: 1764300000}
	w := &feed.Worker{Members: f.registry, Poster: f.poster, Forgetter: f.registry, Parallelism: 8}
	for _, msgs := range feed.Fanout(fire, partitions, 2) {
		for _, m := range msgs {
			_, err := feed.Deliver(ctx, w.Members, w.Poster, w.Forgetter, m, w.Parallelism)
			require.NoError(t, err)
		}
	}
	require.Eventually(t, func() bool {
		for _, cl := range all {
			cl.mu.Lock()
			n := strings.Count(strings.Join(cl.got, "\n"), "feed-fire-1")
			cl.mu.Unlock()
			want := 1
			if cl.subs == "flood" {
				want = 0
			}
			if n != want {
				return false
			}
		}
		return true
	}, 5*time.Second, 50*time.Millisecond, "all and fire subscribers once each, flood subscribers never")

	// A client that vanished without $disconnect (the gateway knows, the
	// registry does not): the next post gets 410 and forgets it.
	f.gw.mu.Lock()
	var vanished string
	for id := range f.gw.conns {
		vanished = id
		break
	}
	delete(f.gw.conns, vanished)
	f.gw.mu.Unlock()
	before := total(t, f)
	d, err := feed.Deliver(ctx, f.registry, f.poster, f.registry, feed.PartitionMessage{Partition: partitionOf(t, f, vanished), Call: fire}, 4)
	require.NoError(t, err)
	assert.Equal(t, 1, d.Gone)
	assert.Equal(t, before-1, total(t, f), "the vanished connection's partition count went down")
	resp, err := http.Get(f.srv.URL + "/@connections/" + vanished)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusGone, resp.StatusCode)
}

func total(t *testing.T, f *feedStack) int {
	t.Helper()
	n := 0
	for p := 1; p <= f.registry.PartitionCount; p++ {
		c, err := f.registry.Count(context.Background(), p)
		require.NoError(t, err)
		n += c
	}
	return n
}

func partitionOf(t *testing.T, f *feedStack, id string) int {
	t.Helper()
	for p := 1; p <= f.registry.PartitionCount; p++ {
		members, err := f.registry.Members(context.Background(), p)
		require.NoError(t, err)
		for _, m := range members {
			if m.ID == id {
				return p
			}
		}
	}
	t.Fatalf("connection %s in no partition", id)
	return 0
}
