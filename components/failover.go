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
	Hostname string
	// ZoneID is the Route53 hosted zone holding Hostname.
	ZoneID string
	// SetIdentifier names this region's record; unique per region.
	SetIdentifier string
	// Weight of this region's record: contract.ActiveWeight for the active
	// region and contract.StandbyWeight for the others (Route53 answers zero-weight records only while every
	// non-zero one is unhealthy: failover), or a split for a gradual failback.
	Weight int
	// API is served under Hostname through a regional custom domain.
	API *API
	// Feed, if set, is the dispatcher feed's WebSocket API, served under
	// contract.FeedHostnamePrefix + Hostname (API Gateway does not mix
	// WebSocket and REST APIs on one custom domain) with the same weight
	// and the same health check: dispatchers follow the active region too.
	Feed *FailoverFeed
	// TTL of the record; default DNSTTLSeconds.
	TTL  int
	Tags pulumi.StringMap
}

// FailoverFeed is the WebSocket API and stage a region's feed hostname
// maps to (the stage as an output: the mapping waits for it to exist).
type FailoverFeed struct {
	APIID, StageName pulumi.StringInput
}

// Failover is a region's custom domain, health check and weighted record.
type Failover struct {
	pulumi.ResourceState

	HealthCheckID      pulumi.StringOutput `pulumi:"healthCheckId"`
	RegionalDomainName pulumi.StringOutput `pulumi:"regionalDomainName"`
	Weight             int
}

// NewFailover registers a regional custom domain for the shared hostname (an
// ACM certificate validated by DNS, the API Gateway domain and its mapping to
// the stage), a Route53 HTTPS health check on the region's own /health, and
// the region's weighted CNAME for the hostname. Each region's stack owns only
// records and checks named after its region.
func NewFailover(ctx *pulumi.Context, name string, args *FailoverArgs, opts ...pulumi.ResourceOption) (*Failover, error) {
	if args == nil || args.API == nil || args.Hostname == "" || args.ZoneID == "" || args.SetIdentifier == "" {
		return nil, fmt.Errorf("failover %q: hostname, zone, set identifier and API are required", name)
	}
	if args.Weight < 0 || args.Weight > contract.MaxWeight {
		return nil, fmt.Errorf("failover %q: weight %d is outside Route53's 0-%d", name, args.Weight, contract.MaxWeight)
	}
	ttl := args.TTL
	if ttl == 0 {
		ttl = DNSTTLSeconds
	}
	c := &Failover{Weight: args.Weight}
	if err := ctx.RegisterComponentResource(FailoverType, name, c, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(c)
	fail := func(what string, err error) (*Failover, error) {
		return nil, fmt.Errorf("failover %q: %s: %w", name, what, err)
	}

	domain, err := regionalDomain(ctx, name, args, parent)
	if err != nil {
		return fail("custom domain", err)
	}
	check, err := healthCheck(ctx, name, args, parent)
	if err != nil {
		return fail("health check", err)
	}
	if err := weightedRecord(ctx, name, args.Hostname, domain.RegionalDomainName, ttl, check, args, parent); err != nil {
		return fail("record", err)
	}
	if args.Feed != nil {
		feedHost := contract.FeedHostnamePrefix + args.Hostname
		feedDomain, err := feedDomain(ctx, name+"-feed", feedHost, args, parent)
		if err != nil {
			return fail("feed custom domain", err)
		}
		if err := weightedRecord(ctx, name+"-feed", feedHost, feedDomain, ttl, check, args, parent); err != nil {
			return fail("feed record", err)
		}
	}

	c.HealthCheckID = check.ID().ToStringOutput()
	c.RegionalDomainName = domain.RegionalDomainName
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{
		"healthCheckId": c.HealthCheckID, "regionalDomainName": c.RegionalDomainName,
	}); err != nil {
		return nil, err
	}
	return c, nil
}

// weightedRecord is this region's weighted CNAME for a shared name, on the
// region's health check.
func weightedRecord(ctx *pulumi.Context, name, hostname string, target pulumi.StringInput, ttl int, check *route53.HealthCheck,
	args *FailoverArgs, parent pulumi.ResourceOption) error {
	_, err := route53.NewRecord(ctx, name, &route53.RecordArgs{
		ZoneId:        pulumi.String(args.ZoneID),
		Name:          pulumi.String(hostname),
		Type:          pulumi.String("CNAME"),
		Ttl:           pulumi.Int(ttl),
		Records:       pulumi.StringArray{target},
		SetIdentifier: pulumi.String(args.SetIdentifier),
		WeightedRoutingPolicies: route53.RecordWeightedRoutingPolicyArray{
			route53.RecordWeightedRoutingPolicyArgs{Weight: pulumi.Int(args.Weight)},
		},
		HealthCheckId: check.ID(),
	}, parent)
	return err
}

// regionalDomain registers the shared hostname's regional custom domain: a
// validated certificate, the API Gateway domain (TLS 1.2) and its mapping
// to the API's stage.
func regionalDomain(ctx *pulumi.Context, name string, args *FailoverArgs, parent pulumi.ResourceOption) (*apigateway.DomainName, error) {
	certificateArn, err := validatedCertificate(ctx, name, args.Hostname, args, parent)
	if err != nil {
		return nil, err
	}
	domain, err := apigateway.NewDomainName(ctx, name, &apigateway.DomainNameArgs{
		DomainName:             pulumi.String(args.Hostname),
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

// healthCheck probes the region's own execute-api endpoint, not the shared
// name: it must say whether this region can serve, wherever DNS points.
func healthCheck(ctx *pulumi.Context, name string, args *FailoverArgs, parent pulumi.ResourceOption) (*route53.HealthCheck, error) {
	regions := pulumi.StringArray{}
	for _, r := range HealthCheckRegions {
		regions = append(regions, pulumi.String(r))
	}
	return route53.NewHealthCheck(ctx, name, &route53.HealthCheckArgs{
		Type:             pulumi.String("HTTPS"),
		Fqdn:             args.API.InvokeURL.ApplyT(hostOf).(pulumi.StringOutput),
		Port:             pulumi.Int(443),
		ResourcePath:     pulumi.Sprintf("/%s%s", args.API.StageName, contract.Health.Path),
		RequestInterval:  pulumi.Int(HealthCheckIntervalSeconds),
		FailureThreshold: pulumi.Int(HealthCheckFailureThreshold),
		Regions:          regions,
		EnableSni:        pulumi.Bool(true),
		MeasureLatency:   pulumi.Bool(true),
		ReferenceName:    pulumi.String(truncate(args.SetIdentifier+"-health", 64)),
		Tags:             mergeTags(args.Tags, pulumi.StringMap{"Name": pulumi.String("access911 " + args.SetIdentifier + " " + contract.Health.Path)}),
	}, parent)
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
