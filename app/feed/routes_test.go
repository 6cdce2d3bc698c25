package feed

import (
	"context"
	"github.com/access911/access911-infra/app/feed/registry"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// registrar records what the routes asked of the registry.
type registrar struct {
	mu         sync.Mutex
	connected  map[string]bool
	subscribed map[string][]string
}

func (r *registrar) Connect(_ context.Context, id string) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.connected[id] = true
	return 1, nil
}

func (r *registrar) Disconnect(_ context.Context, id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.connected[id] {
		return registry.ErrGone
	}
	delete(r.connected, id)
	return nil
}

func (r *registrar) Subscribe(_ context.Context, id string, areas, types []string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.connected[id] {
		return registry.ErrGone
	}
	r.subscribed[id] = append(append([]string{}, areas...), types...)
	return nil
}

type replies struct {
	mu  sync.Mutex
	got map[string][]string
}

func (p *replies) Post(_ context.Context, id string, data []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.got[id] = append(p.got[id], string(data))
	return nil
}

func wsEvent(route, id, body string) events.APIGatewayWebsocketProxyRequest {
	return events.APIGatewayWebsocketProxyRequest{Body: body,
		RequestContext: events.APIGatewayWebsocketProxyRequestContext{RouteKey: route, ConnectionID: id}}
}

func TestRoutes(t *testing.T) {
	reg := &registrar{connected: map[string]bool{}, subscribed: map[string][]string{}}
	p := &replies{got: map[string][]string{}}
	rt := &Routes{Registry: reg, Poster: p}
	ctx := context.Background()
	call := func(route, body string) int {
		resp, err := rt.Handle(ctx, wsEvent(route, "c1", body))
		require.NoError(t, err)
		return resp.StatusCode
	}
	assert.Equal(t, http.StatusOK, call(RouteConnect, ""))
	assert.True(t, reg.connected["c1"])

	tests := []struct {
		body   string
		status int
		reply  string
	}{
		{`{"action":"subscribe","areas":["dn6q","dn6m","dn6m"],"emergency_types":["fire","flood","fire"]}`, 200,
			`{"areas":["dn6m","dn6q"],"emergency_types":["fire","flood"],"supervisor":false,"type":"subscribed"}`},
		{`{"action":"subscribe","areas":["unlocated"]}`, 200, `{"areas":["unlocated"],"emergency_types":null,"supervisor":false,"type":"subscribed"}`},
		{`{"action":"subscribe","areas":["dn6"]}`, 400, `"areas: \"dn6\" is not an area: a geohash cell of 4 characters`},
		{`{"action":"subscribe","areas":["dn6m","dn6q","dn6r","dn6t","dn6w","dn6x","dn6y","dn6z","dn60","dn61","dn62","dn63","dn64","dn65","dn66","dn67","dn68","dn69","dn6b","dn6c","dn6d"]}`,
			400, `areas: 21 areas; a subscription serves at most 20`},
		{`{"action":"subscribe","emergency_types":["alien"]}`, 400, `"emergency_types: \"alien\" is not one of`},
		{`{"action":"unsubscribe"}`, 400, `action: \"unsubscribe\" is not an action`},
		{`{"action":"subscribe","extra":1}`, 400, `unknown field`},
		{`not json`, 400, `the message must be`},
		{`{"action":"subscribe"}{"action":"subscribe"}`, 400, `exactly one JSON object`},
		{`{"action":"subscribe"} trailing`, 400, `exactly one JSON object`},
		{`{"action":"subscribe","emergency_types":[]}`, 200, `{"areas":null,"emergency_types":[],"supervisor":true,"type":"subscribed"}`},
	}
	for _, tt := range tests {
		before := len(p.got["c1"])
		assert.Equal(t, tt.status, call(RouteDefault, tt.body), tt.body)
		require.Len(t, p.got["c1"], before+1, "every message gets an answer over the connection")
		assert.Contains(t, p.got["c1"][before], tt.reply)
	}
	assert.Empty(t, reg.subscribed["c1"], "the last valid subscription: no areas (a supervisor), every type")

	assert.Equal(t, http.StatusOK, call(RouteDisconnect, ""))
	assert.Equal(t, http.StatusOK, call(RouteDisconnect, ""), "a second $disconnect is fine")
	assert.False(t, reg.connected["c1"])
}

type staticSecrets []string

func (s staticSecrets) FeedSecrets(context.Context) ([]string, error) { return s, nil }

func TestAuthorizer(t *testing.T) {
	now := time.Unix(1764300000, 0)
	a := &Authorizer{Secrets: staticSecrets{"fsec"}, Now: func() time.Time { return now }}
	arn := "arn:aws:execute-api:us-east-1:000000000000:abc123/v1/$connect"
	for _, tc := range []struct {
		token, effect, principal string
	}{
		{MintToken("fsec", "dispatcher-1", time.Hour, now), "Allow", "dispatcher-1"},
		{MintToken("other", "dispatcher-1", time.Hour, now), "Deny", "anonymous"},
		{"", "Deny", "anonymous"},
	} {
		resp, err := a.Authorize(context.Background(), events.APIGatewayCustomAuthorizerRequestTypeRequest{
			MethodArn: arn, QueryStringParameters: map[string]string{TokenParam: tc.token}})
		require.NoError(t, err)
		assert.Equal(t, tc.principal, resp.PrincipalID)
		require.Len(t, resp.PolicyDocument.Statement, 1)
		st := resp.PolicyDocument.Statement[0]
		assert.Equal(t, tc.effect, st.Effect)
		assert.Equal(t, []string{arn}, st.Resource, "only this $connect")
		assert.Equal(t, []string{"execute-api:Invoke"}, st.Action)
	}
}

// A route function serves only its route.
func TestOnlyItsRoute(t *testing.T) {
	rt := &Routes{Registry: &registrar{connected: map[string]bool{"c": true}, subscribed: map[string][]string{}},
		Poster: &replies{got: map[string][]string{}}}
	for _, tc := range []struct {
		serves, got string
		status      int
	}{
		{RouteDisconnect, RouteDisconnect, 200},
		{RouteDisconnect, RouteConnect, 500},
		{RouteDefault, RouteDisconnect, 500},
	} {
		resp, err := rt.Only(tc.serves)(context.Background(), wsEvent(tc.got, "c", ""))
		require.NoError(t, err)
		assert.Equal(t, tc.status, resp.StatusCode, "%s function given %s", tc.serves, tc.got)
	}
}
