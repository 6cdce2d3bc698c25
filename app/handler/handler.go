// Package handler is the call-intake HTTP API: one router served by the Lambda
// entry point (through API Gateway's proxy integration) and by the local
// server. It never imports Pulumi.
package handler

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/access911/access911-infra/app/calls"
	"github.com/access911/access911-infra/app/intake"
	"github.com/access911/access911-infra/app/metrics"
	"github.com/access911/access911-infra/app/store"
	"github.com/access911/access911-infra/contract"
)

// Store is what the handler needs from the calls table.
type Store interface {
	Put(ctx context.Context, c calls.Call) (calls.Call, bool, error)
	Get(ctx context.Context, id string) (calls.Call, error)
	QueryByType(ctx context.Context, q store.Query) (store.Page, error)
	BatchPut(ctx context.Context, cs []calls.Call) (store.BatchResult, error)
	Health(ctx context.Context) error
	SetAudioKey(ctx context.Context, id, key string) (int, error)
	// Control reads a region's failover control item (contract.ControlState).
	Control(ctx context.Context, region string) (contract.ControlState, error)
}

// Query limits for GET /calls (the contract's).
const (
	DefaultQueryLimit = contract.DefaultQueryLimit
	MaxQueryLimit     = contract.MaxQueryLimit
	// RetentionDays is how long a call stays in the table before TTL expiry.
	RetentionDays = contract.CallRetentionDays
)

// Handler serves the call-intake routes.
type Handler struct {
	Store  Store
	Region string
	// AllowOrigin is the CORS origin answered on every response ("*" if empty).
	AllowOrigin string
	// Archive, if set, receives each new call's raw payload under
	// contract.ArchivePrefix; a failure is logged, never fails the call (the
	// table is the record, the archive a copy).
	Archive Archiver
	// Inbox, if set, is where the inbox route's deliveries wait (the archive
	// bucket in AWS); ProcessInbox reads them from it.
	Inbox Inbox
	// Queue, if set, is the durable intake queue; IntakeMode (a
	// contract.IntakeModes value, default direct) says whether it is the
	// fallback of a failed table write or the first stop of every call.
	Queue      intake.Queue
	IntakeMode string
	// WebhookSecrets gives the provider's webhook secret(s); without it the
	// provider route answers 503 saying how to configure one.
	WebhookSecrets SecretSource
	// Metrics, if set, receives one EMF record per request.
	Metrics *metrics.Emitter
	// Now is the clock; tests replace it.
	Now func() time.Time
	Log *slog.Logger
}

// Routes returns the router: every route of contract.Routes, the routes API
// Gateway exposes. Every route answers JSON; bad input is a 400 naming the
// field, never a 500.
func (h *Handler) Routes() http.Handler {
	mux := http.NewServeMux()
	serve := h.routeHandlers()
	for _, r := range contract.Routes {
		fn, ok := serve[r]
		if !ok {
			panic("handler: no handler for contract route " + r.Pattern()) // caught by TestEveryContractRouteIsServed
		}
		mux.HandleFunc(r.Pattern(), fn)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, contract.FieldError{Problem: "no route " + r.Method + " " + r.URL.Path})
	})
	origin := h.AllowOrigin
	if origin == "" {
		origin = "*"
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		// With the Lambda proxy integration the function's own responses
		// carry CORS headers; API Gateway adds them only to its own errors.
		w.Header().Set("Access-Control-Allow-Origin", origin)
		if origin != "*" {
			w.Header().Add("Vary", "Origin")
		}
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		if !answeredAtTheEdge(sw, r) {
			mux.ServeHTTP(sw, r)
		}
		errs := 0.0
		if sw.status >= 500 {
			errs = 1
		}
		h.Metrics.Emit([]metrics.Value{
			{Name: contract.RequestCount, Value: 1, Unit: metrics.Count},
			{Name: contract.ResponseTime, Value: float64(time.Since(start).Microseconds()) / 1000, Unit: metrics.Milliseconds},
			{Name: contract.Errors, Value: errs, Unit: metrics.Count},
		}, map[string]any{"method": r.Method, "path": r.URL.Path, "status": sw.status, "region": h.Region})
	})
}

// answeredAtTheEdge answers what API Gateway answers before the function:
// CORS preflights (its OPTIONS mocks), and paths that are not in canonical
// form ("..", "//", "/./"), which the router would otherwise redirect with
// an HTML page. Every answer is JSON.
func answeredAtTheEdge(w http.ResponseWriter, r *http.Request) bool {
	switch p := r.URL.Path; {
	case r.Method == http.MethodOptions:
		w.Header().Set("Access-Control-Allow-Methods", contract.CORSAllowMethods)
		w.Header().Set("Access-Control-Allow-Headers", contract.CORSAllowHeaders)
		writeJSON(w, http.StatusOK, map[string]string{})
		return true
	case !canonical(p):
		writeError(w, http.StatusNotFound, contract.FieldError{Field: "path", Problem: "no route " + r.Method + " " + p + ": the path is not in canonical form"})
		return true
	}
	return false
}

// canonical reports whether p is a clean absolute path (a trailing slash
// allowed), one the router serves without redirecting.
func canonical(p string) bool {
	c := path.Clean(p)
	return strings.HasPrefix(p, "/") && (p == c || (c != "/" && p == c+"/"))
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// routeHandlers serves each contract route.
func (h *Handler) routeHandlers() map[*contract.Route]http.HandlerFunc {
	return map[*contract.Route]http.HandlerFunc{
		&contract.Health:          h.health,
		&contract.Control:         h.control,
		&contract.CreateCall:      h.createCall,
		&contract.QueryCalls:      h.queryCalls,
		&contract.GetCall:         h.getCall,
		&contract.Simulate:        h.simulate,
		&contract.ProviderWebhook: h.providerWebhook,
		&contract.ProviderInbox:   h.providerInbox,
	}
}

// stamp sets what the service, not the caller, decides about a call.
func (h *Handler) stamp(c *calls.Call, now time.Time) {
	c.Region = h.Region
	c.ReceivedAt = now.Unix()
	c.ExpiresAt = now.Add(RetentionDays * 24 * time.Hour).Unix()
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

func (h *Handler) logger() *slog.Logger {
	if h.Log != nil {
		return h.Log
	}
	return slog.Default()
}

func (h *Handler) health(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := h.Store.Health(ctx); err != nil {
		h.logger().Error("health check failed", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "unhealthy", "region": h.Region})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "region": h.Region})
}

// control answers whether a region may take callers, from this region's
// replica of the control item: a strongly consistent read, so a write in
// this region shows at once and one from another region as soon as it has
// replicated. Route 53's gate checks read it from every region.
func (h *Handler) control(w http.ResponseWriter, r *http.Request) {
	region := r.PathValue(contract.ControlRegionParam)
	if !contract.ValidRegion(region) {
		writeError(w, http.StatusBadRequest, contract.FieldError{Field: contract.ControlRegionParam,
			Problem: "not an AWS region name, such as us-east-1"})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	st, err := h.Store.Control(ctx, region)
	if err != nil {
		// Unavailable, not denied: the gate's checks treat it as no answer.
		h.logger().Error("read the failover control", "region", region, "err", err)
		writeJSON(w, http.StatusServiceUnavailable, errorBody{Error: "the failover control cannot be read in " + h.Region})
		return
	}
	st.ServedBy = h.Region
	writeJSON(w, http.StatusOK, st)
}

func (h *Handler) createCall(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	c, err := calls.ParseCall(body)
	if err != nil {
		writeValidation(w, err)
		return
	}
	now := h.now()
	h.stamp(&c, now)
	stored, outcome, err := h.intake(r.Context(), c)
	if err != nil {
		h.logger().Error("call not stored", "err", err, "conversation_id", c.ConversationID)
		writeError(w, http.StatusServiceUnavailable, contract.FieldError{Problem: "the call could not be stored; it was not acknowledged"})
		return
	}
	if outcome != Duplicate && h.Archive != nil {
		key := ArchiveKey(contract.ArchivePrefix, now, c.ConversationID, c.Timestamp)
		if err := h.Archive.Archive(r.Context(), key, jsonType, body); err != nil {
			h.logger().Error("archive payload", "err", err, "conversation_id", c.ConversationID)
		}
	}
	switch outcome {
	case Queued:
		writeJSON(w, http.StatusAccepted, queuedBody{Status: "queued", ConversationID: c.ConversationID, Timestamp: c.Timestamp})
	case Duplicate:
		writeJSON(w, http.StatusOK, stored) // a repeated delivery: same answer, nothing stored
	default:
		writeJSON(w, http.StatusCreated, stored)
	}
}

// SimulateResponse reports a /simulate run.
type SimulateResponse struct {
	Scenario  string `json:"scenario"`
	Seed      int64  `json:"seed"`
	Requested int    `json:"requested"`
	store.BatchResult
}

func (h *Handler) simulate(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	req, err := calls.ParseSimulate(body)
	if err != nil {
		writeValidation(w, err)
		return
	}
	now := h.now()
	seed := now.UnixNano()
	if req.Seed != nil {
		seed = *req.Seed
	}
	generated, err := calls.Generate(req.Scenario, req.NumCalls, seed, now)
	if err != nil {
		writeError(w, http.StatusBadRequest, contract.FieldError{Field: "scenario", Problem: err.Error()})
		return
	}
	for i := range generated {
		h.stamp(&generated[i], now)
	}
	// The calls waiting to be written are the queue this request creates.
	h.Metrics.Emit([]metrics.Value{{Name: contract.QueueDepth, Value: float64(len(generated)), Unit: metrics.Count}},
		map[string]any{"scenario": req.Scenario})
	res, err := h.Store.BatchPut(r.Context(), generated)
	h.Metrics.Emit([]metrics.Value{{Name: contract.CallsWritten, Value: float64(res.Written), Unit: metrics.Count}},
		map[string]any{"scenario": req.Scenario, "failed": res.Failed, "retried": res.Retried})
	out := SimulateResponse{Scenario: req.Scenario, Seed: seed, Requested: req.NumCalls, BatchResult: res}
	if err != nil {
		h.logger().Error("simulate", "err", err, "written", res.Written, "failed", res.Failed)
		writeJSON(w, http.StatusServiceUnavailable, out)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *Handler) getCall(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := validID(id); err != nil {
		writeError(w, http.StatusBadRequest, *err)
		return
	}
	c, err := h.Store.Get(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, contract.FieldError{Field: "id", Problem: "no call " + id})
		return
	}
	if err != nil {
		h.serverError(w, "get call", err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

func (h *Handler) queryCalls(w http.ResponseWriter, r *http.Request) {
	q, problems := ParseQuery(r.URL.Query())
	if len(problems) > 0 {
		writeJSON(w, http.StatusBadRequest, errorBody{Error: "invalid request", Problems: problems})
		return
	}
	page, err := h.Store.QueryByType(r.Context(), q)
	if errors.Is(err, store.ErrBadCursor) {
		writeError(w, http.StatusBadRequest, contract.FieldError{Field: "cursor", Problem: err.Error()})
		return
	}
	if err != nil {
		h.serverError(w, "query calls", err)
		return
	}
	writeJSON(w, http.StatusOK, page)
}

// ParseQuery validates GET /calls query parameters.
func ParseQuery(v map[string][]string) (store.Query, []contract.FieldError) {
	get := func(k string) string {
		if len(v[k]) == 0 {
			return ""
		}
		return v[k][0]
	}
	var problems []contract.FieldError
	q := store.Query{EmergencyType: get("emergency_type"), Limit: DefaultQueryLimit, Cursor: get("cursor")}
	known := map[string]bool{}
	for _, p := range contract.QueryCallsParams {
		known[p.Name] = true
	}
	for k := range v {
		if !known[k] {
			problems = append(problems, contract.FieldError{Field: k, Problem: "is not an accepted parameter"})
		}
	}
	if q.EmergencyType == "" {
		problems = append(problems, contract.FieldError{Field: "emergency_type", Problem: "is required"})
	} else if p := contract.CallSchema.CheckField(contract.IndexHashKey, q.EmergencyType); p != "" {
		problems = append(problems, contract.FieldError{Field: "emergency_type", Problem: p})
	}
	parseInt := func(name string, lo, hi int64, dst *int64) {
		s := get(name)
		if s == "" {
			return
		}
		n, err := strconv.ParseInt(s, 10, 64)
		switch {
		case err != nil:
			problems = append(problems, contract.FieldError{Field: name, Problem: "must be a whole number"})
		case n < lo || n > hi:
			problems = append(problems, contract.FieldError{Field: name, Problem: "must be between " + strconv.FormatInt(lo, 10) + " and " + strconv.FormatInt(hi, 10)})
		default:
			*dst = n
		}
	}
	parseInt("since", 0, 4102444800, &q.Since)
	parseInt("until", 0, 4102444800, &q.Until)
	limit := int64(q.Limit)
	parseInt("limit", 1, MaxQueryLimit, &limit)
	q.Limit = int32(limit)
	if q.Until != 0 && q.Until < q.Since {
		problems = append(problems, contract.FieldError{Field: "until", Problem: "must not be before since"})
	}
	if len(q.Cursor) > 1024 {
		problems = append(problems, contract.FieldError{Field: "cursor", Problem: "is too long"})
	}
	return q, problems
}

func validID(id string) *contract.FieldError {
	if p := contract.CallSchema.CheckField(contract.TableHashKey, id); p != "" {
		return &contract.FieldError{Field: "id", Problem: p}
	}
	return nil
}

func readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	return readBodyUpTo(w, r, contract.MaxBodyBytes)
}

func readBodyUpTo(w http.ResponseWriter, r *http.Request, limit int) ([]byte, bool) {
	// Without a Content-Type API Gateway assumes JSON; any other type is
	// refused (the gateway's $default models refuse its body too).
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			writeError(w, http.StatusUnsupportedMediaType, contract.FieldError{Field: "Content-Type", Problem: "must be application/json, not " + ct})
			return nil, false
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, int64(limit)))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		writeError(w, http.StatusRequestEntityTooLarge, contract.FieldError{Problem: "body is larger than " + strconv.Itoa(limit) + " bytes"})
		return nil, false
	case err != nil:
		writeError(w, http.StatusBadRequest, contract.FieldError{Problem: "body could not be read: " + err.Error()})
		return nil, false
	}
	return body, true
}

type errorBody struct {
	Error    string                `json:"error"`
	Problems []contract.FieldError `json:"problems,omitempty"`
}

func writeValidation(w http.ResponseWriter, err error) {
	var ve *contract.ValidationError
	if errors.As(err, &ve) {
		writeJSON(w, http.StatusBadRequest, errorBody{Error: "invalid request", Problems: ve.Problems})
		return
	}
	writeError(w, http.StatusBadRequest, contract.FieldError{Problem: err.Error()})
}

func writeError(w http.ResponseWriter, status int, p contract.FieldError) {
	writeJSON(w, status, errorBody{Error: http.StatusText(status), Problems: []contract.FieldError{p}})
}

func (h *Handler) serverError(w http.ResponseWriter, what string, err error) {
	h.logger().Error(what, "err", err)
	writeJSON(w, http.StatusInternalServerError, errorBody{Error: "internal error"})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
