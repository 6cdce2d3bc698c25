//go:build integration

package local

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/access911/access911-infra/app/elevenlabs"
	"github.com/access911/access911-infra/app/feed"
	"github.com/access911/access911-infra/app/feed/registry"
	"github.com/access911/access911-infra/app/store"
	"github.com/access911/access911-infra/artifact"
	"github.com/access911/access911-infra/contract"
	"github.com/access911/access911-infra/internal/emulator"
)

const rieSecret = "wsec_rie_test"

// rieFunction is the real bootstrap, built for this machine, running under
// the Lambda Runtime Interface Emulator with the function's environment:
// the table on DynamoDB Local, the webhook secret in moto's Secrets Manager.
func rieFunction(t *testing.T, s *Server) *emulator.Server {
	t.Helper()
	ddb, mt := ddbLocal.Require(t), moto.Require(t)
	return runUnderRIE(t, contract.EnvCallsTable+"="+s.Table, contract.EnvCORSAllowOrigin+"=*",
		contract.EnvWebhookSecretARN+"="+motoSecret(t, mt.URL, rieSecret), "AWS_ENDPOINT_URL_DYNAMODB="+ddb.URL,
		"AWS_ENDPOINT_URL_SECRETS_MANAGER="+mt.URL)
}

// runUnderRIE builds the real bootstrap for this machine and runs it under
// the Lambda Runtime Interface Emulator with env added to a local region
// and credentials.
func runUnderRIE(t *testing.T, env ...string) *emulator.Server {
	t.Helper()
	ctx := context.Background()
	b, err := rieAndBootstrap()
	require.NoError(t, err)
	fn, err := emulator.StartRIE(ctx, b.rie, b.bootstrap, append([]string{
		"PATH=" + os.Getenv("PATH"), "AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local"}, env...))
	require.NoError(t, err)
	t.Cleanup(fn.Stop)
	return fn
}

// rieBuild is the emulator and the real bootstrap built for this machine.
type rieBuild struct{ rie, bootstrap string }

// rieAndBootstrap installs the emulator and builds the bootstrap, once per
// test binary.
var rieAndBootstrap = sync.OnceValues(func() (rieBuild, error) {
	root, err := artifact.FindUp(".", "go.mod")
	if err != nil {
		return rieBuild{}, err
	}
	rie, err := emulator.InstallRIE(context.Background(), filepath.Join(root, ".cache", "bin"))
	if err != nil {
		return rieBuild{}, err
	}
	dir, err := os.MkdirTemp("", "bootstrap-")
	if err != nil {
		return rieBuild{}, err
	}
	bootstrap := filepath.Join(dir, contract.Binary)
	build := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", bootstrap, "./cmd/lambda")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		return rieBuild{}, fmt.Errorf("build the bootstrap: %v: %s", err, out)
	}
	return rieBuild{rie, bootstrap}, nil
})

// motoSecret stores value as a new secret in moto's Secrets Manager.
func motoSecret(t *testing.T, motoURL, value string) string {
	t.Helper()
	sm := secretsmanager.New(secretsmanager.Options{Region: "us-east-1", BaseEndpoint: aws.String(motoURL),
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")})
	secret, err := sm.CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{
		Name: aws.String("rie-" + time.Now().Format("150405.000000")), SecretString: aws.String(value)})
	require.NoError(t, err)
	return aws.ToString(secret.ARN)
}

// The same binary as the feed's functions: FEED_ROLE picks the authorizer
// or the WebSocket routes, answering API Gateway's events.
func TestFeedFunctionsUnderTheRuntimeEmulator(t *testing.T) {
	ddb, mt := ddbLocal.Require(t), moto.Require(t)
	ctx := context.Background()
	db := store.NewLocalClient(ddb.URL)
	suffix := time.Now().Format("150405000000")
	reg := &registry.Registry{DB: db, Connections: "rie-conn-" + suffix, Partitions: "rie-part-" + suffix, PartitionCount: 3}
	require.NoError(t, feed.EnsureTables(ctx, db, reg.Connections, reg.Partitions))

	auth := runUnderRIE(t, contract.EnvFeedRole+"="+contract.FeedRoleAuthorizer, "AWS_ENDPOINT_URL_SECRETS_MANAGER="+mt.URL,
		contract.EnvFeedSecretARN+"="+motoSecret(t, mt.URL, "fsec_rie"))
	arn := "arn:aws:execute-api:us-east-1:000000000000:api/v1/$connect"
	for token, effect := range map[string]string{feed.MintToken("fsec_rie", "d1", time.Hour, time.Now()): "Allow", "v1.x.y": "Deny"} {
		raw, err := auth.Invoke(ctx, events.APIGatewayCustomAuthorizerRequestTypeRequest{Type: "REQUEST", MethodArn: arn,
			QueryStringParameters: map[string]string{feed.TokenParam: token}})
		require.NoError(t, err)
		var resp events.APIGatewayCustomAuthorizerResponse
		require.NoError(t, json.Unmarshal(raw, &resp), string(raw))
		assert.Equal(t, effect, resp.PolicyDocument.Statement[0].Effect)
	}

	routes := runUnderRIE(t, contract.EnvFeedRole+"="+contract.FeedRoleConnect, "AWS_ENDPOINT_URL_DYNAMODB="+ddb.URL,
		contract.EnvFeedConnectionsTable+"="+reg.Connections, contract.EnvFeedPartitionsTable+"="+reg.Partitions,
		contract.EnvFeedPartitions+"=3", contract.EnvFeedManagementEndpoint+"=http://127.0.0.1:9")
	raw, err := routes.Invoke(ctx, events.APIGatewayWebsocketProxyRequest{RequestContext: events.APIGatewayWebsocketProxyRequestContext{
		RouteKey: feed.RouteConnect, ConnectionID: "rie-conn=", EventType: "CONNECT"}})
	require.NoError(t, err)
	var resp events.APIGatewayProxyResponse
	require.NoError(t, json.Unmarshal(raw, &resp), string(raw))
	assert.Equal(t, 200, resp.StatusCode)
	total := 0
	for p := 1; p <= 3; p++ {
		n, err := reg.Count(ctx, p)
		require.NoError(t, err)
		total += n
	}
	assert.Equal(t, 1, total, "the $connect registered and counted the connection")
}

// request is one API call, sent both as an API Gateway REST proxy event
// (stage v1, base64 body, multi-value headers) and over HTTP to serve.
type request struct {
	method, resource, path string
	query                  map[string]string
	headers                map[string]string
	body                   []byte
}

func (r request) event() events.APIGatewayProxyRequest {
	ev := events.APIGatewayProxyRequest{
		Resource: r.resource, Path: r.path, HTTPMethod: r.method,
		Headers:           map[string]string{"Host": "abc123.execute-api.us-east-1.amazonaws.com", "X-Forwarded-For": "5.6.7.8"},
		MultiValueHeaders: map[string][]string{"Host": {"abc123.execute-api.us-east-1.amazonaws.com"}, "X-Forwarded-For": {"1.2.3.4", "5.6.7.8"}},
		RequestContext:    events.APIGatewayProxyRequestContext{Stage: contract.StageName, HTTPMethod: r.method, ResourcePath: r.resource, Path: "/" + contract.StageName + r.path},
	}
	for k, v := range r.headers {
		ev.Headers[k] = v
		ev.MultiValueHeaders[k] = []string{v}
	}
	if len(r.query) > 0 {
		ev.QueryStringParameters, ev.MultiValueQueryStringParameters = map[string]string{}, map[string][]string{}
		for k, v := range r.query {
			ev.QueryStringParameters[k], ev.MultiValueQueryStringParameters[k] = v, []string{v}
		}
	}
	if r.body != nil {
		ev.Body, ev.IsBase64Encoded = base64.StdEncoding.EncodeToString(r.body), true
	}
	return ev
}

func (r request) viaLambda(t *testing.T, fn *emulator.Server) (int, string) {
	t.Helper()
	raw, err := fn.Invoke(context.Background(), r.event())
	require.NoError(t, err)
	var resp events.APIGatewayProxyResponse
	require.NoError(t, json.Unmarshal(raw, &resp), string(raw))
	assert.Equal(t, "application/json", resp.Headers["Content-Type"], "%s %s", r.method, r.path)
	return resp.StatusCode, resp.Body
}

func (r request) viaServe(t *testing.T, s *Server) (int, string) {
	t.Helper()
	u := s.URL + r.path
	if len(r.query) > 0 {
		q := []string{}
		for k, v := range r.query {
			q = append(q, k+"="+v)
		}
		u += "?" + strings.Join(q, "&")
	}
	req, err := http.NewRequest(r.method, u, bytes.NewReader(r.body))
	require.NoError(t, err)
	for k, v := range r.headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

// The real Lambda entry point answers every route as the local server
// does, on the same table.
func TestBootstrapUnderTheRuntimeEmulatorAnswersAsServe(t *testing.T) {
	root, err := artifact.FindUp(".", "go.mod")
	require.NoError(t, err)
	s, err := Start(context.Background(), Options{ProjectDir: root, Stack: "us-east-1", DynamoDBEndpoint: ddbLocal.Require(t).URL, WebhookSecret: rieSecret})
	require.NoError(t, err)
	t.Cleanup(s.Close)
	fn := rieFunction(t, s)
	id := "rie-" + time.Now().Format("150405.000000")
	jsonHeader := map[string]string{"Content-Type": "application/json"}
	call := []byte(`{"conversation_id":"` + id + `","timestamp":1764300000,"location":"Broadway","latitude":36.16,"longitude":-86.78,"emergency_type":"fire","severity":3,"call_duration_secs":42}`)
	delivery, err := elevenlabs.Fixture(contract.EventTranscription, id+"-el", time.Now(), 0)
	require.NoError(t, err)
	signed := map[string]string{"Content-Type": "application/json", contract.SignatureHeader: elevenlabs.Sign(rieSecret, time.Now(), delivery)}

	steps := []struct {
		name              string
		req               request
		lambda, serve     int
		sameBody, compare bool
	}{
		{"new call", request{"POST", "/calls", "/calls", nil, jsonHeader, call}, 201, 200, true, true},
		{"read it", request{"GET", "/calls/{id}", "/calls/" + id, nil, nil, nil}, 200, 200, true, true},
		{"query by type", request{"GET", "/calls", "/calls", map[string]string{"emergency_type": "fire", "limit": "3"}, nil, nil}, 200, 200, true, true},
		{"bad latitude", request{"POST", "/calls", "/calls", nil, jsonHeader, bytes.Replace(call, []byte("36.16"), []byte("91"), 1)}, 400, 400, true, true},
		{"text/plain", request{"POST", "/calls", "/calls", nil, map[string]string{"Content-Type": "text/plain"}, call}, 415, 415, true, true},
		{"simulate", request{"POST", "/simulate", "/simulate", nil, jsonHeader, []byte(`{"scenario":"gulf_hurricane","num_calls":5,"seed":7}`)}, 200, 200, false, true},
		{"health", request{"GET", "/health", "/health", nil, nil, nil}, 200, 200, true, true},
		{"provider delivery", request{"POST", contract.ProviderWebhook.Path, contract.ProviderWebhook.Path, nil, signed, delivery}, 201, 200, false, true},
		{"unknown route", request{"GET", "/nope", "/nope", nil, nil, nil}, 404, 404, true, true},
	}
	var first time.Duration
	for i, st := range steps {
		start := time.Now()
		lc, lb := st.req.viaLambda(t, fn)
		if i == 0 {
			first = time.Since(start) // the cold start: process, init, first request
		}
		sc, sb := st.req.viaServe(t, s)
		assert.Equal(t, st.lambda, lc, "%s via Lambda: %s", st.name, lb)
		assert.Equal(t, st.serve, sc, "%s via serve: %s", st.name, sb)
		if st.sameBody {
			assert.JSONEq(t, lb, sb, "%s: the same answer", st.name)
		}
	}
	init := fn.InitDuration()
	assert.Positive(t, init, "the emulator reports the init time")
	t.Logf("bootstrap under the Runtime Interface Emulator: init %s (the emulator's Init Duration), first invocation %s end to end (a cold start: process start, init, one PutItem on DynamoDB Local)",
		init, first.Round(time.Millisecond))
}
