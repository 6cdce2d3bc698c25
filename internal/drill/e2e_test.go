//go:build integration

package drill_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/access911/access911-infra/contract"
	"github.com/access911/access911-infra/internal/drill"
	"github.com/access911/access911-infra/internal/emulator"
	"github.com/access911/access911-infra/internal/local"
)

// motoServer is the moto every test in this binary shares.
var motoServer = emulator.MotoForTests()

func TestMain(m *testing.M) {
	// moto accepts any credentials; these keep the SDK from looking further.
	os.Setenv("AWS_ACCESS_KEY_ID", "testing")
	os.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	os.Setenv("AWS_REGION", "us-east-1")
	motoServer.Main(m)
}

const hostname = "calls.example.org"

// regions is the failover order of these tests: all three, EU last.
var regions = []string{"us-east-1", "us-west-2", "eu-west-1"}

// deployment is what the three stacks would have created, built in moto by
// hand, with one local serve per region as that region's API.
type deployment struct {
	t       *testing.T
	moto    *emulator.Server
	outputs string
	reports string
	clients drill.Clients // the drill's: through the outage proxy when there is one
	aws     drill.Clients // the emulated AWS's own (replication), straight to moto
	servers map[string]*local.Server
	repl    *replicator
	inv     *drill.Inventory
}

// sharedAPIKey is the one API key value every region accepts (the home
// stack's, replicated through contract.APIKeySecretName).
const sharedAPIKey = "drill-e2e-shared-client-key-0123456789"

func newDeployment(t *testing.T, lag time.Duration) *deployment {
	t.Helper()
	return newDeploymentWithKeys(t, lag, nil)
}

// newDeploymentWithKeys builds the deployment with each region's API
// requiring its key (sharedAPIKey unless keys says otherwise) and each
// region holding its replica of the shared key's secret.
func newDeploymentWithKeys(t *testing.T, lag time.Duration, keys map[string]string) *deployment {
	t.Helper()
	moto := motoServer.Require(t)
	require.NoError(t, moto.ResetMoto())
	ctx := context.Background()
	d := &deployment{t: t, moto: moto, outputs: t.TempDir(), reports: t.TempDir(), servers: map[string]*local.Server{}}
	var err error
	d.aws, err = drill.NewClients(ctx, moto.URL)
	require.NoError(t, err)
	d.clients = d.aws
	dir := copyProject(t)
	for _, region := range regions {
		key := sharedAPIKey
		if k, ok := keys[region]; ok {
			key = k
		}
		srv, err := local.Start(ctx, local.Options{ProjectDir: dir, Stack: region, DynamoDBEndpoint: moto.URL, APIKey: key})
		require.NoError(t, err)
		_, err = d.aws.SecretsManager(region).CreateSecret(ctx, &secretsmanager.CreateSecretInput{
			Name: aws.String(contract.APIKeySecretName), SecretString: aws.String(sharedAPIKey)})
		require.NoError(t, err)
		d.servers[region] = srv
		t.Cleanup(srv.Close)
		bucket := createArchive(t, d.aws.S3(region), region)
		out, _ := json.Marshal(map[string]any{
			"region": region, "apiUrl": srv.URL, "tableName": srv.Table, "archiveBucketName": bucket,
			"archiveReplicaBucketName": "replica-" + region, "apiHostname": hostname,
			"regionalDomainName": "d-" + region + ".execute-api." + region + ".amazonaws.com",
			"failoverOrder":      regions,
		})
		require.NoError(t, os.WriteFile(filepath.Join(d.outputs, region+".json"), out, 0o644))
	}
	d.inv, err = drill.LoadOutputs(d.outputs)
	require.NoError(t, err)
	d.repl = startReplicator(t, d.aws, "access911-calls", lag)
	return d
}

// createArchive is a region's archive bucket, versioned and replicating.
func createArchive(t *testing.T, s3c *s3.Client, region string) string {
	ctx := context.Background()
	bucket := "access911-archive-" + region
	in := &s3.CreateBucketInput{Bucket: aws.String(bucket)}
	if region != "us-east-1" {
		in.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(region)}
	}
	_, err := s3c.CreateBucket(ctx, in)
	require.NoError(t, err)
	_, err = s3c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(bucket),
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}})
	require.NoError(t, err)
	_, err = s3c.PutBucketReplication(ctx, &s3.PutBucketReplicationInput{Bucket: aws.String(bucket),
		ReplicationConfiguration: &s3types.ReplicationConfiguration{
			Role: aws.String("arn:aws:iam::000000000000:role/replication"),
			Rules: []s3types.ReplicationRule{{ID: aws.String(contract.ArchiveReplicationRuleID), Status: s3types.ReplicationRuleStatusEnabled,
				Priority: aws.Int32(1), Filter: &s3types.ReplicationRuleFilter{Prefix: aws.String("")},
				DeleteMarkerReplication: &s3types.DeleteMarkerReplication{Status: s3types.DeleteMarkerReplicationStatusEnabled},
				Destination:             &s3types.Destination{Bucket: aws.String("arn:aws:s3:::replica-" + region)}}},
		}})
	require.NoError(t, err)
	return bucket
}

func (d *deployment) run(o drill.Options) (*drill.Report, error) {
	o.ReportDir, o.Inventory, o.Clients = d.reports, d.inv, d.clients
	if o.VerifyWait == 0 {
		o.VerifyWait = 10 * time.Second
	}
	var log strings.Builder
	o.Log = &log
	rep, err := drill.Run(context.Background(), o)
	rep.WriteTable(&log)
	d.t.Log("\n" + log.String())
	return rep, err
}

// control is what each region's table replica holds for region.
func (d *deployment) control(region string) map[string]bool {
	out := map[string]bool{}
	for _, r := range regions {
		st, err := d.servers[r].Store.Control(context.Background(), region)
		require.NoError(d.t, err)
		out[r] = st.Allowed
	}
	return out
}

// awaitControl waits until every replica says allowed for region.
func (d *deployment) awaitControl(region string, allowed bool) {
	require.Eventually(d.t, func() bool {
		for _, a := range d.control(region) {
			if a != allowed {
				return false
			}
		}
		return true
	}, 10*time.Second, 100*time.Millisecond, "%s allowed=%v in every replica", region, allowed)
}

// gate EMULATES what Route 53's checkers see of a region's gate, from the
// documented semantics and raw HTTP, independently of the drill's own
// reading: the region's /health answers 200, and no reader's
// GET /control/{region} answers 2xx with ControlDeniedMarker in its body
// (the inverted HTTPS_STR_MATCH checks; a reader that does not answer
// changes nothing).
func (d *deployment) gate(client *http.Client, region string) bool {
	resp, err := client.Get(d.servers[region].URL + contract.Health.Path)
	if err != nil {
		return false
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false
	}
	for _, reader := range regions {
		resp, err := client.Get(d.servers[reader].URL + "/control/" + region)
		if err != nil {
			continue
		}
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 5120)) // Route 53 searches the first 5,120 bytes
		resp.Body.Close()
		if resp.StatusCode/100 == 2 && strings.Contains(string(b), contract.ControlDeniedMarker) {
			return false
		}
	}
	return true
}

// answer EMULATES the failover chain: the first region of the order whose
// gate is healthy (all unhealthy: the first, as Route 53 answers).
func (d *deployment) answer(client *http.Client) string {
	for _, region := range regions {
		if d.gate(client, region) {
			return region
		}
	}
	return regions[0]
}

func stepNames(rep *drill.Report) []string {
	var names []string
	for _, s := range rep.Steps {
		names = append(names, s.Name)
	}
	return names
}

func TestDrillSwitchesAndRollsBack(t *testing.T) {
	d := newDeployment(t, 300*time.Millisecond)
	client := &http.Client{Timeout: 2 * time.Second}
	require.Equal(t, "us-east-1", d.answer(client), "the order's first region while nothing is denied")

	rep, err := d.run(drill.Options{To: "us-west-2", RPOBound: 2 * time.Second})
	require.NoError(t, err)
	assert.Equal(t, "switched", rep.Outcome)
	assert.Equal(t, "us-east-1", rep.From)
	assert.Equal(t, "us-west-2", rep.To)
	assert.Equal(t, "us-west-2", rep.Writer, "the control is written in the region switched to, never the one left")
	assert.Equal(t, []drill.Change{{Region: "us-east-1", Before: true, After: false}}, rep.Changes)
	d.awaitControl("us-east-1", false)
	assert.Equal(t, "us-west-2", d.answer(client), "the chain now answers us-west-2")
	require.NotNil(t, rep.RPOMillis, "us-east-1 answers: its ReplicationLatency to us-west-2 is read")
	assert.EqualValues(t, 300, *rep.RPOMillis, "the emulated replication's latency")
	assert.Positive(t, rep.RTOMillis)
	for _, s := range rep.Steps {
		assert.Equal(t, "ok", s.Status, s.Name)
	}
	assert.Equal(t, []string{"read the control", "preflight us-west-2", "RPO us-east-1 -> us-west-2",
		"set the control in us-west-2", "readers report it", "verify us-west-2 serves", "canary call stored in us-west-2"}, stepNames(rep))
	var onDisk drill.Report
	b, err := os.ReadFile(rep.Path)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &onDisk))
	assert.Equal(t, "switched", onDisk.Outcome)
	assert.NotEmpty(t, onDisk.Who)
	t.Logf("measured: RPO %d ms, RTO %d ms", *rep.RPOMillis, rep.RTOMillis)

	back, err := d.run(drill.Options{Rollback: true, RPOBound: 2 * time.Second})
	require.NoError(t, err)
	assert.Equal(t, "switched", back.Outcome)
	assert.Equal(t, "us-west-2", back.From)
	assert.Equal(t, "us-east-1", back.To)
	assert.True(t, back.Rollback)
	assert.Equal(t, []drill.Change{{Region: "us-east-1", Before: false, After: true}}, back.Changes)
	assert.Contains(t, stepNames(back), "caught up: us-east-1", "a failback is gated on catch-up")
	d.awaitControl("us-east-1", true)
	assert.Equal(t, "us-east-1", d.answer(client))
}

// A switch past the second region denies every region before the target.
func TestDrillToTheLastRegionDeniesEveryOneBefore(t *testing.T) {
	d := newDeployment(t, 50*time.Millisecond)
	rep, err := d.run(drill.Options{To: "eu-west-1"})
	require.NoError(t, err)
	assert.Equal(t, []drill.Change{{Region: "us-east-1", Before: true, After: false}, {Region: "us-west-2", Before: true, After: false}}, sortChanges(rep.Changes))
	assert.Equal(t, "eu-west-1", d.answer(&http.Client{Timeout: 2 * time.Second}))
}

func sortChanges(c []drill.Change) []drill.Change {
	sort.Slice(c, func(i, j int) bool { return c[i].Region < c[j].Region })
	return c
}

// A gray failure: us-east-1 answers /health, but should not take callers.
// Evacuating it is one control write into us-west-2.
func TestDrillEvacuatesAGrayFailure(t *testing.T) {
	d := newDeployment(t, 50*time.Millisecond)
	client := &http.Client{Timeout: 2 * time.Second}
	require.True(t, d.gate(client, "us-east-1"), "us-east-1's own health is fine")
	rep, err := d.run(drill.Options{Evacuate: "us-east-1"})
	require.NoError(t, err)
	assert.Equal(t, "switched", rep.Outcome)
	assert.Equal(t, "us-west-2", rep.To, "the next region of the order")
	assert.Equal(t, "us-west-2", rep.Writer)
	assert.Equal(t, "us-west-2", d.answer(client))
	assert.False(t, d.gate(client, "us-east-1"), "healthy, and still evacuated")
}

func TestDrillRefusesAnUnhealthyTarget(t *testing.T) {
	d := newDeployment(t, 100*time.Millisecond)
	d.servers["us-west-2"].Close() // the region's API is down
	rep, err := d.run(drill.Options{To: "us-west-2"})
	require.ErrorIs(t, err, drill.ErrRefused)
	assert.Equal(t, "refused", rep.Outcome)
	assert.Contains(t, rep.Reason, "us-west-2 would not take the callers: its API's /health does not answer ok")
	assert.True(t, d.control("us-east-1")["us-west-2"], "nothing written")
	_, err = drill.LastSwitch(d.reports)
	assert.Error(t, err, "a refusal is not a switch to roll back")
}

// A region whose API key has another value than the one our clients hold
// would answer them 403 after the switch: the drill refuses it, although
// its health route is fine.
func TestDrillRefusesATargetThatRefusesOurClientsKey(t *testing.T) {
	d := newDeploymentWithKeys(t, 100*time.Millisecond, map[string]string{"us-west-2": "a-key-us-west-2-generated-itself-000000"})
	rep, err := d.run(drill.Options{To: "us-west-2"})
	require.ErrorIs(t, err, drill.ErrRefused)
	assert.Equal(t, "refused", rep.Outcome)
	assert.Contains(t, rep.Reason, "answered 403 to our clients' key")
	assert.NotContains(t, rep.Reason, "/health", "the public route is fine: only the keyed probe sees it")
	assert.True(t, d.control("us-west-2")["us-east-1"], "nothing written")

	rep, err = d.run(drill.Options{To: "us-west-2", APIKey: "a-key-us-west-2-generated-itself-000000", DryRun: true})
	require.NoError(t, err)
	assert.Equal(t, "dry-run", rep.Outcome)
}

func TestDrillDryRunChangesNothing(t *testing.T) {
	d := newDeployment(t, 100*time.Millisecond)
	rep, err := d.run(drill.Options{To: "eu-west-1", DryRun: true})
	require.NoError(t, err)
	assert.Equal(t, "dry-run", rep.Outcome)
	require.NotNil(t, rep.RPOMillis, "the RPO was read")
	assert.Len(t, rep.Changes, 2, "what it would write")
	for _, r := range regions {
		assert.Equal(t, map[string]bool{"us-east-1": true, "us-west-2": true, "eu-west-1": true}, d.control(r))
	}
}

func TestDrillRPOBound(t *testing.T) {
	d := newDeployment(t, 1500*time.Millisecond)
	rep, err := d.run(drill.Options{To: "us-west-2", RPOBound: 400 * time.Millisecond})
	require.ErrorIs(t, err, drill.ErrRefused)
	assert.Contains(t, rep.Reason, "RPO")
	assert.Contains(t, rep.Reason, "past the bound")
	assert.True(t, d.control("us-east-1")["us-west-2"])

	rep, err = d.run(drill.Options{To: "us-west-2", RPOBound: 400 * time.Millisecond, Force: true})
	require.NoError(t, err)
	assert.Equal(t, "switched", rep.Outcome)
	assert.True(t, rep.Forced)
}

// Turning a recovered region back on waits for its archive's pending
// replication to drain, and refuses (without --force) if it does not.
func TestFailbackWaitsForTheArchiveToDrain(t *testing.T) {
	d := newDeployment(t, 50*time.Millisecond)
	_, err := d.run(drill.Options{Evacuate: "us-east-1"})
	require.NoError(t, err)
	d.awaitControl("us-east-1", false)

	pending := func(n float64, at time.Time) {
		_, err := d.aws.CloudWatch("us-east-1").PutMetricData(context.Background(), &cloudwatch.PutMetricDataInput{
			Namespace: aws.String("AWS/S3"), MetricData: []cwtypes.MetricDatum{{
				MetricName: aws.String("OperationsPendingReplication"), Value: aws.Float64(n), Timestamp: aws.Time(at),
				Dimensions: []cwtypes.Dimension{
					{Name: aws.String("SourceBucket"), Value: aws.String("access911-archive-us-east-1")},
					{Name: aws.String("DestinationBucket"), Value: aws.String("replica-us-east-1")},
					{Name: aws.String("RuleId"), Value: aws.String(contract.ArchiveReplicationRuleID)},
				}}}})
		require.NoError(t, err)
	}
	pending(1200, time.Now().Add(-2*time.Minute))
	rep, err := d.run(drill.Options{Rollback: true, VerifyWait: 2 * time.Second})
	require.ErrorIs(t, err, drill.ErrRefused)
	assert.Contains(t, rep.Reason, "1200 operations pending replication")
	assert.False(t, d.control("us-east-1")["us-west-2"], "still evacuated")

	pending(0, time.Now()) // a later minute: the newest datapoint
	rep, err = d.run(drill.Options{Rollback: true})
	require.NoError(t, err)
	assert.Equal(t, "switched", rep.Outcome)
	d.awaitControl("us-east-1", true)
}

func TestDrillRejectsARegionOutsideTheDeployment(t *testing.T) {
	d := newDeployment(t, 0)
	_, err := d.run(drill.Options{To: "ap-south-1"})
	require.Error(t, err)
	assert.False(t, errors.Is(err, drill.ErrRefused))
	assert.Contains(t, err.Error(), "not in the deployment")
}

func copyProject(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files, err := filepath.Glob("../../Pulumi*.yaml")
	require.NoError(t, err)
	for _, f := range append(files, "../../go.mod") {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, filepath.Base(f)), b, 0o644))
	}
	return dir
}

// replicator EMULATES DynamoDB global-table replication between moto's
// regions, which moto does not have. It exists only in this test file and is
// never shipped: every version of an item written in a region is copied to
// the other regions after `lag` (last writer wins, as global tables), and,
// as DynamoDB does, the sending region publishes ReplicationLatency per
// receiving region. A region marked down neither sends nor receives.
type replicator struct {
	lag  atomic.Int64
	stop chan struct{}
	done sync.WaitGroup
	mu   sync.Mutex
	down map[string]bool
}

func (r *replicator) setDown(region string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.down[region] = true
}

func (r *replicator) isDown(region string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.down[region]
}

func startReplicator(t *testing.T, c drill.Clients, table string, lag time.Duration) *replicator {
	r := &replicator{stop: make(chan struct{}), down: map[string]bool{}}
	r.lag.Store(int64(lag))
	firstSeen := map[string]time.Time{}
	done := map[string]bool{} // region|item version already sent or received
	for _, src := range regions {
		for _, dst := range regions {
			if src != dst {
				r.publishLatency(c, table, src, dst)
			}
		}
	}
	r.done.Add(1)
	go func() {
		defer r.done.Done()
		for {
			select {
			case <-r.stop:
				return
			case <-time.After(25 * time.Millisecond):
			}
			for _, src := range regions {
				if r.isDown(src) {
					continue
				}
				out, err := c.DynamoDB(src).Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(table)})
				if err != nil {
					continue
				}
				for _, item := range out.Items {
					version := itemVersion(item)
					if done[src+"|"+version] {
						continue
					}
					if _, ok := firstSeen[src+"|"+version]; !ok {
						firstSeen[src+"|"+version] = time.Now()
					}
					if time.Since(firstSeen[src+"|"+version]) < time.Duration(r.lag.Load()) {
						continue
					}
					for _, dst := range regions {
						if dst != src && !r.isDown(dst) {
							_, _ = c.DynamoDB(dst).PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(table), Item: item})
							done[dst+"|"+version] = true // a replica's copy is not sent on again
						}
					}
					done[src+"|"+version] = true
				}
			}
		}
	}()
	t.Cleanup(func() { close(r.stop); r.done.Wait() })
	return r
}

// publishLatency puts the emulated lag as DynamoDB's ReplicationLatency
// (ms) in the sending region, per receiving region.
func (r *replicator) publishLatency(c drill.Clients, table, src, dst string) {
	_, _ = c.CloudWatch(src).PutMetricData(context.Background(), &cloudwatch.PutMetricDataInput{
		Namespace: aws.String("AWS/DynamoDB"), MetricData: []cwtypes.MetricDatum{{
			MetricName: aws.String("ReplicationLatency"), Value: aws.Float64(float64(time.Duration(r.lag.Load()).Milliseconds())),
			Unit: cwtypes.StandardUnitMilliseconds, Timestamp: aws.Time(time.Now()),
			Dimensions: []cwtypes.Dimension{{Name: aws.String("ReceivingRegion"), Value: aws.String(dst)}, {Name: aws.String("TableName"), Value: aws.String(table)}},
		}}})
}

// itemVersion identifies one version of an item: its key and attributes.
func itemVersion(item map[string]ddbtypes.AttributeValue) string {
	keys := make([]string, 0, len(item))
	for k := range item {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%v;", k, attr(item[k]))
	}
	return b.String()
}

func attr(v ddbtypes.AttributeValue) any {
	switch v := v.(type) {
	case *ddbtypes.AttributeValueMemberS:
		return v.Value
	case *ddbtypes.AttributeValueMemberN:
		return v.Value
	case *ddbtypes.AttributeValueMemberBOOL:
		return v.Value
	default:
		return fmt.Sprintf("%T", v)
	}
}
