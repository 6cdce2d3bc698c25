//go:build integration

package local

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/access911/access911-infra/internal/feedbench"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/apigatewaymanagementapi"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/access911/access911-infra/app/calls"
	"github.com/access911/access911-infra/app/feed"
	"github.com/access911/access911-infra/app/feed/registry"
	"github.com/access911/access911-infra/app/store"
	"github.com/access911/access911-infra/artifact"
	"github.com/access911/access911-infra/contract"
)

const feedSecret = "fsec_local_test"

type feedStack struct {
	gw       *WebSocketGateway
	srv      *httptest.Server
	registry *registry.Registry
	poster   *feed.ManagementPoster
}

func startFeed(t *testing.T, partitions int) *feedStack {
	t.Helper()
	db := store.NewLocalClient(ddbLocal.Require(t).URL)
	suffix := fmt.Sprint(time.Now().UnixNano())
	reg := &registry.Registry{DB: db, Connections: "connections-" + suffix, Partitions: "partitions-" + suffix, PartitionCount: partitions}
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

// A console served from another origin connects, as API Gateway lets it:
// the token authenticates, not the origin.
func TestForeignOriginConnects(t *testing.T) {
	f := startFeed(t, 4)
	u := "ws" + strings.TrimPrefix(f.srv.URL, "http") + "/?token=" + feed.MintToken(feedSecret, "console", time.Hour, time.Now())
	c, _, err := websocket.Dial(context.Background(), u, &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {"https://console.example.org"}}})
	require.NoError(t, err)
	defer c.Close(websocket.StatusNormalClosure, "")
	require.Eventually(t, func() bool { return f.gw.Connections() == 1 }, 5*time.Second, 20*time.Millisecond)
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
		go feedbench.ReadFrames(ctx, c, func(data []byte, _ time.Time) {
			cl.mu.Lock()
			cl.got = append(cl.got, string(data))
			cl.mu.Unlock()
		})
		msg := `{"action":"subscribe","areas":["dn6m"],"emergency_types":[]}`
		if cl.subs != "" {
			msg = `{"action":"subscribe","areas":["dn6m"],"emergency_types":["` + cl.subs + `"]}`
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

	fire := calls.Call{ConversationID: "feed-fire-1", EmergencyType: "fire", Timestamp: 1764300000, Latitude: 36.16, Longitude: -86.78}
	w := &feed.Worker{Members: f.registry, Poster: f.poster, Forgetter: f.registry, Parallelism: 8}
	for _, msgs := range feed.Fanout([]calls.Call{fire}, f.registry.Layout(2)) {
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
	// (One that wants fire calls, so the post is attempted.)
	vanished, partition := wantingFire(t, f)
	f.gw.mu.Lock()
	delete(f.gw.conns, vanished)
	f.gw.mu.Unlock()
	before := total(t, f)
	d, err := feed.Deliver(ctx, f.registry, f.poster, f.registry, feed.PartitionMessage{Partition: partition, Calls: []calls.Call{fire}}, 4)
	require.NoError(t, err)
	assert.Equal(t, 1, d.Gone)
	assert.Equal(t, before-2, total(t, f), "the vanished connection's counts went down: its row's and its membership's")
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

// wantingFire is a dispatcher's membership in dn6m that receives fire calls
// (every type, or fire among its types) and its partition.
func wantingFire(t *testing.T, f *feedStack) (string, int) {
	t.Helper()
	for p := 1; p <= f.registry.PartitionCount; p++ {
		members, err := f.registry.Members(context.Background(), p)
		require.NoError(t, err)
		for _, m := range members {
			if m.Area == "dn6m" && (len(m.EmergencyTypes) == 0 || slices.Contains(m.EmergencyTypes, "fire")) {
				return m.ID, p
			}
		}
	}
	t.Fatal("no connection receives fire calls")
	return "", 0
}

// The whole local path: POST /calls -> calls table -> stream -> swarm ->
// fan-out queues on moto -> workers -> @connections -> WebSocket clients.
// Every dispatcher receives each new call of its area and types exactly
// once, a dispatcher of another area nothing, the unlocated area's
// dispatchers the call without coordinates, the supervisors a summary of
// both; updates and deletes on the calls table broadcast nothing.
func TestFeedEndToEnd(t *testing.T) {
	s := startServerWithFeed(t)
	ctx := context.Background()

	type client struct {
		mu        sync.Mutex
		msgs      []string // call ids received
		summaries []string // frames of summaries received
		sub       feed.SubscribeMessage
	}
	var clients []*client
	for i := 0; i < 36; i++ {
		c, _, err := websocket.Dial(ctx, s.Feed.URL+"?token="+s.Feed.Token("dispatcher"), nil)
		require.NoError(t, err)
		t.Cleanup(func() { c.Close(websocket.StatusNormalClosure, "") })
		cl := &client{sub: []feed.SubscribeMessage{
			{Areas: []string{"dn6m"}}, {Areas: []string{"dn6m"}, EmergencyTypes: []string{"tornado"}},
			{Areas: []string{"dn6m"}, EmergencyTypes: []string{"flood"}}, {Areas: []string{"9vrf"}},
			{Areas: []string{contract.FeedUnlocatedArea}}, {}, // a supervisor
		}[i%6]}
		cl.sub.Action = "subscribe"
		clients = append(clients, cl)
		require.NoError(t, feedbench.Subscribe(ctx, c, cl.sub))
		go feedbench.ReadFrames(ctx, c, func(data []byte, _ time.Time) {
			cl.mu.Lock()
			defer cl.mu.Unlock()
			var f feed.CallsFrame
			if json.Unmarshal(data, &f) == nil && f.Type == contract.FeedFrameCalls {
				for _, call := range f.Calls {
					cl.msgs = append(cl.msgs, call.ConversationID)
				}
			} else if f.Type == contract.FeedFrameSummary {
				cl.summaries = append(cl.summaries, string(data))
			}
		})
	}
	run := fmt.Sprint(time.Now().UnixNano())
	located, unlocated := "feed-e2e-"+run, "feed-e2e-unlocated-"+run
	post := func(id string, lat, lon float64) {
		body := fmt.Sprintf(`{"conversation_id":%q,"timestamp":1764300000,"location":"Main St","latitude":%g,"longitude":%g,"emergency_type":"tornado","severity":4,"call_duration_secs":60}`, id, lat, lon)
		resp, err := http.Post(s.URL+"/calls", "application/json", strings.NewReader(body))
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusCreated, resp.StatusCode)
	}
	post(located, 36.16, -86.78)
	post(unlocated, 0, 0) // no usable coordinates
	resp, err := http.Post(s.URL+"/calls", "application/json", strings.NewReader(
		fmt.Sprintf(`{"conversation_id":%q,"timestamp":1764300000,"location":"Main St","latitude":36.16,"longitude":-86.78,"emergency_type":"tornado","severity":4,"call_duration_secs":60}`, located)))
	require.NoError(t, err) // a redelivery writes nothing
	resp.Body.Close()

	want := func(cl *client) []string {
		switch {
		case len(cl.sub.Areas) == 0 || cl.sub.Areas[0] == "9vrf" || slices.Contains(cl.sub.EmergencyTypes, "flood"):
			return nil
		case cl.sub.Areas[0] == contract.FeedUnlocatedArea:
			return []string{unlocated}
		}
		return []string{located}
	}
	require.Eventually(t, func() bool {
		for _, cl := range clients {
			cl.mu.Lock()
			n, sums := len(cl.msgs), len(cl.summaries)
			cl.mu.Unlock()
			if n < len(want(cl)) || (len(cl.sub.Areas) == 0 && sums == 0) {
				return false
			}
		}
		return true
	}, 20*time.Second, 100*time.Millisecond, "every dispatcher of the call's area and type, and every supervisor, hears of it")

	// An update and a delete of the call: no broadcast.
	db := s.Store.DB.(*dynamodb.Client)
	key := map[string]ddbtypes.AttributeValue{"conversation_id": &ddbtypes.AttributeValueMemberS{Value: located}, "timestamp": &ddbtypes.AttributeValueMemberN{Value: "1764300000"}}
	_, err = db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(s.Table), Key: key,
		UpdateExpression: aws.String("SET #s = :s"), ExpressionAttributeNames: map[string]string{"#s": "status"},
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":s": &ddbtypes.AttributeValueMemberS{Value: "dispatched"}}})
	require.NoError(t, err)
	_, err = db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.Table), Key: key})
	require.NoError(t, err)
	time.Sleep(2500 * time.Millisecond)
	for i, cl := range clients {
		cl.mu.Lock()
		assert.Equal(t, want(cl), cl.msgs, "client %d (%+v): exactly once, its area and types only, nothing for the update or delete", i, cl.sub)
		if len(cl.sub.Areas) == 0 {
			summaries := strings.Join(cl.summaries, "\n")
			assert.Contains(t, summaries, located, "client %d: the supervisor's summary names the call", i)
			assert.Contains(t, summaries, unlocated)
			assert.Contains(t, summaries, `"area":"unlocated"`)
		} else {
			assert.Empty(t, cl.summaries, "client %d: a dispatcher gets calls, not summaries", i)
		}
		cl.mu.Unlock()
	}
}

// startServerWithFeed is the us-east-1 stack served locally with the
// durable intake and the feed, on the tests' emulators.
func startServerWithFeed(t *testing.T) *Server {
	t.Helper()
	ddb, mt := ddbLocal.Require(t), moto.Require(t)
	root, err := artifact.FindUp(".", "go.mod")
	require.NoError(t, err)
	s, err := Start(context.Background(), Options{ProjectDir: root, Stack: "us-east-1", DynamoDBEndpoint: ddb.URL,
		Intake: &IntakeOptions{SQSEndpoint: mt.URL}, Feed: &FeedOptions{Connections: 300}})
	require.NoError(t, err)
	t.Cleanup(s.Close)
	return s
}
