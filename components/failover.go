package components

import (
	"fmt"
	"strings"

	"github.com/access911/access911-infra/contract"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/acm"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/apigateway"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/apigatewayv2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/route53"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// FailoverType is the Pulumi type token of the Failover component.
const FailoverType = "access911:components:Failover"

// Health-check and DNS defaults.
const (
	// HealthCheckIntervalSeconds: Route53's fast interval.
	HealthCheckIntervalSeconds = 10
	// HealthCheckFailureThreshold: three failed checks mark a region unhealthy,
	// so detection takes about 30 s.
	HealthCheckFailureThreshold = 3
	// DNSTTLSeconds: resolvers re-ask every 30 s, so a switch reaches callers
	// within about TTL + detection time.
	DNSTTLSeconds = 30
)

// HealthCheckRegions are the Route53 checker regions that probe every API;
// checks from several continents keep one network path from deciding.
var HealthCheckRegions = []string{"us-east-1", "us-west-2", "eu-west-1"}

// FailoverArgs configures one region's part of the shared hostname.
type FailoverArgs struct {
	// Hostname is the shared name callers use, e.g. calls.example.org.
	Hostname string `pulumi:"hostname"`
	// ZoneID is the Route53 hosted zone holding Hostname.
	ZoneID string `pulumi:"zoneId"`
	// Region names this region's records, checks and regional hostname
	// (contract.RegionalHostname), and the control item its gate reads.
	Region string `pulumi:"region"`
	// Position is the region's level in the failover chain
	// (contract.ChainName): it owns that level's PRIMARY and, past level 0,
	// the previous level's SECONDARY alias to it. -1 keeps the region out of
	// the chain: it serves its regional hostname only.
	Position int `pulumi:"position"`
	// Readers are the regions whose APIs the gate asks for this region's
	// control (GET /control/{region} on their regional hostnames): every
	// serving region, this one included.
	Readers []string `pulumi:"readers"`
	// API is served under Hostname and the regional hostname through
	// regional custom domains.
	API *API `pulumi:"api"`
	// Feed, if set, is the dispatcher feed's WebSocket API, served under
	// contract.FeedHostnamePrefix + Hostname (API Gateway does not mix
	// WebSocket and REST APIs on one custom domain) through the same chain
	// and the same gate: dispatchers follow the callers.
	Feed *FailoverFeed `pulumi:"feed"`
	// TTL of the records; default DNSTTLSeconds.
	TTL  int              `pulumi:"ttl"`
	Tags pulumi.StringMap `pulumi:"tags"`
	// App names the application in descriptions and Name tags (default
	// contract.Service, "access911").
	App string `pulumi:"app"`
}

// FailoverFeed is the WebSocket API and stage a region's feed hostname
// maps to (the stage as an output: the mapping waits for it to exist).
type FailoverFeed struct {
	APIID     pulumi.StringInput `pulumi:"apiId"`
	StageName pulumi.StringInput `pulumi:"stageName"`
}

// Failover is a region's custom domains, gate and failover records.
type Failover struct {
	pulumi.ResourceState

	// HealthCheckID is the region's own /health check; GateCheckID the
	// calculated check its failover records use (health AND not denied).
	HealthCheckID      pulumi.StringOutput `pulumi:"healthCheckId"`
	GateCheckID        pulumi.StringOutput `pulumi:"gateCheckId"`
	RegionalDomainName pulumi.StringOutput `pulumi:"regionalDomainName"`
	// RegionalHostname always reaches this region (contract.RegionalHostname).
	RegionalHostname string
}

// NewFailover registers, for one region: regional custom domains for the
// shared hostname and for the region's own name (each an ACM certificate
// validated by DNS, the API Gateway domain and its mapping), the region's
// gate (a /health check, one inverted check per reader that fails when that
// reader reports the region denied, and a CALCULATED check that needs them
// all), and its failover records in the chain. Each region's stack owns only
// records and checks named after its region.
func NewFailover(ctx *pulumi.Context, name string, args *FailoverArgs, opts ...pulumi.ResourceOption) (*Failover, error) {
	if args == nil || args.API == nil || args.Hostname == "" || args.ZoneID == "" || args.Region == "" || len(args.Readers) == 0 {
		return nil, fmt.Errorf("failover %q: hostname, zone, region, readers and API are required", name)
	}
	if args.Position < -1 {
		return nil, fmt.Errorf("failover %q: position %d: accepted: -1 (out of the chain) or a level from 0", name, args.Position)
	}
	if args.TTL == 0 {
		args.TTL = DNSTTLSeconds
	}
	c := &Failover{RegionalHostname: contract.RegionalHostname(args.Region, args.Hostname)}
	if err := ctx.RegisterComponentResource(FailoverType, name, c, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(c)
	fail := func(what string, err error) (*Failover, error) {
		return nil, fmt.Errorf("failover %q: %s: %w", name, what, err)
	}

	domain, err := regionalDomain(ctx, name, args.Hostname, args, parent)
	if err != nil {
		return fail("custom domain", err)
	}
	if err := regionalName(ctx, name+"-regional", c.RegionalHostname, args, parent); err != nil {
		return fail("regional hostname", err)
	}
	health, gate, err := gateChecks(ctx, name, args, parent)
	if err != nil {
		return fail("gate", err)
	}
	if err := chainRecords(ctx, name, args.Hostname, domain.RegionalDomainName, gate, args, parent); err != nil {
		return fail("records", err)
	}
	if args.Feed != nil {
		feedHost := contract.FeedHostnamePrefix + args.Hostname
		feedDomain, err := feedDomain(ctx, name+"-feed", feedHost, args, parent)
		if err != nil {
			return fail("feed custom domain", err)
		}
		if err := chainRecords(ctx, name+"-feed", feedHost, feedDomain, gate, args, parent); err != nil {
			return fail("feed records", err)
		}
	}

	c.HealthCheckID = health.ID().ToStringOutput()
	c.GateCheckID = gate.ID().ToStringOutput()
	c.RegionalDomainName = domain.RegionalDomainName
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{
		"healthCheckId": c.HealthCheckID, "gateCheckId": c.GateCheckID, "regionalDomainName": c.RegionalDomainName,
	}); err != nil {
		return nil, err
	}
	return c, nil
}

// chainRecords registers this region's records in hostname's failover
// chain: the PRIMARY of its level, a CNAME to its regional target on the
// gate, and past level 0 the previous level's SECONDARY, an alias to its
// level that inherits that level's health (EvaluateTargetHealth).
func chainRecords(ctx *pulumi.Context, name, hostname string, target pulumi.StringInput, gate *route53.HealthCheck,
	args *FailoverArgs, parent pulumi.ResourceOption) error {
	if args.Position < 0 {
		return nil
	}
	level := contract.ChainName(hostname, args.Position)
	if _, err := route53.NewRecord(ctx, name, &route53.RecordArgs{
		ZoneId:                  pulumi.String(args.ZoneID),
		Name:                    pulumi.String(level),
		Type:                    pulumi.String("CNAME"),
		Ttl:                     pulumi.Int(args.TTL),
		Records:                 pulumi.StringArray{target},
		SetIdentifier:           pulumi.String(args.Region),
		FailoverRoutingPolicies: failoverPolicy("PRIMARY"),
		HealthCheckId:           gate.ID(),
	}, parent); err != nil {
		return fmt.Errorf("primary %s: %w", level, err)
	}
	if args.Position == 0 {
		return nil
	}
	previous := contract.ChainName(hostname, args.Position-1)
	if _, err := route53.NewRecord(ctx, name+"-secondary", &route53.RecordArgs{
		ZoneId:                  pulumi.String(args.ZoneID),
		Name:                    pulumi.String(previous),
		Type:                    pulumi.String("CNAME"),
		SetIdentifier:           pulumi.String(args.Region),
		FailoverRoutingPolicies: failoverPolicy("SECONDARY"),
		Aliases: route53.RecordAliasArray{route53.RecordAliasArgs{
			Name: pulumi.String(level), ZoneId: pulumi.String(args.ZoneID), EvaluateTargetHealth: pulumi.Bool(true),
		}},
	}, parent); err != nil {
		return fmt.Errorf("secondary %s: %w", previous, err)
	}
	return nil
}

func failoverPolicy(kind string) route53.RecordFailoverRoutingPolicyArray {
	return route53.RecordFailoverRoutingPolicyArray{route53.RecordFailoverRoutingPolicyArgs{Type: pulumi.String(kind)}}
}

// regionalName serves the API under the region's own name: a custom domain
// and a plain CNAME to it, with no health check, so the gate checks and
// operators reach this region whatever the chain answers.
func regionalName(ctx *pulumi.Context, name, hostname string, args *FailoverArgs, parent pulumi.ResourceOption) error {
	domain, err := regionalDomain(ctx, name, hostname, args, parent)
	if err != nil {
		return err
	}
	_, err = route53.NewRecord(ctx, name, &route53.RecordArgs{
		ZoneId:  pulumi.String(args.ZoneID),
		Name:    pulumi.String(hostname),
		Type:    pulumi.String("CNAME"),
		Ttl:     pulumi.Int(args.TTL),
		Records: pulumi.StringArray{domain.RegionalDomainName},
	}, parent)
	return err
}

// regionalDomain registers the shared hostname's regional custom domain: a
// validated certificate, the API Gateway domain (TLS 1.2) and its mapping
// to the API's stage.
func regionalDomain(ctx *pulumi.Context, name, hostname string, args *FailoverArgs, parent pulumi.ResourceOption) (*apigateway.DomainName, error) {
	certificateArn, err := validatedCertificate(ctx, name, hostname, args, parent)
	if err != nil {
		return nil, err
	}
	domain, err := apigateway.NewDomainName(ctx, name, &apigateway.DomainNameArgs{
		DomainName:             pulumi.String(hostname),
		RegionalCertificateArn: certificateArn,
		EndpointConfiguration:  apigateway.DomainNameEndpointConfigurationArgs{Types: pulumi.String("REGIONAL")},
		SecurityPolicy:         pulumi.String("TLS_1_2"),
		Tags:                   args.Tags,
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("domain name: %w", err)
	}
	if _, err := apigateway.NewBasePathMapping(ctx, name, &apigateway.BasePathMappingArgs{
		DomainName: domain.DomainName,
		RestApi:    args.API.RestAPIID,
		StageName:  args.API.StageName,
	}, parent); err != nil {
		return nil, fmt.Errorf("base path mapping: %w", err)
	}
	return domain, nil
}

// feedDomain registers the feed hostname's regional custom domain (a
// WebSocket API's, TLS 1.2) mapped to the feed's stage, and returns its
// regional target name.
func feedDomain(ctx *pulumi.Context, name, hostname string, args *FailoverArgs, parent pulumi.ResourceOption) (pulumi.StringOutput, error) {
	certificateArn, err := validatedCertificate(ctx, name, hostname, args, parent)
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	domain, err := apigatewayv2.NewDomainName(ctx, name, &apigatewayv2.DomainNameArgs{
		DomainName: pulumi.String(hostname),
		DomainNameConfiguration: apigatewayv2.DomainNameDomainNameConfigurationArgs{
			CertificateArn: certificateArn, EndpointType: pulumi.String("REGIONAL"), SecurityPolicy: pulumi.String("TLS_1_2"),
		},
		Tags: args.Tags,
	}, parent)
	if err != nil {
		return pulumi.StringOutput{}, fmt.Errorf("domain name: %w", err)
	}
	if _, err := apigatewayv2.NewApiMapping(ctx, name, &apigatewayv2.ApiMappingArgs{
		ApiId: args.Feed.APIID, DomainName: domain.ID(), Stage: args.Feed.StageName,
	}, parent); err != nil {
		return pulumi.StringOutput{}, fmt.Errorf("api mapping: %w", err)
	}
	return domain.DomainNameConfiguration.TargetDomainName().Elem(), nil
}

// validatedCertificate requests an ACM certificate for hostname, validated
// by DNS in the zone, and returns its ARN once validated.
func validatedCertificate(ctx *pulumi.Context, name, hostname string, args *FailoverArgs, parent pulumi.ResourceOption) (pulumi.StringOutput, error) {
	cert, err := acm.NewCertificate(ctx, name, &acm.CertificateArgs{
		DomainName:       pulumi.String(hostname),
		ValidationMethod: pulumi.String("DNS"),
		Tags:             args.Tags,
	}, parent)
	if err != nil {
		return pulumi.StringOutput{}, fmt.Errorf("certificate: %w", err)
	}
	// ACM asks for the same validation record for a name in every region of
	// an account, so each stack may write it (allowOverwrite) and none
	// deletes it (retainOnDelete): it is shared, not owned.
	option := cert.DomainValidationOptions.Index(pulumi.Int(0))
	validation, err := route53.NewRecord(ctx, name+"-validation", &route53.RecordArgs{
		ZoneId:         pulumi.String(args.ZoneID),
		Name:           option.ResourceRecordName().Elem(),
		Type:           option.ResourceRecordType().Elem(),
		Records:        pulumi.StringArray{option.ResourceRecordValue().Elem()},
		Ttl:            pulumi.Int(300),
		AllowOverwrite: pulumi.Bool(true),
	}, parent, pulumi.RetainOnDelete(true))
	if err != nil {
		return pulumi.StringOutput{}, fmt.Errorf("validation record: %w", err)
	}
	validated, err := acm.NewCertificateValidation(ctx, name, &acm.CertificateValidationArgs{
		CertificateArn:        cert.Arn,
		ValidationRecordFqdns: pulumi.StringArray{validation.Fqdn},
	}, parent)
	if err != nil {
		return pulumi.StringOutput{}, fmt.Errorf("certificate validation: %w", err)
	}
	return validated.CertificateArn, nil
}

// hostOf takes the host out of https://host/stage.
func hostOf(invokeURL string) string {
	h := strings.TrimPrefix(strings.TrimPrefix(invokeURL, "https://"), "http://")
	if i := strings.IndexByte(h, '/'); i >= 0 {
		h = h[:i]
	}
	return h
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

func mergeTags(a, b pulumi.StringMap) pulumi.StringMap {
	out := pulumi.StringMap{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}
