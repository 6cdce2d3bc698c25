package feed

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/access911/access911-infra/app/feed/registry"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/access911/access911-infra/contract"
)

// WebSocket route keys, as API Gateway names them.
const (
	RouteConnect    = contract.FeedRouteConnect
	RouteDisconnect = contract.FeedRouteDisconnect
	RouteDefault    = contract.FeedRouteDefault
)

// Registrar is what the routes need of the registry.
type Registrar interface {
	Connect(ctx context.Context, id string) (int, error)
	Disconnect(ctx context.Context, id string) error
	Subscribe(ctx context.Context, id string, areas, emergencyTypes []string) error
}

// Routes serves the WebSocket API's three routes for the same Go handlers
// in Lambda and in the local server.
type Routes struct {
	Registry Registrar
	Poster   Poster
	Log      *slog.Logger
}

// SubscribeMessage is what a dispatcher sends on $default: the areas it
// serves (geohash cells, or contract.FeedUnlocatedArea; none: a supervisor,
// who gets summaries) and the emergency types it wants (none: every type).
type SubscribeMessage struct {
	Action         string   `json:"action"`
	Areas          []string `json:"areas"`
	EmergencyTypes []string `json:"emergency_types"`
}

// Only is Handle for the one route a function serves (API Gateway invokes
// each route's own function): any other route is refused, so a
// misconfigured integration fails loudly rather than with a role's
// missing permission.
func (rt *Routes) Only(route string) func(context.Context, events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error) {
	return func(ctx context.Context, ev events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error) {
		if ev.RequestContext.RouteKey != route {
			rt.logger().Error("route for another function", "route", ev.RequestContext.RouteKey, "serves", route)
			return answer(http.StatusInternalServerError), nil
		}
		return rt.Handle(ctx, ev)
	}
}

// Handle routes one WebSocket event by its route key.
func (rt *Routes) Handle(ctx context.Context, ev events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error) {
	id := ev.RequestContext.ConnectionID
	switch ev.RequestContext.RouteKey {
	case RouteConnect:
		p, err := rt.Registry.Connect(ctx, id)
		if err != nil {
			rt.logger().Error("connect", "err", err, "connection", id)
			return answer(http.StatusInternalServerError), nil
		}
		rt.logger().Info("connected", "connection", id, "partition", p)
		return answer(http.StatusOK), nil
	case RouteDisconnect:
		if err := rt.Registry.Disconnect(ctx, id); err != nil && !errors.Is(err, registry.ErrGone) {
			rt.logger().Error("disconnect", "err", err, "connection", id)
		}
		return answer(http.StatusOK), nil
	default:
		return rt.subscribe(ctx, id, ev.Body), nil
	}
}

// subscribe applies a subscription message and tells the dispatcher the
// outcome over the connection (an error names what is wrong).
func (rt *Routes) subscribe(ctx context.Context, id, body string) events.APIGatewayProxyResponse {
	m, problem := parseSubscribe(body)
	status, reply := http.StatusOK, map[string]any{"type": "subscribed", "areas": m.Areas, "emergency_types": m.EmergencyTypes,
		"supervisor": len(m.Areas) == 0}
	if problem == "" {
		if err := rt.Registry.Subscribe(ctx, id, m.Areas, m.EmergencyTypes); err != nil {
			rt.logger().Error("subscribe", "err", err, "connection", id)
			problem, status = "the subscription could not be saved; try again", http.StatusServiceUnavailable
		}
	} else {
		status = http.StatusBadRequest
	}
	if problem != "" {
		reply = map[string]any{"type": "error", "error": problem}
	}
	b, _ := json.Marshal(reply)
	if err := rt.Poster.Post(ctx, id, b); err != nil && !errors.Is(err, registry.ErrGone) {
		rt.logger().Warn("reply to subscription", "err", err, "connection", id)
	}
	return answer(status)
}

// parseSubscribe validates {"action":"subscribe","areas":[...],"emergency_types":[...]}
// (no areas: a supervisor; no types: every type) and names the first problem.
func parseSubscribe(body string) (SubscribeMessage, string) {
	var m SubscribeMessage
	dec := json.NewDecoder(strings.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return m, "the message must be {\"action\":\"subscribe\",\"areas\":[...],\"emergency_types\":[...]}: " + err.Error()
	}
	var extra json.RawMessage
	if err := dec.Decode(&extra); err != io.EOF {
		return m, "the message must be exactly one JSON object, with nothing after it"
	}
	if m.Action != "subscribe" {
		return m, fmt.Sprintf("action: %q is not an action; the only one is subscribe", m.Action)
	}
	for _, t := range m.EmergencyTypes {
		if !slices.Contains(contract.EmergencyTypes, t) {
			return m, fmt.Sprintf("emergency_types: %q is not one of %s", t, strings.Join(contract.EmergencyTypes, ", "))
		}
	}
	for _, a := range m.Areas {
		if !registry.ValidArea(a) {
			return m, fmt.Sprintf("areas: %q is not an area: a geohash cell of %d characters (e.g. dn6m) or %q",
				a, contract.FeedAreaPrecision, contract.FeedUnlocatedArea)
		}
	}
	slices.Sort(m.EmergencyTypes)
	m.EmergencyTypes = slices.Compact(m.EmergencyTypes)
	slices.Sort(m.Areas)
	m.Areas = slices.Compact(m.Areas)
	if len(m.Areas) > contract.FeedMaxAreas {
		return m, fmt.Sprintf("areas: %d areas; a subscription serves at most %d", len(m.Areas), contract.FeedMaxAreas)
	}
	return m, ""
}

func answer(status int) events.APIGatewayProxyResponse {
	return events.APIGatewayProxyResponse{StatusCode: status}
}

func (rt *Routes) logger() *slog.Logger {
	if rt.Log != nil {
		return rt.Log
	}
	return slog.Default()
}

// SecretSource returns the feed secret(s): the current one and, during a
// rotation, the previous one.
type SecretSource interface {
	FeedSecrets(ctx context.Context) ([]string, error)
}

// Authorizer is the $connect route's REQUEST authorizer: it allows the
// connection when its token verifies, and names the dispatcher.
type Authorizer struct {
	Secrets SecretSource
	Now     func() time.Time
}

// Authorize answers API Gateway with an Allow or Deny policy for $connect.
func (a *Authorizer) Authorize(ctx context.Context, req events.APIGatewayCustomAuthorizerRequestTypeRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
	secrets, err := a.Secrets.FeedSecrets(ctx)
	if err != nil {
		return events.APIGatewayCustomAuthorizerResponse{}, fmt.Errorf("feed secret: %w", err) // API Gateway refuses (500)
	}
	now := time.Now()
	if a.Now != nil {
		now = a.Now()
	}
	claims, verr := VerifyToken(req.QueryStringParameters[TokenParam], secrets, now)
	effect, principal := "Allow", claims.Subject
	if verr != nil {
		effect, principal = "Deny", "anonymous"
	}
	return events.APIGatewayCustomAuthorizerResponse{
		PrincipalID: principal,
		PolicyDocument: events.APIGatewayCustomAuthorizerPolicy{Version: "2012-10-17", Statement: []events.IAMPolicyStatement{{
			Action: []string{"execute-api:Invoke"}, Effect: effect, Resource: []string{req.MethodArn},
		}}},
		Context: map[string]any{"dispatcher": claims.Subject},
	}, nil
}
