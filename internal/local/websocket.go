package local

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
	"github.com/coder/websocket"

	"github.com/access911/access911-infra/app/feed"
	"github.com/access911/access911-infra/contract"
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
	// IdleTimeout and MaxDuration close a connection idle that long, or
	// open that long, as API Gateway does (defaults APIGatewayIdleTimeout
	// and APIGatewayMaxDuration; tests shorten them).
	IdleTimeout, MaxDuration time.Duration

	mu    sync.Mutex
	conns map[string]*wsConn
}

// API Gateway's WebSocket quotas the local gateway keeps (API Gateway
// developer guide, "Amazon API Gateway quotas for configuring and running a
// WebSocket API"): idle connection timeout 10 minutes, connection duration
// 2 hours, message payload 128 KB (frames of 32 KB).
const (
	APIGatewayIdleTimeout     = 10 * time.Minute
	APIGatewayMaxDuration     = contract.FeedConnectionTTLSeconds * time.Second
	APIGatewayMaxMessageBytes = 128 * 1024
)

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

// read routes each text message to $default until the connection ends,
// then closes it and routes $disconnect once. As API Gateway: a binary
// frame closes it with 1003, text that is not UTF-8 with 1007, a message
// over 128 KB with 1009, a protocol violation with 1002 (the library's), an
// idle or too old connection with 1001.
func (g *WebSocketGateway) read(ctx context.Context, id string, conn *wsConn) {
	ctx, cancel := context.WithCancel(ctx)
	defer func() {
		cancel()
		_ = conn.c.CloseNow() // whatever ended the loop, the socket goes too
		g.mu.Lock()
		delete(g.conns, id)
		g.mu.Unlock()
		_, _ = g.Routes.Handle(context.WithoutCancel(ctx), wsEvent(feed.RouteDisconnect, id, ""))
	}()
	conn.c.SetReadLimit(APIGatewayMaxMessageBytes)
	go g.expire(ctx, conn)
	for {
		typ, data, err := conn.c.Read(ctx)
		switch {
		case err != nil:
			if failedProtocol(err) { // RFC 6455 7.1.7: fail the connection with 1002
				_ = conn.c.Close(websocket.StatusProtocolError, "protocol error")
			}
			return
		case typ == websocket.MessageBinary:
			_ = conn.c.Close(websocket.StatusUnsupportedData, "binary frames are not supported")
			return
		case !utf8.Valid(data):
			_ = conn.c.Close(websocket.StatusInvalidFramePayloadData, "text frames must be UTF-8")
			return
		}
		conn.mu.Lock()
		conn.lastActive = time.Now()
		conn.mu.Unlock()
		_, _ = g.Routes.Handle(ctx, wsEvent(feed.RouteDefault, id, string(data)))
	}
}

// failedProtocol tells a read that failed on what the client sent (an
// unmasked frame, an impossible length) from a close, a peer gone (EOF,
// a reset) or the server stopping.
func failedProtocol(err error) bool {
	var netErr net.Error
	return websocket.CloseStatus(err) == -1 && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) &&
		!errors.Is(err, context.Canceled) && !errors.Is(err, net.ErrClosed) && !errors.As(err, &netErr)
}

// expire closes the connection once it has been idle for IdleTimeout or
// open for MaxDuration, until ctx ends.
func (g *WebSocketGateway) expire(ctx context.Context, conn *wsConn) {
	idle, most := g.IdleTimeout, g.MaxDuration
	if idle == 0 {
		idle = APIGatewayIdleTimeout
	}
	if most == 0 {
		most = APIGatewayMaxDuration
	}
	tick := time.NewTicker(min(idle, most) / 4)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			conn.mu.Lock()
			quiet, open := now.Sub(conn.lastActive), now.Sub(conn.connectedAt)
			conn.mu.Unlock()
			switch {
			case open >= most:
				_ = conn.c.Close(websocket.StatusGoingAway, "the connection reached its maximum duration")
				return
			case quiet >= idle:
				_ = conn.c.Close(websocket.StatusGoingAway, "the connection was idle")
				return
			}
		}
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
		data, err := io.ReadAll(io.LimitReader(r.Body, APIGatewayMaxMessageBytes)) // API Gateway's message limit
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
