//go:build integration

package drill_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
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

var regions = []string{"us-east-1", "us-west-2", "eu-west-1"}

// deployment is what the three stacks would have created, built in moto by
// hand, with one local serve per region as that region's API.
type deployment struct {
	t       *testing.T
	dir     string // project copy whose stack files the drill rewrites
	outputs string
	reports string
	clients drill.Clients
	zoneID  string
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
	d := &deployment{t: t, dir: copyProject(t), outputs: t.TempDir(), reports: t.TempDir(), servers: map[string]*local.Server{}}
	var err error
	d.clients, err = drill.NewClients(ctx, moto.URL)
	require.NoError(t, err)

	zone, err := d.clients.Route53.CreateHostedZone(ctx, &route53.CreateHostedZoneInput{
		Name: aws.String("example.org"), CallerReference: aws.String(fmt.Sprint(time.Now().UnixNano()))})
	require.NoError(t, err)
	d.zoneID = strings.TrimPrefix(aws.ToString(zone.HostedZone.Id), "/hostedzone/")

	var changes []r53types.Change
	for _, region := range regions {
		key := sharedAPIKey
		if k, ok := keys[region]; ok {
			key = k
		}
		srv, err := local.Start(ctx, local.Options{ProjectDir: d.dir, Stack: region, DynamoDBEndpoint: moto.URL, APIKey: key})
		require.NoError(t, err)
		_, err = d.clients.SecretsManager(region).CreateSecret(ctx, &secretsmanager.CreateSecretInput{
			Name: aws.String(contract.APIKeySecretName), SecretString: aws.String(sharedAPIKey)})
		require.NoError(t, err)
		d.servers[region] = srv
		t.Cleanup(srv.Close)

		bucket := "access911-archive-" + region
		s3c := d.clients.S3(region)
		in := &s3.CreateBucketInput{Bucket: aws.String(bucket)}
		if region != "us-east-1" {
			in.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(region)}
		}
		_, err = s3c.CreateBucket(ctx, in)
		require.NoError(t, err)
		_, err = s3c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(bucket),
			VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}})
		require.NoError(t, err)
		_, err = s3c.PutBucketReplication(ctx, &s3.PutBucketReplicationInput{Bucket: aws.String(bucket),
			ReplicationConfiguration: &s3types.ReplicationConfiguration{
				Role: aws.String("arn:aws:iam::000000000000:role/replication"),
				Rules: []s3types.ReplicationRule{{ID: aws.String("replicate-all-calls"), Status: s3types.ReplicationRuleStatusEnabled,
					Priority: aws.Int32(1), Filter: &s3types.ReplicationRuleFilter{Prefix: aws.String("")},
					DeleteMarkerReplication: &s3types.DeleteMarkerReplication{Status: s3types.DeleteMarkerReplicationStatusEnabled},
					Destination:             &s3types.Destination{Bucket: aws.String("arn:aws:s3:::replica-" + region)}}},
			}})
		require.NoError(t, err)

		hc, err := d.clients.Route53.CreateHealthCheck(ctx, &route53.CreateHealthCheckInput{
			CallerReference: aws.String(region + fmt.Sprint(time.Now().UnixNano())),
			HealthCheckConfig: &r53types.HealthCheckConfig{Type: r53types.HealthCheckTypeHttps,
				FullyQualifiedDomainName: aws.String("api-" + region + ".execute-api." + region + ".amazonaws.com"),
				ResourcePath:             aws.String("/v1/health"), Port: aws.Int32(443),
				RequestInterval: aws.Int32(10), FailureThreshold: aws.Int32(3)},
		})
		require.NoError(t, err)
		hcID := aws.ToString(hc.HealthCheck.Id)
		regional := "d-" + region + ".execute-api." + region + ".amazonaws.com"
		weight := int64(0)
		if region == "us-east-1" {
			weight = 100
		}
		changes = append(changes, r53types.Change{Action: r53types.ChangeActionCreate, ResourceRecordSet: &r53types.ResourceRecordSet{
			Name: aws.String(hostname), Type: r53types.RRTypeCname, TTL: aws.Int64(30), SetIdentifier: aws.String(region),
			Weight: aws.Int64(weight), HealthCheckId: aws.String(hcID),
			ResourceRecords: []r53types.ResourceRecord{{Value: aws.String(regional)}},
		}})
		out, _ := json.Marshal(map[string]any{
			"region": region, "apiUrl": srv.URL, "tableName": srv.Table, "archiveBucketName": bucket,
			"healthCheckId": hcID, "apiHostname": hostname, "hostedZoneId": d.zoneID, "regionalDomainName": regional,
		})
		require.NoError(t, os.WriteFile(filepath.Join(d.outputs, region+".json"), out, 0o644))
	}
	_, err = d.clients.Route53.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{
		HostedZoneId: aws.String(d.zoneID), ChangeBatch: &r53types.ChangeBatch{Changes: changes}})
	require.NoError(t, err)

	d.inv, err = drill.LoadOutputs(d.outputs)
	require.NoError(t, err)
	d.repl = startReplicator(t, d.clients, "access911-calls", lag)
	return d
}

func (d *deployment) run(o drill.Options) (*drill.Report, error) {
	o.StackDir, o.ReportDir, o.Inventory, o.Clients = d.dir, d.reports, d.inv, d.clients
	o.VerifyWait = 10 * time.Second
	var log strings.Builder
	o.Log = &log
	rep, err := drill.Run(context.Background(), o)
	rep.WriteTable(&log)
	d.t.Log("\n" + log.String())
	return rep, err
}

func (d *deployment) weights() map[string]int64 {
	out, err := d.clients.Route53.ListResourceRecordSets(context.Background(), &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(d.zoneID)})
	require.NoError(d.t, err)
	w := map[string]int64{}
	for _, rr := range out.ResourceRecordSets {
		if rr.SetIdentifier != nil {
			w[aws.ToString(rr.SetIdentifier)] = aws.ToInt64(rr.Weight)
		}
	}
	return w
}

func (d *deployment) active() string {
	a, err := drill.ConfiguredActive(d.dir)
	require.NoError(d.t, err)
	return a
}

func TestDrillSwitchesAndRollsBack(t *testing.T) {
	// The RPO counts from the canary's acknowledged write, and a busy moto can
	// make the item visible well before it acknowledges it: a lag large
	// against that, and a bound with room for it.
	d := newDeployment(t, 400*time.Millisecond)
	rep, err := d.run(drill.Options{To: "us-west-2", RPOBound: 2 * time.Second})
	require.NoError(t, err)
	assert.Equal(t, "switched", rep.Outcome)
	assert.Equal(t, "us-east-1", rep.From)
	assert.Equal(t, map[string]int64{"us-east-1": 0, "us-west-2": 100, "eu-west-1": 0}, d.weights(), "records flipped")
	assert.Equal(t, "us-west-2", d.active(), "Pulumi.yaml updated")
	require.NotNil(t, rep.RPOMillis)
	assert.GreaterOrEqual(t, *rep.RPOMillis, int64(250), "the emulated replication lag shows in the RPO")
	assert.Positive(t, rep.RTOMillis)
	var names []string
	for _, s := range rep.Steps {
		names = append(names, s.Name)
		assert.Equal(t, "ok", s.Status, s.Name)
	}
	assert.Equal(t, []string{"read routing", "preflight us-west-2", "RPO probe us-east-1 -> us-west-2",
		"switch traffic to us-west-2", "verify us-west-2 serves", "set activeRegion in Pulumi.yaml"}, names)
	assert.Equal(t, "pulumi stack select us-west-2 && pulumi up", rep.PulumiUp[0])
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
	assert.Equal(t, map[string]int64{"us-east-1": 100, "us-west-2": 0, "eu-west-1": 0}, d.weights())
	assert.Equal(t, "us-east-1", d.active())
}

func TestDrillRefusesAnUnhealthyTarget(t *testing.T) {
	d := newDeployment(t, 100*time.Millisecond)
	d.servers["us-west-2"].Close() // the region's API is down
	before := d.weights()
	rep, err := d.run(drill.Options{To: "us-west-2"})
	require.ErrorIs(t, err, drill.ErrRefused)
	assert.Equal(t, "refused", rep.Outcome)
	assert.Contains(t, rep.Reason, "preflight")
	assert.Contains(t, rep.Reason, "/health")
	assert.Equal(t, before, d.weights(), "nothing changed in Route53")
	assert.Equal(t, "us-east-1", d.active(), "nothing changed in Pulumi.yaml")
	_, err = drill.LastSwitch(d.reports)
	assert.Error(t, err, "a refusal is not a switch to roll back")
}

// A region whose API key has another value than the one our clients hold
// (a key it generated itself) would answer them 403 after the switch: the
// drill refuses it, although its health route is fine.
func TestDrillRefusesATargetThatRefusesOurClientsKey(t *testing.T) {
	d := newDeploymentWithKeys(t, 100*time.Millisecond, map[string]string{"us-west-2": "a-key-us-west-2-generated-itself-000000"})
	before := d.weights()
	rep, err := d.run(drill.Options{To: "us-west-2"})
	require.ErrorIs(t, err, drill.ErrRefused)
	assert.Equal(t, "refused", rep.Outcome)
	assert.Contains(t, rep.Reason, "answered 403 to our clients' key")
	assert.NotContains(t, rep.Reason, "/health", "the public route is fine: only the keyed probe sees it")
	assert.Equal(t, before, d.weights(), "nothing changed in Route53")

	// With the key that region does accept, the same switch goes ahead.
	rep, err = d.run(drill.Options{To: "us-west-2", APIKey: "a-key-us-west-2-generated-itself-000000", DryRun: true})
	require.NoError(t, err)
	assert.Equal(t, "dry-run", rep.Outcome)
}

func TestDrillDryRunChangesNothing(t *testing.T) {
	d := newDeployment(t, 100*time.Millisecond)
	before := d.weights()
	rep, err := d.run(drill.Options{To: "eu-west-1", DryRun: true})
	require.NoError(t, err)
	assert.Equal(t, "dry-run", rep.Outcome)
	require.NotNil(t, rep.RPOMillis, "the probe ran")
	assert.Positive(t, *rep.RPOMillis)
	assert.Equal(t, before, d.weights())
	assert.Equal(t, "us-east-1", d.active())
}

func TestDrillRPOBound(t *testing.T) {
	d := newDeployment(t, 1500*time.Millisecond)
	rep, err := d.run(drill.Options{To: "us-west-2", RPOBound: 400 * time.Millisecond})
	require.ErrorIs(t, err, drill.ErrRefused)
	assert.Contains(t, rep.Reason, "RPO probe")
	assert.Equal(t, "us-east-1", d.active())

	rep, err = d.run(drill.Options{To: "us-west-2", RPOBound: 400 * time.Millisecond, Force: true})
	require.NoError(t, err)
	assert.Equal(t, "switched", rep.Outcome)
	assert.True(t, rep.Forced)
	assert.Equal(t, "us-west-2", d.active())
}

func TestDrillRejectsUnknownRegion(t *testing.T) {
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
// never shipped: every `lag` it copies new items of each region's table to
// the other regions' tables, after they have been there for `lag`.
type replicator struct {
	lag  atomic.Int64
	stop chan struct{}
	done sync.WaitGroup
}

func startReplicator(t *testing.T, c drill.Clients, table string, lag time.Duration) *replicator {
	r := &replicator{stop: make(chan struct{})}
	r.lag.Store(int64(lag))
	firstSeen := map[string]time.Time{}
	copied := map[string]bool{}
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
				out, err := c.DynamoDB(src).Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(table)})
				if err != nil {
					continue
				}
				for _, item := range out.Items {
					id := src + "|" + item[contract.TableHashKey].(*ddbtypes.AttributeValueMemberS).Value
					if copied[id] {
						continue
					}
					if _, ok := firstSeen[id]; !ok {
						firstSeen[id] = time.Now()
					}
					if time.Since(firstSeen[id]) < time.Duration(r.lag.Load()) {
						continue
					}
					for _, dst := range regions {
						if dst != src {
							_, _ = c.DynamoDB(dst).PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(table), Item: item})
						}
					}
					copied[id] = true
				}
			}
		}
	}()
	t.Cleanup(func() { close(r.stop); r.done.Wait() })
	return r
}
