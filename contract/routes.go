package contract

import "time"

// Route is one method on one path of the API: what API Gateway exposes and
// validates, and what the handler serves.
type Route struct {
	Method string
	Path   string  // e.g. /calls/{id}
	Body   *Schema // validated request body, if any
	Query  []Param // query-string parameters
	// Public routes need no API key: health checkers, and the provider's
	// webhook, which authenticates each delivery by its signature instead.
	Public bool
	// Inbox routes are not proxied to the function: API Gateway writes the
	// body straight to the archive bucket under InboxPrefix (with the
	// SignatureHeader as object metadata) and answers 200, and the function
	// processes the object from the bucket's event. The body may then be as
	// large as API Gateway allows, past Lambda's payload limit.
	Inbox bool
	// MaxBody, if set, bounds the body below what its schema allows: a
	// route proxied to the function takes what fits in a Lambda event.
	MaxBody int
}

// BodyLimit is the largest body the route accepts.
func (r Route) BodyLimit() int {
	if r.MaxBody > 0 {
		return r.MaxBody
	}
	if r.Inbox {
		return APIGatewayMaxBodyBytes
	}
	if r.Body == nil {
		return MaxBodyBytes
	}
	return r.Body.Limit()
}

// Pattern is the route as a net/http ServeMux pattern, "METHOD /path".
func (r Route) Pattern() string { return r.Method + " " + r.Path }

// The API's routes.
var (
	CreateCall = Route{Method: "POST", Path: "/calls", Body: &CallSchema}
	QueryCalls = Route{Method: "GET", Path: "/calls", Query: QueryCallsParams}
	GetCall    = Route{Method: "GET", Path: "/calls/{id}"}
	Simulate   = Route{Method: "POST", Path: "/simulate", Body: &SimulateSchema}
	Health     = Route{Method: "GET", Path: "/health", Public: true}
	// ProviderWebhook takes the provider's signed post-call deliveries.
	ProviderWebhook = Route{Method: "POST", Path: "/webhooks/" + Provider, Body: &ProviderEnvelopeSchema,
		Public: true, MaxBody: MaxWebhookBodyBytes}
	// ProviderInbox takes the same deliveries when they may exceed Lambda's
	// payload limit (post_call_audio of long calls): accepted once durable in
	// S3, verified and processed from there.
	ProviderInbox = Route{Method: "POST", Path: "/webhooks/" + Provider + "/inbox", Body: &ProviderEnvelopeSchema,
		Public: true, Inbox: true}
)

// Routes are every route of the API, in the order they are registered.
// Page sizes of GET /calls: the calls a page holds when the query names no
// limit, and the most it may ask for.
const (
	DefaultQueryLimit = 25
	MaxQueryLimit     = 100
)

var Routes = []*Route{&CreateCall, &QueryCalls, &GetCall, &Simulate, &Health, &Control, &ProviderWebhook, &ProviderInbox}

// StageName is the API Gateway stage every region deploys; the regional
// invoke URL and the health check path start with it.
const StageName = "v1"

// IntegrationTimeout is API Gateway's REST integration limit: past it the
// gateway answers 504 whatever the function still does.
const IntegrationTimeout = 29 * time.Second

// CORS response headers, answered by API Gateway's OPTIONS mocks and its own
// error responses; the handler answers the origin on its responses.
const (
	CORSAllowMethods = "GET,POST,OPTIONS"
	CORSAllowHeaders = "Content-Type,X-Api-Key,X-Amz-Date,Authorization,X-Amz-Security-Token"
	// DefaultAllowOrigin is the CORS origin when none is configured.
	DefaultAllowOrigin = "*"
)
