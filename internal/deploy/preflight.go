package deploy

import (
	"context"
	"errors"
	"fmt"
	"github.com/access911/access911-infra/internal/plan"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/servicequotas"
	sqtypes "github.com/aws/aws-sdk-go-v2/service/servicequotas/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/blang/semver"

	"github.com/access911/access911-infra/capacity"
	"github.com/access911/access911-infra/contract"
)

// Severities of a preflight line.
const (
	OK   = "OK"
	Warn = "WARN"
	Fail = "FAIL"
)

// Check is one line of the preflight.
type Check struct {
	Name, Region, Severity, Detail, Fix string
}

// PreflightReport is every line, in the order checked.
type PreflightReport []Check

// Failed tells whether any line FAILs.
func (r PreflightReport) Failed() bool {
	for _, c := range r {
		if c.Severity == Fail {
			return true
		}
	}
	return false
}

// Write prints one line per check, the fix beneath a WARN or FAIL.
func (r PreflightReport) Write(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, c := range r {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", c.Severity, c.Name, orDash(c.Region), c.Detail)
		if c.Fix != "" && c.Severity != OK {
			fmt.Fprintf(tw, "  \t\t\tfix: %s\n", c.Fix)
		}
	}
	tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// PreflightClients are the AWS APIs the preflight reads, per region, and
// the Pulumi CLI it asks.
type PreflightClients struct {
	STS     func(region string) *sts.Client
	Lambda  func(region string) *lambda.Client
	Quotas  func(region string) *servicequotas.Client
	Secrets func(region string) *secretsmanager.Client
	SNS     func(region string) *sns.Client
	Route53 *route53.Client
	CLI     CLI
}

// CLI answers what the Pulumi CLI on this machine is.
type CLI interface {
	// Version is `pulumi version`; an error when there is no CLI.
	Version(ctx context.Context) (string, error)
	// Plugins are the installed plugins: kind, name and version each.
	Plugins(ctx context.Context) ([]Plugin, error)
	// WhoAmI is the backend the CLI is logged in to; an error when none.
	WhoAmI(ctx context.Context) (string, error)
}

// Plugin is one installed Pulumi plugin.
type Plugin struct{ Kind, Name, Version string }

// PreflightOptions say what to check.
type PreflightOptions struct {
	// Stacks are the planned stacks of the regions to check (Load).
	Stacks []plan.Stack
	// Deployed reads each deployed region's stack outputs (none before the
	// first up); asked once the CLI is logged in to a backend.
	Deployed func(ctx context.Context) (map[string]map[string]any, error)
	// Pins are the versions the project's go.mod pins (ReadPins).
	Pins    Pins
	Clients PreflightClients
}

// Preflight checks, before anything is touched, what a deployment needs:
// the account, each region's Lambda concurrency and API Gateway quota, the
// Pulumi CLI and aws plugin, the hosted zone when DNS failover is on, and
// after a first deployment the secrets the service reads.
func Preflight(ctx context.Context, o PreflightOptions) PreflightReport {
	var rep PreflightReport
	rep = append(rep, checkCLI(ctx, o)...)
	backend, deployed := checkBackend(ctx, o)
	rep = append(rep, backend...)
	rep = append(rep, checkAccount(ctx, o)...)
	for _, s := range o.Stacks {
		region := s.Config.Region
		_, isDeployed := deployed[region]
		rep = append(rep, checkConcurrency(ctx, o.Clients.Lambda(region), s, isDeployed))
		rep = append(rep, checkAPIQuota(ctx, o.Clients.Quotas(region), s))
		if outputs, ok := deployed[region]; ok {
			rep = append(rep, checkSecrets(ctx, o.Clients.Secrets(region), region, outputs)...)
			rep = append(rep, CheckSubscriptions(ctx, o.Clients.SNS(region), region, outputs))
		}
	}
	if len(o.Stacks) > 0 && o.Stacks[0].Config.DNSEnabled() {
		rep = append(rep, checkHostedZone(ctx, o.Clients.Route53, o.Stacks[0].Config.HostedZoneID, o.Stacks[0].Config.APIHostname))
	}
	return rep
}

// checkCLI: the Pulumi CLI is present and at least the SDK the program is
// built with, and the aws plugin the module pins is installed.
func checkCLI(ctx context.Context, o PreflightOptions) []Check {
	fix := "install the Pulumi CLI ≥ " + o.Pins.SDK + " (https://www.pulumi.com/docs/install/)"
	got, err := o.Clients.CLI.Version(ctx)
	if err != nil {
		return []Check{{Name: "pulumi CLI", Severity: Fail, Detail: err.Error(), Fix: fix}}
	}
	cli := Check{Name: "pulumi CLI", Severity: OK, Detail: fmt.Sprintf("%s (the program's SDK is %s)", got, o.Pins.SDK)}
	have, herr := semver.ParseTolerant(got)
	want, werr := semver.ParseTolerant(o.Pins.SDK)
	switch {
	case herr != nil || werr != nil:
		cli.Severity, cli.Detail, cli.Fix = Fail, fmt.Sprintf("cannot compare CLI version %q with SDK %q", got, o.Pins.SDK), fix
	case have.LT(want):
		cli.Severity, cli.Fix = Fail, fix
		cli.Detail = fmt.Sprintf("%s is older than the program's SDK %s", got, o.Pins.SDK)
	}
	plugin := Check{Name: "aws plugin", Severity: Warn, Detail: "resource plugin aws " + o.Pins.AWSPlugin + " is not installed: pulumi up downloads it",
		Fix: "pulumi plugin install resource aws " + o.Pins.AWSPlugin}
	plugins, err := o.Clients.CLI.Plugins(ctx)
	if err != nil {
		plugin.Detail = "cannot list plugins: " + err.Error()
	}
	var others []string
	for _, p := range plugins {
		if p.Kind == "resource" && p.Name == "aws" {
			if strings.TrimPrefix(p.Version, "v") == strings.TrimPrefix(o.Pins.AWSPlugin, "v") {
				plugin.Severity, plugin.Detail, plugin.Fix = OK, "resource plugin aws "+p.Version+", as go.mod pins", ""
				break
			}
			others = append(others, p.Version)
		}
	}
	if plugin.Severity != OK && len(others) > 0 {
		plugin.Detail = fmt.Sprintf("aws %s installed, not %s, which go.mod pins: pulumi up downloads it", strings.Join(others, ", "), o.Pins.AWSPlugin)
	}
	return []Check{cli, plugin}
}

// checkBackend: the CLI is logged in to a backend, and which regions'
// stacks it holds deployed (their outputs).
func checkBackend(ctx context.Context, o PreflightOptions) ([]Check, map[string]map[string]any) {
	who, err := o.Clients.CLI.WhoAmI(ctx)
	if err != nil {
		return []Check{{Name: "pulumi backend", Severity: Fail, Detail: err.Error(),
			Fix: "pulumi login (Pulumi Cloud), or pulumi login s3://BUCKET or file://DIR"}}, nil
	}
	rep := []Check{{Name: "pulumi backend", Severity: OK, Detail: "logged in: " + who}}
	if o.Deployed == nil {
		return rep, nil
	}
	deployed, err := o.Deployed(ctx)
	if err != nil {
		return append(rep, Check{Name: "stack outputs", Severity: Warn, Detail: "cannot read them, so the secrets are not checked: " + err.Error()}), nil
	}
	var names []string
	for _, s := range o.Stacks {
		if _, ok := deployed[s.Config.Region]; ok {
			names = append(names, s.Config.Region)
		}
	}
	detail := "no region deployed yet"
	if len(names) > 0 {
		detail = "deployed: " + strings.Join(names, ", ")
	}
	return append(rep, Check{Name: "stacks", Severity: OK, Detail: detail}), deployed
}

// checkAccount: credentials answer in every region, all for one account.
func checkAccount(ctx context.Context, o PreflightOptions) []Check {
	var rep []Check
	accounts := map[string]string{}
	for _, s := range o.Stacks {
		region := s.Config.Region
		out, err := o.Clients.STS(region).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			rep = append(rep, Check{Name: "credentials", Region: region, Severity: Fail, Detail: "sts:GetCallerIdentity: " + err.Error(),
				Fix: "configure AWS credentials (AWS_PROFILE, aws sso login, or the environment)"})
			continue
		}
		accounts[region] = aws.ToString(out.Account)
		rep = append(rep, Check{Name: "credentials", Region: region, Severity: OK,
			Detail: fmt.Sprintf("account %s as %s", aws.ToString(out.Account), aws.ToString(out.Arn))})
	}
	if len(accounts) < 2 {
		return rep
	}
	distinct := map[string][]string{}
	for _, s := range o.Stacks {
		if a, ok := accounts[s.Config.Region]; ok {
			distinct[a] = append(distinct[a], s.Config.Region)
		}
	}
	same := Check{Name: "one account", Severity: OK, Detail: fmt.Sprintf("every region in the same account (%d regions)", len(accounts))}
	if len(distinct) > 1 {
		var parts []string
		for a, rs := range distinct {
			parts = append(parts, a+": "+strings.Join(rs, ", "))
		}
		same.Severity, same.Detail = Fail, "the regions answer for different accounts ("+strings.Join(parts, "; ")+")"
		same.Fix = "use one account's credentials for every region: the global table and the replicated secret need one account"
	}
	return append(rep, same)
}

// reservedConcurrency is what a planned stack's functions reserve.
func reservedConcurrency(s plan.Stack) int {
	total := 0
	for _, r := range s.Result.Resources {
		if r.Type == "aws:lambda/function:Function" {
			total += plan.ToInt(r.Inputs["reservedConcurrentExecutions"])
		}
	}
	return total
}

// checkConcurrency: the region's Lambda quota holds what the stack
// reserves plus the 100 Lambda keeps unreserved, and (before the stack is
// deployed) the unreserved concurrency left can take the reservations.
func checkConcurrency(ctx context.Context, client *lambda.Client, s plan.Stack, deployed bool) Check {
	region, reserve := s.Config.Region, reservedConcurrency(s)
	c := Check{Name: "lambda concurrency", Region: region, Severity: OK}
	out, err := client.GetAccountSettings(ctx, &lambda.GetAccountSettingsInput{})
	if err != nil {
		c.Severity, c.Detail = Fail, "lambda:GetAccountSettings: "+err.Error()
		c.Fix = "allow lambda:GetAccountSettings, or check the quota by hand (Service Quotas, " + capacity.QuotaLambdaConcurrency + ")"
		return c
	}
	quota := int(out.AccountLimit.ConcurrentExecutions)
	unreserved := int(aws.ToInt32(out.AccountLimit.UnreservedConcurrentExecutions))
	need := reserve + capacity.LambdaUnreservedFloor
	c.Detail = fmt.Sprintf("quota %d, %d unreserved; the stack reserves %d, and %d must stay unreserved", quota, unreserved, reserve, capacity.LambdaUnreservedFloor)
	fix := fmt.Sprintf("request a Lambda concurrent executions quota (%s) of at least %d in %s", capacity.QuotaLambdaConcurrency, need, region)
	switch {
	case quota < need:
		c.Severity, c.Fix = Fail, fix
		c.Detail += fmt.Sprintf(": the quota needs %d", need)
	case !deployed && unreserved-reserve < capacity.LambdaUnreservedFloor:
		c.Severity, c.Fix = Fail, fix+", or release reservations other functions hold"
		c.Detail += fmt.Sprintf(": other functions' reservations leave %d", unreserved)
	}
	return c
}

// checkAPIQuota: the account's API Gateway request quota in the region
// holds the feed's posts (feedPostRateLimit), and, since REST and WebSocket
// callback requests share it, the stage rate on top.
func checkAPIQuota(ctx context.Context, client *servicequotas.Client, s plan.Stack) Check {
	region, posts, stage := s.Config.Region, s.Config.Feed.PostRateLimit, s.Config.APIThrottleRateRps
	c := Check{Name: "api gateway quota", Region: region, Severity: OK}
	quota, how, err := quotaValue(ctx, client, capacity.QuotaServiceAPIGateway, capacity.QuotaAPIGatewayThrottle)
	if err != nil {
		c.Severity, c.Detail = Fail, "servicequotas:GetServiceQuota "+capacity.QuotaAPIGatewayThrottle+": "+err.Error()
		c.Fix = "allow servicequotas:GetServiceQuota and GetAWSDefaultServiceQuota"
		return c
	}
	c.Detail = fmt.Sprintf("%.0f requests/s (%s); feedPostRateLimit %d posts/s, the stage %d requests/s", quota, how, posts, stage)
	fix := fmt.Sprintf("request API Gateway's throttle quota (%s) of at least %d in %s, or lower access911:feedPostRateLimit", capacity.QuotaAPIGatewayThrottle, posts+stage, region)
	switch {
	case quota < float64(posts):
		c.Severity, c.Fix = Fail, fix
		c.Detail += ": the posts alone exceed it"
	case quota < float64(posts+stage):
		c.Severity, c.Fix = Warn, fix
		c.Detail += fmt.Sprintf(": together %d, throttled at full use (REST and WebSocket callbacks share the quota)", posts+stage)
	}
	return c
}

// quotaValue is the applied value of a quota, or its default where AWS has
// no applied value ("For some quotas, only the default values are
// available", GetServiceQuota).
func quotaValue(ctx context.Context, client *servicequotas.Client, service, code string) (float64, string, error) {
	out, err := client.GetServiceQuota(ctx, &servicequotas.GetServiceQuotaInput{ServiceCode: aws.String(service), QuotaCode: aws.String(code)})
	if err == nil && out.Quota != nil && out.Quota.Value != nil {
		return aws.ToFloat64(out.Quota.Value), "applied", nil
	}
	var missing *sqtypes.NoSuchResourceException
	if err != nil && !errors.As(err, &missing) {
		return 0, "", err
	}
	def, derr := client.GetAWSDefaultServiceQuota(ctx, &servicequotas.GetAWSDefaultServiceQuotaInput{ServiceCode: aws.String(service), QuotaCode: aws.String(code)})
	if derr != nil {
		return 0, "", derr
	}
	if def.Quota == nil || def.Quota.Value == nil {
		return 0, "", fmt.Errorf("%s %s has no value", service, code)
	}
	return aws.ToFloat64(def.Quota.Value), "AWS default", nil
}

// checkSecrets: after a first deployment, the webhook and feed secrets
// hold a value (a version staged AWSCURRENT). DescribeSecret reads no value.
func checkSecrets(ctx context.Context, client *secretsmanager.Client, region string, outputs map[string]any) []Check {
	var rep []Check
	for _, s := range []struct{ output, what string }{
		{contract.OutputWebhookSecretArn, "the provider's webhook secret (docs/provider.md)"},
		{contract.OutputFeedSecretArn, "the feed secret, the same in every region"},
	} {
		arn, _ := outputs[s.output].(string)
		if arn == "" {
			continue
		}
		c := Check{Name: "secret " + s.output, Region: region, Severity: OK, Detail: s.what + " holds a value"}
		out, err := client.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(arn)})
		switch {
		case err != nil:
			c.Severity, c.Detail = Warn, "secretsmanager:DescribeSecret: "+err.Error()
			c.Fix = "allow secretsmanager:DescribeSecret on " + arn
		case !staged(out.VersionIdsToStages, "AWSCURRENT"):
			c.Severity, c.Detail = Warn, s.what+" holds no value yet: the service refuses what it signs until it does"
			c.Fix = "aws secretsmanager put-secret-value --region " + region + " --secret-id " + arn + " --secret-string '…'"
		}
		rep = append(rep, c)
	}
	return rep
}

func staged(versions map[string][]string, stage string) bool {
	for _, stages := range versions {
		for _, s := range stages {
			if s == stage {
				return true
			}
		}
	}
	return false
}

// checkHostedZone: the zone DNS failover writes into exists and holds the
// shared hostname.
func checkHostedZone(ctx context.Context, client *route53.Client, zoneID, hostname string) Check {
	c := Check{Name: "hosted zone", Severity: OK}
	out, err := client.GetHostedZone(ctx, &route53.GetHostedZoneInput{Id: aws.String(zoneID)})
	var missing *r53types.NoSuchHostedZone
	switch {
	case errors.As(err, &missing):
		c.Severity, c.Detail = Fail, "route53:GetHostedZone "+zoneID+": "+err.Error()
		c.Fix = "set access911:hostedZoneId in Pulumi.yaml to a zone this account owns"
		return c
	case err != nil:
		// Route 53's control plane lives in us-east-1: during its outage the
		// records deployed keep answering (the data plane), and deploying a
		// standby must not wait on it.
		c.Severity, c.Detail = Warn, "Route 53's control plane did not answer, the zone is not checked: "+err.Error()
		c.Fix = "none needed to deploy a region; the stack's own records change only when Route 53's control plane answers again"
		return c
	}
	zone := strings.TrimSuffix(aws.ToString(out.HostedZone.Name), ".")
	c.Detail = fmt.Sprintf("%s is %s", zoneID, zone)
	if hostname != zone && !strings.HasSuffix(hostname, "."+zone) {
		c.Severity, c.Detail = Fail, fmt.Sprintf("%s is %s, which cannot hold %s", zoneID, zone, hostname)
		c.Fix = "set access911:apiHostname to a name inside " + zone + ", or hostedZoneId to the zone of " + hostname
	}
	return c
}

// pendingConfirmation is what SNS lists as a subscription's ARN until its
// endpoint's owner confirms it (SNS API Reference, Subscribe and
// ListSubscriptionsByTopic).
const pendingConfirmation = "PendingConfirmation"

// CheckSubscriptions: the region's alarm topic has a confirmed subscriber.
// An e-mail subscription receives nothing until its owner opens the
// "AWS Notification - Subscription Confirmation" message and follows
// "Confirm subscription" (SNS developer guide, sns-create-subscribe-endpoint-to-topic;
// the link's token is valid for two days, after which the subscription
// must be requested again), so a pending one is a WARN naming the address.
func CheckSubscriptions(ctx context.Context, client *sns.Client, region string, outputs map[string]any) Check {
	topic, _ := outputs[contract.OutputAlarmTopicArn].(string)
	c := Check{Name: "alarm subscriptions", Region: region, Severity: OK}
	if topic == "" {
		c.Severity, c.Detail = Warn, "the stack has no "+contract.OutputAlarmTopicArn+" output"
		return c
	}
	var confirmed, pending []string
	pages := sns.NewListSubscriptionsByTopicPaginator(client, &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(topic)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			c.Severity, c.Detail = Warn, "sns:ListSubscriptionsByTopic: "+err.Error()
			c.Fix = "allow sns:ListSubscriptionsByTopic on " + topic
			return c
		}
		for _, s := range page.Subscriptions {
			who := aws.ToString(s.Protocol) + ":" + aws.ToString(s.Endpoint)
			if aws.ToString(s.SubscriptionArn) == pendingConfirmation {
				pending = append(pending, who)
			} else {
				confirmed = append(confirmed, who)
			}
		}
	}
	switch {
	case len(pending) > 0:
		c.Severity = Warn
		c.Detail = fmt.Sprintf("%d confirmed, pending confirmation: %s (they receive no alarm)", len(confirmed), strings.Join(pending, ", "))
		c.Fix = "the owner of each pending address opens the e-mail \"AWS Notification - Subscription Confirmation\" and follows " +
			"\"Confirm subscription\" (valid two days; after that, subscribe again: access911:alarmEmail, then up)"
	case len(confirmed) == 0:
		c.Severity, c.Detail = Warn, "no subscriber: alarms in "+region+" reach no one"
		c.Fix = "set access911:alarmEmail (or subscribe your paging tool to " + topic + ")"
	default:
		c.Detail = strings.Join(confirmed, ", ")
	}
	return c
}
