//go:build integration

package deploy_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/servicequotas"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/access911/access911-infra/artifact"
	"github.com/access911/access911-infra/capacity"
	"github.com/access911/access911-infra/contract"
	"github.com/access911/access911-infra/internal/deploy"
	"github.com/access911/access911-infra/internal/drill"
	"github.com/access911/access911-infra/internal/plan"
)

var planned = sync.OnceValues(func() ([]plan.Stack, error) {
	root, err := artifact.FindUp(".", "go.mod")
	if err != nil {
		return nil, err
	}
	return plan.Load(root, nil)
})

// accountAPIs answers the two APIs moto does not have, as AWS does (the
// SDK's own request and response shapes): Lambda's GetAccountSettings and
// Service Quotas' GetServiceQuota and GetAWSDefaultServiceQuota.
type accountAPIs struct {
	concurrency, unreserved int
	// applied is API Gateway's applied throttle quota; 0: none applied, so
	// GetServiceQuota answers NoSuchResourceException and the default holds.
	applied float64
}

func (a accountAPIs) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if r.Method == http.MethodPost && r.Header.Get("X-Amz-Target") == "" && r.ParseForm() == nil && r.Form.Get("Action") == "ListSubscriptionsByTopic" {
		a.pendingSubscriptions(w, r.Form.Get("TopicArn"))
		return
	}
	switch target := r.Header.Get("X-Amz-Target"); {
	case r.Method == http.MethodGet && r.URL.Path == "/2016-08-19/account-settings":
		fmt.Fprintf(w, `{"AccountLimit":{"ConcurrentExecutions":%d,"UnreservedConcurrentExecutions":%d,"CodeSizeUnzipped":262144000,"CodeSizeZipped":52428800,"TotalCodeSize":80530636800},"AccountUsage":{"FunctionCount":0,"TotalCodeSize":0}}`,
			a.concurrency, a.unreserved)
	case target == "ServiceQuotasV20190624.GetServiceQuota" && a.applied == 0:
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"__type":"NoSuchResourceException","Message":"The request failed because the specified service quota does not exist."}`)
	case target == "ServiceQuotasV20190624.GetServiceQuota":
		fmt.Fprintf(w, `{"Quota":{"ServiceCode":"apigateway","QuotaCode":%q,"Value":%g,"Adjustable":true}}`, capacity.QuotaAPIGatewayThrottle, a.applied)
	case target == "ServiceQuotasV20190624.GetAWSDefaultServiceQuota":
		fmt.Fprintf(w, `{"Quota":{"ServiceCode":"apigateway","QuotaCode":%q,"Value":10000,"Adjustable":true}}`, capacity.QuotaAPIGatewayThrottle)
	default:
		http.Error(w, `{"__type":"UnknownOperationException"}`, http.StatusBadRequest)
	}
}

// pendingSubscriptions stands in for SNS's ListSubscriptionsByTopic with
// what moto cannot show (it confirms every subscription at once): an
// e-mail subscription whose owner has not confirmed it, as SNS lists it
// (SubscriptionArn "PendingConfirmation"), beside a confirmed one.
func (a accountAPIs) pendingSubscriptions(w http.ResponseWriter, topic string) {
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprintf(w, `<ListSubscriptionsByTopicResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><ListSubscriptionsByTopicResult><Subscriptions>
<member><TopicArn>%[1]s</TopicArn><Protocol>email</Protocol><SubscriptionArn>PendingConfirmation</SubscriptionArn><Owner>123456789012</Owner><Endpoint>oncall@example.org</Endpoint></member>
<member><TopicArn>%[1]s</TopicArn><Protocol>https</Protocol><SubscriptionArn>%[1]s:5f3b</SubscriptionArn><Owner>123456789012</Owner><Endpoint>https://pager.example.org/sns</Endpoint></member>
</Subscriptions></ListSubscriptionsByTopicResult><ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata></ListSubscriptionsByTopicResponse>`, topic)
}

// fakeCLI stands in for the Pulumi CLI's answers where a test needs one the
// real CLI here cannot give (an old version, a logged-in backend).
type fakeCLI struct {
	version string
	plugins []deploy.Plugin
	who     string
}

func (c fakeCLI) Version(context.Context) (string, error) {
	if c.version == "" {
		return "", errors.New("pulumi: executable file not found in $PATH")
	}
	return c.version, nil
}
func (c fakeCLI) Plugins(context.Context) ([]deploy.Plugin, error) { return c.plugins, nil }
func (c fakeCLI) WhoAmI(context.Context) (string, error) {
	if c.who == "" {
		return "", errors.New("error: this command requires logging in")
	}
	return c.who, nil
}

// preflightSetup is one preflight against moto and the account APIs.
type preflightSetup struct {
	apis     accountAPIs
	cli      deploy.CLI
	accounts map[string]string // region -> the account moto answers for there (its x-moto-account-id header)
	deployed map[string]map[string]any
	// dns turns DNS failover on: hostname (default calls.example.org) in a
	// zone example.org created in moto, or in zone when set.
	dns            bool
	hostname, zone string
	// pending: SNS is the stand-in that lists a subscription pending
	// confirmation (moto confirms at once).
	pending bool
	// route53Down: the zone check's Route 53 endpoint refuses connections.
	route53Down bool
}

func runPreflight(t *testing.T, s preflightSetup) deploy.PreflightReport {
	t.Helper()
	m := moto.Require(t)
	stacks, err := planned()
	require.NoError(t, err)
	api := httptest.NewServer(s.apis)
	t.Cleanup(api.Close)
	key := func(string) aws.CredentialsProvider {
		return credentials.NewStaticCredentialsProvider("testing", "testing", "")
	}
	clients := deploy.PreflightClients{
		STS: drill.PerRegion(func(r string) *sts.Client {
			o := sts.Options{Region: r, BaseEndpoint: aws.String(m.URL), Credentials: key(r)}
			if id := s.accounts[r]; id != "" {
				o.APIOptions = append(o.APIOptions, smithyhttp.AddHeaderValue("x-moto-account-id", id))
			}
			return sts.New(o)
		}),
		Lambda: drill.PerRegion(func(r string) *lambda.Client {
			return lambda.New(lambda.Options{Region: r, BaseEndpoint: aws.String(api.URL), Credentials: key(r)})
		}),
		Quotas: drill.PerRegion(func(r string) *servicequotas.Client {
			return servicequotas.New(servicequotas.Options{Region: r, BaseEndpoint: aws.String(api.URL), Credentials: key(r)})
		}),
		Secrets: drill.PerRegion(func(r string) *secretsmanager.Client {
			return secretsmanager.New(secretsmanager.Options{Region: r, BaseEndpoint: aws.String(m.URL), Credentials: key(r)})
		}),
		SNS: drill.PerRegion(func(r string) *sns.Client {
			endpoint := m.URL
			if s.pending {
				endpoint = api.URL
			}
			return sns.New(sns.Options{Region: r, BaseEndpoint: aws.String(endpoint), Credentials: key(r)})
		}),
		Route53: route53.New(route53.Options{Region: "us-east-1", BaseEndpoint: aws.String(m.URL), Credentials: key("us-east-1")}),
		CLI:     s.cli,
	}
	if s.dns {
		stacks = withDNS(t, stacks, clients.Route53, s.hostname, s.zone)
	}
	if s.route53Down {
		clients.Route53 = route53.New(route53.Options{Region: "us-east-1", BaseEndpoint: aws.String("http://127.0.0.1:9"),
			Credentials: key("us-east-1"), RetryMaxAttempts: 1})
	}
	return deploy.Preflight(context.Background(), deploy.PreflightOptions{Stacks: stacks, Pins: deploy.Pins{SDK: "v3.175.0", AWSPlugin: "v6.83.0"},
		Clients: clients, Deployed: func(context.Context) (map[string]map[string]any, error) { return s.deployed, nil }})
}

// withDNS turns DNS failover on in copies of the stacks, for hostname
// (default calls.example.org) in zone (default: example.org, created in
// moto).
func withDNS(t *testing.T, stacks []plan.Stack, r53 *route53.Client, hostname, zone string) []plan.Stack {
	t.Helper()
	out, err := r53.CreateHostedZone(context.Background(), &route53.CreateHostedZoneInput{Name: aws.String("example.org"), CallerReference: aws.String(t.Name())})
	require.NoError(t, err)
	if hostname == "" {
		hostname = "calls.example.org"
	}
	if zone == "" {
		zone = strings.TrimPrefix(aws.ToString(out.HostedZone.Id), "/hostedzone/")
	}
	copies := append([]plan.Stack(nil), stacks...)
	for i := range copies {
		copies[i].Config.APIHostname, copies[i].Config.HostedZoneID = hostname, zone
	}
	return copies
}

func line(rep deploy.PreflightReport, name, region string) deploy.Check {
	for _, c := range rep {
		if c.Name == name && c.Region == region {
			return c
		}
	}
	return deploy.Check{Severity: "missing"}
}

var ready = preflightSetup{apis: accountAPIs{concurrency: 1000, unreserved: 1000, applied: 20000},
	cli: fakeCLI{version: "v3.274.1", who: "engineer; Backend URL: file://~", plugins: []deploy.Plugin{{Kind: "resource", Name: "aws", Version: "6.83.0"}}}}

func TestPreflightPassesAReadyAccount(t *testing.T) {
	rep := runPreflight(t, ready)
	assert.False(t, rep.Failed())
	for _, c := range rep {
		assert.Equal(t, deploy.OK, c.Severity, "%+v", c)
	}
	c := line(rep, "lambda concurrency", "us-east-1")
	assert.Equal(t, "quota 1000, 1000 unreserved; the stack reserves 359, and 100 must stay unreserved", c.Detail,
		"intake 100 + drain 9 + feed workers 250, from the plan")
	assert.Equal(t, "20000 requests/s (applied); feedPostRateLimit 10000 posts/s, the stage 2000 requests/s", line(rep, "api gateway quota", "eu-west-1").Detail)
	assert.Equal(t, "account 123456789012 as arn:aws:sts::123456789012:user/moto", line(rep, "credentials", "us-west-2").Detail)
}

func TestPreflightFailures(t *testing.T) {
	for _, tc := range []struct {
		name           string
		change         func(*preflightSetup)
		check, region  string
		severity, text string
	}{
		{"no CLI", func(s *preflightSetup) { s.cli = fakeCLI{} }, "pulumi CLI", "", deploy.Fail, "executable file not found"},
		{"a CLI older than the SDK", func(s *preflightSetup) { s.cli = fakeCLI{version: "v3.100.0", who: "x"} },
			"pulumi CLI", "", deploy.Fail, "v3.100.0 is older than the program's SDK v3.175.0"},
		{"the real CLI, logged in nowhere", func(s *preflightSetup) {
			s.cli = deploy.PulumiCLI{Root: pulumiCLI.Require(t).Dir, Env: []string{"PULUMI_HOME=" + t.TempDir()}}
		},
			"pulumi backend", "", deploy.Fail, "requires logging in"},
		{"the aws plugin at another version", func(s *preflightSetup) {
			s.cli = fakeCLI{version: "v3.274.1", who: "x", plugins: []deploy.Plugin{{Kind: "resource", Name: "aws", Version: "7.0.0"}}}
		}, "aws plugin", "", deploy.Warn, "aws 7.0.0 installed, not v6.83.0"},
		{"two accounts", func(s *preflightSetup) { s.accounts = map[string]string{"eu-west-1": "210987654321"} },
			"one account", "", deploy.Fail, "210987654321: eu-west-1"},
		{"a Lambda quota below the reservations", func(s *preflightSetup) { s.apis.concurrency, s.apis.unreserved = 400, 400 },
			"lambda concurrency", "us-west-2", deploy.Fail, "the quota needs 459"},
		{"others' reservations leave too little", func(s *preflightSetup) { s.apis.unreserved = 420 },
			"lambda concurrency", "us-east-1", deploy.Fail, "other functions' reservations leave 420"},
		{"the API Gateway quota below the posts", func(s *preflightSetup) { s.apis.applied = 5000 },
			"api gateway quota", "us-east-1", deploy.Fail, "the posts alone exceed it"},
		{"the default API Gateway quota, shared with the stage", func(s *preflightSetup) { s.apis.applied = 0 },
			"api gateway quota", "eu-west-1", deploy.Warn, "10000 requests/s (AWS default); feedPostRateLimit 10000 posts/s, the stage 2000 requests/s: together 12000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := ready
			tc.change(&s)
			c := line(runPreflight(t, s), tc.check, tc.region)
			assert.Equal(t, tc.severity, c.Severity, "%+v", c)
			assert.Contains(t, c.Detail, tc.text)
			assert.NotEmpty(t, c.Fix, "a WARN or FAIL says the fix")
		})
	}
}

func TestPreflightAfterAFirstDeployment(t *testing.T) {
	m := moto.Require(t)
	require.NoError(t, m.ResetMoto())
	sm := secretsmanager.New(secretsmanager.Options{Region: "us-east-1", BaseEndpoint: aws.String(m.URL),
		Credentials: credentials.NewStaticCredentialsProvider("123456789012", "testing", "")})
	empty, err := sm.CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{Name: aws.String("webhook")})
	require.NoError(t, err)
	held, err := sm.CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{Name: aws.String("feed"), SecretString: aws.String("a-feed-secret")})
	require.NoError(t, err)
	topics := sns.New(sns.Options{Region: "us-east-1", BaseEndpoint: aws.String(m.URL),
		Credentials: credentials.NewStaticCredentialsProvider("123456789012", "testing", "")})
	topic, err := topics.CreateTopic(context.Background(), &sns.CreateTopicInput{Name: aws.String("access911-alarms")})
	require.NoError(t, err)
	_, err = topics.Subscribe(context.Background(), &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("email"),
		Endpoint: aws.String("oncall@example.org")})
	require.NoError(t, err)
	s := ready
	s.apis.unreserved = 420 // the deployed stack's own reservations are already out of it
	s.deployed = map[string]map[string]any{"us-east-1": {contract.OutputWebhookSecretArn: aws.ToString(empty.ARN), contract.OutputFeedSecretArn: aws.ToString(held.ARN),
		contract.OutputAlarmTopicArn: aws.ToString(topic.TopicArn)}}
	rep := runPreflight(t, s)
	assert.Equal(t, deploy.OK, line(rep, "lambda concurrency", "us-east-1").Severity, "deployed: its reservations are in place")
	assert.Equal(t, deploy.Fail, line(rep, "lambda concurrency", "us-west-2").Severity, "not deployed yet: they are not")
	webhook := line(rep, "secret "+contract.OutputWebhookSecretArn, "us-east-1")
	assert.Equal(t, deploy.Warn, webhook.Severity)
	assert.Contains(t, webhook.Fix, "aws secretsmanager put-secret-value --region us-east-1 --secret-id "+aws.ToString(empty.ARN))
	assert.Equal(t, deploy.OK, line(rep, "secret "+contract.OutputFeedSecretArn, "us-east-1").Severity)
	assert.Equal(t, "deployed: us-east-1", line(rep, "stacks", "").Detail)
	subs := line(rep, "alarm subscriptions", "us-east-1")
	assert.Equal(t, deploy.OK, subs.Severity, "%+v", subs)
	assert.Equal(t, "email:oncall@example.org", subs.Detail)

	s.pending = true // the stand-in: one e-mail not yet confirmed
	subs = line(runPreflight(t, s), "alarm subscriptions", "us-east-1")
	assert.Equal(t, deploy.Warn, subs.Severity)
	assert.Equal(t, "1 confirmed, pending confirmation: email:oncall@example.org (they receive no alarm)", subs.Detail)
	assert.Contains(t, subs.Fix, `"Confirm subscription"`)
}

func TestPreflightChecksTheHostedZone(t *testing.T) {
	for _, tc := range []struct {
		name, hostname, zone, severity, text string
		route53Down                          bool
	}{
		{"the zone holds the hostname", "", "", deploy.OK, "is example.org", false},
		{"a hostname outside the zone", "calls.example.net", "", deploy.Fail, "which cannot hold calls.example.net", false},
		{"no such zone", "", "Z0000000NOSUCHZONE", deploy.Fail, "route53:GetHostedZone Z0000000NOSUCHZONE", false},
		// During a us-east-1 outage Route 53's control plane does not answer:
		// a standby still deploys, with a WARN.
		{"Route 53's control plane unreachable", "", "Z0000000SOMEZONE", deploy.Warn, "control plane did not answer", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.NoError(t, moto.Require(t).ResetMoto())
			s := ready
			s.dns, s.hostname, s.zone, s.route53Down = true, tc.hostname, tc.zone, tc.route53Down
			zone := line(runPreflight(t, s), "hosted zone", "")
			assert.Equal(t, tc.severity, zone.Severity, "%+v", zone)
			assert.Contains(t, zone.Detail, tc.text)
		})
	}
}
