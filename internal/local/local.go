// Package local serves the call-intake routes on 127.0.0.1 against DynamoDB
// Local, with the API Gateway behaviour that matters locally taken from a
// stack's configuration: token-bucket throttling (burst and rate, answering
// 429 like API Gateway) in front of the handler, which validates requests
// with the same schema as the API's models.
package local

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"golang.org/x/time/rate"

	"github.com/access911/access911-infra/app/elevenlabs"
	"github.com/access911/access911-infra/app/handler"
	"github.com/access911/access911-infra/app/metrics"
	"github.com/access911/access911-infra/app/store"
	"github.com/access911/access911-infra/contract"
	"github.com/access911/access911-infra/internal/emulator"
	"github.com/access911/access911-infra/internal/plan"
	"github.com/access911/access911-infra/stacks/stackconfig"
)

// Options configures a local server.
type Options struct {
	// ProjectDir holds Pulumi.yaml, the stack files and go.mod.
	ProjectDir string
	// Stack whose configuration (throttling, table name, region) is used.
	Stack string
	// Addr to listen on; must be a loopback address. Default 127.0.0.1:0.
	Addr string
	// DynamoDBEndpoint of a running DynamoDB Local; empty starts one.
	DynamoDBEndpoint string
	// Log receives the server's log and EMF lines; nil discards them.
	Log io.Writer
	// ThrottleRate and ThrottleBurst override the stack's API throttling
	// (0 keeps the stack's), e.g. to see where 429s start on a small machine.
	ThrottleRate  float64
	ThrottleBurst int
	// Intake, if set, runs the durable intake on moto's SQS: the stack's
	// intake mode, a queue and dead-letter queue with its redrive, and a
	// drainer behind an emulated event source mapping.
	Intake *IntakeOptions
	// Feed, if set (with Intake), runs the live dispatcher feed: a local
	// WebSocket API and the stream -> swarm -> queues -> workers path.
	Feed *FeedOptions
	// Faults, if set, is injected into the store's DynamoDB client (the
	// spike and the tests throttle or take down the table with it).
	Faults *emulator.TableFaults
	// ReadTimeout bounds reading a whole request, body included (default
	// DefaultReadTimeout), so a body sent slowly cannot hold a connection.
	ReadTimeout time.Duration
	// WebhookSecret verifies the provider route's signatures; empty reads
	// contract.EnvWebhookSecret, and without either the route answers 503
	// saying how to set it.
	WebhookSecret string
	// APIKey, if set, is required as API Gateway requires it: every route
	// that is not public answers 403 {"message":"Forbidden"} without this
	// value in x-api-key. Empty (the default) checks no key.
	APIKey string
	// ReadCache, if set, puts the read cache (redis-server) in front of the
	// table's reads, kept current by the table's stream.
	ReadCache *ReadCacheOptions
}

// DefaultReadTimeout: a 10 MB delivery over a slow link still fits.
const DefaultReadTimeout = 30 * time.Second

// Server is a running local API.
type Server struct {
	URL    string
	Config stackconfig.Config
	Table  string
	Store  *store.Store
	// Intake is the local durable intake (nil without Options.Intake).
	Intake *Intake
	// Feed is the local dispatcher feed (nil without Options.Feed).
	Feed *Feed
	// ReadCache is the local read cache (nil without Options.ReadCache).
	ReadCache *ReadCache
	// Rate and Burst are the throttling in force.
	Rate  float64
	Burst int
	ddb   *emulator.Server
	http  *http.Server
	done  chan error

	closeOnce sync.Once
}

// Start loads the stack's config, starts DynamoDB Local if needed, creates the
// table and serves.
func Start(ctx context.Context, o Options) (*Server, error) {
	cfg, err := LoadStack(o.ProjectDir, o.Stack)
	if err != nil {
		return nil, err
	}
	addr := o.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	if err := requireLoopback(addr); err != nil {
		return nil, err
	}
	s := &Server{Config: cfg, Table: cfg.TableName, done: make(chan error, 1)}
	logw := o.Log
	if logw == nil {
		logw = io.Discard
	}
	h, err := s.start(ctx, o, logw)
	if err != nil {
		s.Close()
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		s.Close()
		return nil, err
	}
	s.URL = "http://" + ln.Addr().String()
	s.Rate, s.Burst = float64(cfg.APIThrottleRateRps), cfg.APIThrottleBurst
	if o.ThrottleRate > 0 {
		s.Rate = o.ThrottleRate
	}
	if o.ThrottleBurst > 0 {
		s.Burst = o.ThrottleBurst
	}
	readTimeout := o.ReadTimeout
	if readTimeout == 0 {
		readTimeout = DefaultReadTimeout
	}
	s.http = &http.Server{
		Handler:           Throttle(RequireAPIKey(h.Routes(), o.APIKey), s.Rate, s.Burst),
		ReadHeaderTimeout: 5 * time.Second,
		// A body trickled in is cut off: the read fails and the call is a 400.
		ReadTimeout: readTimeout,
		// Like API Gateway's 29 s integration limit.
		WriteTimeout: 29 * time.Second,
	}
	go func() { s.done <- s.http.Serve(ln) }()
	return s, nil
}

// LoadStack reads and validates one stack's configuration as the program does.
func LoadStack(projectDir, stack string) (stackconfig.Config, error) {
	proj, err := plan.LoadProject(projectDir)
	if err != nil {
		return stackconfig.Config{}, err
	}
	raw, err := proj.StackConfig(stack)
	if err != nil {
		return stackconfig.Config{}, err
	}
	cfg, err := stackconfig.Parse(raw.Values)
	if err != nil {
		return stackconfig.Config{}, fmt.Errorf("stack %s: %w", stack, err)
	}
	return cfg, nil
}

// start brings up what the handler needs (DynamoDB Local and the table,
// the webhook secret, the intake on moto) and returns the handler.
func (s *Server) start(ctx context.Context, o Options, logw io.Writer) (*handler.Handler, error) {
	cfg := s.Config
	endpoint := o.DynamoDBEndpoint
	if endpoint == "" {
		var err error
		if s.ddb, err = emulator.InstallAndStartDynamoDBLocal(ctx, filepath.Join(o.ProjectDir, emulator.DynamoDBLocalCacheDir)); err != nil {
			return nil, err
		}
		endpoint = s.ddb.URL
	}
	// The stack's region: DynamoDB Local ignores it, moto keeps regions apart.
	opts := []func(*dynamodb.Options){func(o *dynamodb.Options) { o.Region = cfg.Region }}
	if o.Faults != nil {
		opts = append(opts, o.Faults.Apply)
	}
	db := store.NewLocalClient(endpoint, opts...)
	if err := store.EnsureTable(ctx, db, s.Table); err != nil {
		return nil, err
	}
	s.Store = &store.Store{DB: db, Table: s.Table}
	h := &handler.Handler{
		Store:       s.Store,
		Region:      cfg.Region,
		AllowOrigin: cfg.CORSAllowOrigin,
		Log:         slog.New(slog.NewJSONHandler(logw, nil)),
		Metrics:     &metrics.Emitter{W: logw},
	}
	var err error
	if h.WebhookSecrets, err = webhookSecrets(o.WebhookSecret); err != nil {
		return nil, err
	}
	if o.ReadCache != nil {
		if err := s.startReadCache(ctx, *o.ReadCache, endpoint, h, o.Feed == nil); err != nil {
			return nil, err
		}
	}
	if o.Intake != nil {
		if s.Intake, err = startIntake(ctx, *o.Intake, cfg, s.Store, logw); err != nil {
			return nil, err
		}
		h.Queue, h.IntakeMode = s.Intake.Queue, cfg.IntakeMode
		if o.Intake.Mode != "" {
			h.IntakeMode = o.Intake.Mode
		}
	}
	if o.Feed != nil {
		if err := s.startFeed(ctx, *o.Feed, endpoint, logw); err != nil {
			return nil, err
		}
	}
	return h, nil
}

// webhookSecrets reads the local webhook secret: the option, else the
// environment; none leaves the route answering 503.
func webhookSecrets(value string) (handler.SecretSource, error) {
	if value == "" {
		value = os.Getenv(contract.EnvWebhookSecret)
	}
	if value == "" {
		return nil, nil
	}
	secrets, err := elevenlabs.ParseSecrets(value)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", contract.EnvWebhookSecret, err)
	}
	return handler.StaticSecrets(secrets), nil
}

// Close stops the server and DynamoDB Local if this server started it. It
// may be called more than once.
func (s *Server) Close() {
	s.closeOnce.Do(s.close)
}

func (s *Server) close() {
	if s.http != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = s.http.Shutdown(ctx)
		cancel()
		<-s.done
	}
	if s.Feed != nil {
		s.Feed.Close()
	}
	if s.Intake != nil {
		s.Intake.Close()
	}
	if s.ReadCache != nil {
		s.ReadCache.Close()
	}
	if s.ddb != nil {
		s.ddb.Stop()
	}
}

// Throttle answers 429 Too Many Requests, as API Gateway's stage throttling
// does, once a token bucket of burst tokens refilled at rps is empty.
func Throttle(next http.Handler, rps float64, burst int) http.Handler {
	lim := rate.NewLimiter(rate.Limit(rps), burst)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !lim.Allow() {
			gatewayError(w, http.StatusTooManyRequests, "Too Many Requests")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// RequireAPIKey answers 403 {"message":"Forbidden"}, as API Gateway does for
// a method with apiKeyRequired, to a request for a route that is not public
// without the key in x-api-key. An empty key checks nothing.
func RequireAPIKey(next http.Handler, key string) http.Handler {
	if key == "" {
		return next
	}
	routes := http.NewServeMux()
	keyed := map[string]bool{}
	for _, r := range contract.Routes {
		routes.Handle(r.Pattern(), http.NotFoundHandler())
		keyed[r.Pattern()] = !r.Public
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, pattern := routes.Handler(r)
		if keyed[pattern] && subtle.ConstantTimeCompare([]byte(r.Header.Get(contract.APIKeyHeader)), []byte(key)) != 1 {
			gatewayError(w, http.StatusForbidden, "Forbidden")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// gatewayError answers as API Gateway answers its own refusals: JSON
// {"message":...} with the CORS header its gateway responses carry.
func gatewayError(w http.ResponseWriter, status int, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, `{"message":"`+message+`"}`+"\n")
}

func requireLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("listen address %q: %w", addr, err)
	}
	ip := net.ParseIP(host)
	if host == "localhost" || (ip != nil && ip.IsLoopback()) {
		return nil
	}
	return errors.New("the local server listens on loopback only (127.0.0.1 or [::1]), not " + host)
}
