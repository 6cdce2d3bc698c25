package local

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/coder/websocket"

	"github.com/access911/access911-infra/app/feed"
)

// WebSocketGateway does locally what an API Gateway WebSocket API does in
// AWS: it accepts WebSocket connections (after the $connect authorizer),
// gives each a connection id, routes $connect, $default and $disconnect to
// the same Go handlers as the Lambda functions, and serves the @connections
// management API (POST sends, DELETE closes, GET describes; 410 for an id it
// does not know) that the post workers call.
type WebSocketGateway struct {
	Routes     *feed.Routes
	Authorizer *feed.Authorizer

	mu    sync.Mutex
	conns map[string]*wsConn
}

type wsConn struct {
	c           *websocket.Conn
	sourceIP    string
	connectedAt time.Time
	lastActive  time.Time
	mu          sync.Mutex // one writer at a time
}

// ServeHTTP serves the WebSocket endpoint at "/" and the management API at
// "/@connections/{id}".
func (g *WebSocketGateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if id, ok := strings.CutPrefix(r.URL.Path, "/@connections/"); ok {
		g.manage(w, r, id)
		return
	}
	g.connect(w, r)
}

func (g *WebSocketGateway) connect(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	auth, err := g.Authorizer.Authorize(ctx, events.APIGatewayCustomAuthorizerRequestTypeRequest{
		MethodArn: "arn:aws:execute-api:local:000000000000:local/v1/$connect", QueryStringParameters: queryParams(r)})
	if err != nil {
		http.Error(w, `{"message":"Internal server error"}`, http.StatusInternalServerError)
		return
	}
	if auth.PolicyDocument.Statement[0].Effect != "Allow" {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden) // what API Gateway answers a denied $connect
		_, _ = io.WriteString(w, `{"message":"Forbidden"}`)
		return
	}
	id := newConnectionID()
	resp, err := g.Routes.Handle(ctx, wsEvent(feed.RouteConnect, id, ""))
	if err != nil || resp.StatusCode != http.StatusOK {
		http.Error(w, `{"message":"Internal server error"}`, http.StatusInternalServerError)
		return
	}
	// Whatever the Origin, as API Gateway accepts it: the token in the
	// query, not a cookie, authenticates, so a page on another origin has
	// nothing to ride on (the library's default would refuse it with 403).
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		_, _ = g.Routes.Handle(context.WithoutCancel(ctx), wsEvent(feed.RouteDisconnect, id, ""))
		return
	}
	host, _, _ := net.SplitHostPort(r.RemoteAddr)
	conn := &wsConn{c: c, sourceIP: host, connectedAt: time.Now(), lastActive: time.Now()}
	g.mu.Lock()
	if g.conns == nil {
		g.conns = map[string]*wsConn{}
	}
	g.conns[id] = conn
	g.mu.Unlock()
	g.read(context.WithoutCancel(ctx), id, conn)
}

// read routes each message to $default until the connection closes, then
// routes $disconnect.
func (g *WebSocketGateway) read(ctx context.Context, id string, conn *wsConn) {
	defer func() {
		g.mu.Lock()
		delete(g.conns, id)
		g.mu.Unlock()
		_, _ = g.Routes.Handle(ctx, wsEvent(feed.RouteDisconnect, id, ""))
	}()
	for {
		_, data, err := conn.c.Read(ctx)
		if err != nil {
			return
		}
		conn.mu.Lock()
		conn.lastActive = time.Now()
		conn.mu.Unlock()
		_, _ = g.Routes.Handle(ctx, wsEvent(feed.RouteDefault, id, string(data)))
	}
}

// manage is the @connections API.
func (g *WebSocketGateway) manage(w http.ResponseWriter, r *http.Request, id string) {
	g.mu.Lock()
	conn, ok := g.conns[id]
	g.mu.Unlock()
	if !ok {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Amzn-Errortype", "GoneException") // how API Gateway names the error
		w.WriteHeader(http.StatusGone)
		_, _ = io.WriteString(w, `{"message":"connection `+id+` is gone"}`)
		return
	}
	switch r.Method {
	case http.MethodPost:
		data, err := io.ReadAll(io.LimitReader(r.Body, 128<<10)) // API Gateway's WebSocket frame limit
		if err == nil {
			conn.mu.Lock()
			err = conn.c.Write(r.Context(), websocket.MessageText, data)
			conn.mu.Unlock()
		}
		if err != nil {
			w.Header().Set("X-Amzn-Errortype", "GoneException")
			w.WriteHeader(http.StatusGone)
			return
		}
		w.WriteHeader(http.StatusOK)
	case http.MethodDelete:
		_ = conn.c.Close(websocket.StatusNormalClosure, "closed by the server")
		w.WriteHeader(http.StatusNoContent)
	case http.MethodGet:
		conn.mu.Lock()
		info := map[string]any{"ConnectedAt": conn.connectedAt.UTC().Format(time.RFC3339Nano),
			"LastActiveAt": conn.lastActive.UTC().Format(time.RFC3339Nano), "Identity": map[string]string{"SourceIp": conn.sourceIP}}
		conn.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(info)
	default:
		w.WriteHeader(http.StatusMethodNotAllowed)
	}
}

// Connections is how many connections are open.
func (g *WebSocketGateway) Connections() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.conns)
}

func wsEvent(route, id, body string) events.APIGatewayWebsocketProxyRequest {
	return events.APIGatewayWebsocketProxyRequest{Body: body,
		RequestContext: events.APIGatewayWebsocketProxyRequestContext{RouteKey: route, ConnectionID: id, Stage: "v1"}}
}

func queryParams(r *http.Request) map[string]string {
	out := map[string]string{}
	for k, v := range r.URL.Query() {
		out[k] = v[0]
	}
	return out
}

// newConnectionID is an id in API Gateway's style (12 base64 characters
// ending in '=').
func newConnectionID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)[:11] + "="
}
