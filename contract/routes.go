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
}

// BodyLimit is the largest body the route accepts.
func (r Route) BodyLimit() int {
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
		Public: true}
)

// Routes are every route of the API, in the order they are registered.
var Routes = []*Route{&CreateCall, &QueryCalls, &GetCall, &Simulate, &Health, &ProviderWebhook}

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
