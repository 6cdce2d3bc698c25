//go:build integration

package deploy_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/access911/access911-infra/artifact"
	"github.com/access911/access911-infra/contract"
	"github.com/access911/access911-infra/internal/deploy"
	"github.com/access911/access911-infra/internal/drill"
	"github.com/access911/access911-infra/internal/emulator"
	"github.com/access911/access911-infra/stacks"
)

var (
	moto      = emulator.MotoForTests()
	pulumiCLI = emulator.PulumiCLIForTests()
)

func TestMain(m *testing.M) {
	// moto accepts any credentials; these keep the SDK from looking further.
	os.Setenv("AWS_ACCESS_KEY_ID", "testing")
	os.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	emulator.MainAll(m, moto, pulumiCLI)
}

var committedRegions = []string{"us-east-1", "us-west-2", "eu-west-1"}

// engine runs the deployer on the real Pulumi engine: the pinned CLI, a
// file:// backend of the test's own, a passphrase secrets provider, and a
// copy of the project's Pulumi.yaml and stack files. The program is a
// stand-in that reads each stack's configuration through the engine as the
// real program does (stacks.LoadConfig) and registers only component
// resources and the outputs the deployer reads: no provider plugin needed.
type engine struct {
	t    *testing.T
	dir  string
	env  map[string]string
	cmd  auto.PulumiCommand
	apis *httptest.Server
	db   *dynamodb.Client // moto, the tables the stacks would have created

	mu     sync.Mutex
	events []string          // "program us-east-1", "ready us-east-1", in order
	fail   map[string]string // region -> the stand-in's error
}

func newEngine(t *testing.T) *engine {
	t.Helper()
	cli := pulumiCLI.Require(t)
	m := moto.Require(t)
	require.NoError(t, m.ResetMoto())
	e := &engine{t: t, dir: copyProject(t), fail: map[string]string{}, env: map[string]string{
		"PULUMI_BACKEND_URL":       "file://" + t.TempDir(),
		"PULUMI_CONFIG_PASSPHRASE": "engine-tests-only",
		"PULUMI_HOME":              t.TempDir(),
		"PULUMI_SKIP_UPDATE_CHECK": "true",
	}}
	root, err := artifact.FindUp(".", "go.mod")
	require.NoError(t, err)
	pins, err := deploy.ReadPins(root)
	require.NoError(t, err)
	e.cmd, err = deploy.PulumiCLI{Root: cli.Dir}.Command(pins)
	require.NoError(t, err)
	// Each region's API: GET /<region>/v1/health answers as that region.
	e.apis = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		region, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		if r.URL.Path != "/"+region+"/v1"+contract.Health.Path {
			http.NotFound(w, r)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"status": "ok", "region": region})
	}))
	t.Cleanup(e.apis.Close)
	e.db = dynamodb.New(dynamodb.Options{Region: "us-east-1", BaseEndpoint: aws.String(m.URL),
		Credentials: credentials.NewStaticCredentialsProvider("testing", "testing", "")})
	return e
}

func copyProject(t *testing.T) string {
	t.Helper()
	root, err := artifact.FindUp(".", "go.mod")
	require.NoError(t, err)
	files, err := filepath.Glob(filepath.Join(root, "Pulumi*.yaml"))
	require.NoError(t, err)
	require.Len(t, files, 4, "Pulumi.yaml and the three stack files")
	dir := t.TempDir()
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, filepath.Base(f)), b, 0o644))
	}
	return dir
}

func (e *engine) record(event string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.events = append(e.events, event)
}

func (e *engine) recorded() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.events...)
}

func (e *engine) apiURL(region string) string { return e.apis.URL + "/" + region + "/v1" }

// program is the stand-in for region's stack.
func (e *engine) program(region string) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		e.record("program " + region)
		cfg, err := stacks.LoadConfig(ctx)
		if err != nil {
			return err
		}
		if cfg.Region != region || ctx.Stack() != region {
			return fmt.Errorf("stack %s read aws:region %s", ctx.Stack(), cfg.Region)
		}
		e.mu.Lock()
		failure := e.fail[region]
		e.mu.Unlock()
		if failure != "" {
			return errors.New(failure)
		}
		var stack, table struct{ pulumi.ResourceState }
		if err := ctx.RegisterComponentResource("access911:standin:Region", "access911-"+region, &stack); err != nil {
			return err
		}
		if err := ctx.RegisterComponentResource("access911:standin:CallsTable", cfg.TableName, &table, pulumi.Parent(&stack)); err != nil {
			return err
		}
		if err := ctx.RegisterResourceOutputs(&stack, pulumi.Map{}); err != nil {
			return err
		}
		ctx.Export(contract.OutputRegion, pulumi.String(cfg.Region))
		ctx.Export(contract.OutputHomeRegion, pulumi.String(cfg.HomeRegion))
		ctx.Export(contract.OutputTableName, pulumi.String(cfg.TableName))
		ctx.Export(contract.OutputAPIURL, pulumi.String(e.apiURL(region)))
		return nil
	}
}

func (e *engine) open(ctx context.Context, region string) (auto.Stack, error) {
	return auto.UpsertStackInlineSource(ctx, region, "access911", e.program(region),
		auto.WorkDir(e.dir), auto.Pulumi(e.cmd), auto.EnvVars(e.env), auto.SecretsProvider("passphrase"))
}

// createTables creates, in moto, the calls table each region's stack would
// have created (moto has no global tables: one table per region).
func (e *engine) createTables(regions ...string) {
	for _, region := range regions {
		_, err := e.db.CreateTable(context.Background(), &dynamodb.CreateTableInput{
			TableName:            aws.String("access911-calls"),
			AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("conversation_id"), AttributeType: types.ScalarAttributeTypeS}},
			KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("conversation_id"), KeyType: types.KeyTypeHash}},
			BillingMode:          types.BillingModePayPerRequest,
		}, func(o *dynamodb.Options) { o.Region = region })
		require.NoError(e.t, err)
	}
}

// deployer is the deployer on this engine, with the real readiness wait
// against moto's tables and the regions' health routes.
func (e *engine) deployer(out *strings.Builder) *deploy.Deployer {
	ready := deploy.Readiness{
		DynamoDB: drill.PerRegion(func(region string) *dynamodb.Client {
			return dynamodb.New(dynamodb.Options{Region: region, BaseEndpoint: e.db.Options().BaseEndpoint,
				Credentials: credentials.NewStaticCredentialsProvider("testing", "testing", "")})
		}),
		HTTP: &http.Client{Timeout: 5 * time.Second}, Poll: 200 * time.Millisecond, Timeout: 3 * time.Second,
	}
	return &deploy.Deployer{Regions: committedRegions, Home: "us-east-1", Open: e.open, Out: out,
		Ready: func(ctx context.Context, region string, outputs map[string]any) error {
			e.record("ready " + region)
			return ready.Wait(ctx, region, outputs)
		}}
}

// outputs are a region's stack outputs in the backend (none: never applied).
func (e *engine) outputs(region string) map[string]any {
	stack, err := e.open(context.Background(), region)
	require.NoError(e.t, err)
	outs, err := stack.Outputs(context.Background())
	require.NoError(e.t, err)
	values := map[string]any{}
	for k, v := range outs {
		values[k] = v.Value
	}
	return values
}

func results(outcomes []deploy.Outcome) []string {
	var out []string
	for _, o := range outcomes {
		out = append(out, o.Region+" "+o.Result)
	}
	return out
}

func TestUpRunsTheHomeRegionFirstThenOneRegionAtATime(t *testing.T) {
	e := newEngine(t)
	e.createTables(committedRegions...)
	var out strings.Builder
	d := e.deployer(&out)
	order, err := d.Order(nil, "")
	require.NoError(t, err)
	outcomes, err := d.Up(context.Background(), order)
	require.NoError(t, err, out.String())
	assert.Equal(t, []string{"us-east-1 updated", "us-west-2 updated", "eu-west-1 updated"}, results(outcomes))
	assert.Equal(t, []string{"program us-east-1", "ready us-east-1", "program us-west-2", "ready us-west-2", "program eu-west-1", "ready eu-west-1"},
		e.recorded(), "each region applied and serving before the next starts")
	for _, o := range outcomes {
		assert.Equal(t, e.apiURL(o.Region), o.APIURL, "the API URL read by the contract's output name")
		assert.Equal(t, 3, o.Changes["create"], "%s: the stack and the stand-in's two components", o.Region)
		assert.Equal(t, o.Region, e.outputs(o.Region)[contract.OutputRegion])
	}
	assert.Contains(t, out.String(), "us-east-1  create   access911:standin:Region access911-us-east-1", "progress as the engine reports it")

	again, err := d.Up(context.Background(), order)
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"same": 3}, again[0].Changes, "a second up changes nothing (the stack and its two components)")
}

func TestUpStopsAtAFailingRegionAndFromResumesThere(t *testing.T) {
	e := newEngine(t)
	e.createTables(committedRegions...)
	e.fail["us-west-2"] = "the stand-in refuses us-west-2"
	var out strings.Builder
	d := e.deployer(&out)
	order, _ := d.Order(nil, "")
	outcomes, err := d.Up(context.Background(), order)
	require.Error(t, err)
	assert.Equal(t, []string{"us-east-1 updated", "us-west-2 failed", "eu-west-1 not started"}, results(outcomes))
	assert.Contains(t, err.Error(), "the stand-in refuses us-west-2", "the engine's diagnostics for what failed")
	assert.Contains(t, err.Error(), "done: us-east-1\nnot touched: eu-west-1\nresume with: access911 up --from us-west-2")
	assert.NotContains(t, e.recorded(), "program eu-west-1", "a later region is left untouched")
	assert.Empty(t, e.outputs("eu-west-1"))

	delete(e.fail, "us-west-2")
	resume, err := d.Order(nil, "us-west-2")
	require.NoError(t, err)
	before := len(e.recorded())
	outcomes, err = d.Up(context.Background(), resume)
	require.NoError(t, err, out.String())
	assert.Equal(t, []string{"us-west-2 updated", "eu-west-1 updated"}, results(outcomes))
	assert.Equal(t, []string{"program us-west-2", "ready us-west-2", "program eu-west-1", "ready eu-west-1"}, e.recorded()[before:],
		"--from does not run the home region again")
}

func TestUpStopsWhenARegionDoesNotServe(t *testing.T) {
	e := newEngine(t)
	e.createTables("us-east-1") // us-west-2's replica never becomes a table
	var out strings.Builder
	d := e.deployer(&out)
	order, _ := d.Order([]string{"us-east-1", "us-west-2"}, "")
	outcomes, err := d.Up(context.Background(), order)
	require.Error(t, err)
	assert.Equal(t, []string{"us-east-1 updated", "us-west-2 failed"}, results(outcomes))
	assert.Contains(t, err.Error(), "deployed but not ready: not ready within 3s: describe table access911-calls in us-west-2")
}

func TestUpWithoutYesShowsThePreviewAndAsks(t *testing.T) {
	e := newEngine(t)
	e.createTables(committedRegions...)
	var out strings.Builder
	d := e.deployer(&out)
	var asked []string
	d.Confirm = func(region string) (bool, error) {
		asked = append(asked, region)
		return false, nil
	}
	order, _ := d.Order(nil, "")
	outcomes, err := d.Up(context.Background(), order)
	require.Error(t, err)
	assert.Equal(t, []string{"us-east-1 not applied", "us-west-2 not started", "eu-west-1 not started"}, results(outcomes))
	assert.Equal(t, []string{"us-east-1"}, asked)
	assert.Contains(t, out.String(), "us-east-1 preview: 3 to create", "the preview shown before the question")
	assert.Empty(t, e.outputs("us-east-1"), "declined: nothing applied")

	d.Confirm = func(string) (bool, error) { return true, nil }
	outcomes, err = d.Up(context.Background(), order[:1])
	require.NoError(t, err, out.String())
	assert.Equal(t, []string{"us-east-1 updated"}, results(outcomes))
	assert.Equal(t, "us-east-1", e.outputs("us-east-1")[contract.OutputRegion])
}

func TestPreviewChangesNothing(t *testing.T) {
	e := newEngine(t)
	var out strings.Builder
	d := e.deployer(&out)
	order, _ := d.Order(nil, "")
	outcomes, err := d.Preview(context.Background(), order)
	require.NoError(t, err, out.String())
	assert.Equal(t, []string{"us-east-1 previewed", "us-west-2 previewed", "eu-west-1 previewed"}, results(outcomes))
	for _, o := range outcomes {
		assert.Equal(t, 3, o.Changes["create"], "%s: the stack and its two components", o.Region)
		assert.Empty(t, e.outputs(o.Region))
	}
	assert.NotContains(t, strings.Join(e.recorded(), ","), "ready", "a preview waits for nothing")
}

// A standby is deployed while the home region is unreachable: every AWS
// request signed for us-east-1 is dropped by the outage proxy in front of
// moto, and `up --regions us-west-2` applies us-west-2 on the engine and
// waits until it serves, asking us-east-1 nothing.
func TestUpOfAStandbyDuringAHomeRegionOutage(t *testing.T) {
	e := newEngine(t)
	e.createTables(committedRegions...)
	outage, err := emulator.StartRegionOutage(aws.ToString(e.db.Options().BaseEndpoint), "us-east-1")
	require.NoError(t, err)
	t.Cleanup(outage.Stop)
	var out strings.Builder
	d := e.deployer(&out)
	ready := deploy.Readiness{
		DynamoDB: drill.PerRegion(func(region string) *dynamodb.Client {
			return dynamodb.New(dynamodb.Options{Region: region, BaseEndpoint: aws.String(outage.URL), RetryMaxAttempts: 1,
				Credentials: credentials.NewStaticCredentialsProvider("testing", "testing", "")})
		}),
		HTTP: &http.Client{Timeout: 5 * time.Second}, Poll: 200 * time.Millisecond, Timeout: 5 * time.Second,
	}
	d.Ready = ready.Wait
	order, err := d.Order([]string{"us-west-2"}, "")
	require.NoError(t, err)
	outcomes, err := d.Up(context.Background(), order)
	require.NoError(t, err, out.String())
	assert.Equal(t, []string{"us-west-2 updated"}, results(outcomes))
	assert.Positive(t, outage.Passed("us-west-2"), "the wait asked us-west-2")
	assert.Zero(t, outage.Denied("us-east-1"), "and nothing of us-east-1")

	_, err = ready.DynamoDB("us-east-1").ListTables(context.Background(), &dynamodb.ListTablesInput{})
	require.Error(t, err, "the proxy drops what is signed for us-east-1")
	assert.Equal(t, 1, outage.Denied("us-east-1"))
}
