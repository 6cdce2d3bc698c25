package components

import (
	"fmt"
	"strings"

	"github.com/access911/access911-infra/contract"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/route53"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// gateChecks registers the region's gate: its own /health check; for each
// reader, an inverted string-matching check of the reader's
// GET /control/{region} that turns unhealthy when the reader answers the
// region denied (contract.ControlDeniedMarker) and stays healthy when the
// reader does not answer at all (a reader that is down neither allows nor
// denies); and the CALCULATED gate that is healthy only while all of them
// are. Route 53 evaluates it on its data plane: flipping the control is a
// table write, with no Route 53 API call.
func gateChecks(ctx *pulumi.Context, name string, args *FailoverArgs, parent pulumi.ResourceOption) (health, gate *route53.HealthCheck, err error) {
	health, err = healthCheck(ctx, name, args, parent)
	if err != nil {
		return nil, nil, fmt.Errorf("health check: %w", err)
	}
	children := pulumi.StringArray{health.ID()}
	path := strings.Replace(contract.Control.Path, "{"+contract.ControlRegionParam+"}", args.Region, 1)
	for _, reader := range args.Readers {
		deny, err := route53.NewHealthCheck(ctx, name+"-denied-by-"+reader, &route53.HealthCheckArgs{
			Type:              pulumi.String("HTTPS_STR_MATCH"),
			Fqdn:              pulumi.String(contract.RegionalHostname(reader, args.Hostname)),
			Port:              pulumi.Int(443),
			ResourcePath:      pulumi.String(path),
			SearchString:      pulumi.String(contract.ControlDeniedMarker),
			InvertHealthcheck: pulumi.Bool(true),
			RequestInterval:   pulumi.Int(HealthCheckIntervalSeconds),
			FailureThreshold:  pulumi.Int(HealthCheckFailureThreshold),
			Regions:           checkerRegions(),
			EnableSni:         pulumi.Bool(true),
			ReferenceName:     pulumi.String(truncate(args.Region+"-denied-by-"+reader, 64)),
			Tags: mergeTags(args.Tags, pulumi.StringMap{
				"Name": pulumi.String(appName(args.App) + " " + args.Region + " denied by " + reader + "'s control")}),
		}, parent)
		if err != nil {
			return nil, nil, fmt.Errorf("control check of %s: %w", reader, err)
		}
		children = append(children, deny.ID())
	}
	gate, err = route53.NewHealthCheck(ctx, name+"-gate", &route53.HealthCheckArgs{
		Type:                 pulumi.String("CALCULATED"),
		ChildHealthchecks:    children,
		ChildHealthThreshold: pulumi.Int(len(children)),
		ReferenceName:        pulumi.String(truncate(args.Region+"-gate", 64)),
		Tags:                 mergeTags(args.Tags, pulumi.StringMap{"Name": pulumi.String(appName(args.App) + " " + args.Region + " gate")}),
	}, parent)
	if err != nil {
		return nil, nil, fmt.Errorf("gate: %w", err)
	}
	return health, gate, nil
}

// healthCheck probes the region's own execute-api endpoint, not a shared
// name: it must say whether this region can serve, wherever DNS points.
func healthCheck(ctx *pulumi.Context, name string, args *FailoverArgs, parent pulumi.ResourceOption) (*route53.HealthCheck, error) {
	return route53.NewHealthCheck(ctx, name, &route53.HealthCheckArgs{
		Type:             pulumi.String("HTTPS"),
		Fqdn:             args.API.InvokeURL.ApplyT(hostOf).(pulumi.StringOutput),
		Port:             pulumi.Int(443),
		ResourcePath:     pulumi.Sprintf("/%s%s", args.API.StageName, contract.Health.Path),
		RequestInterval:  pulumi.Int(HealthCheckIntervalSeconds),
		FailureThreshold: pulumi.Int(HealthCheckFailureThreshold),
		Regions:          checkerRegions(),
		EnableSni:        pulumi.Bool(true),
		MeasureLatency:   pulumi.Bool(true),
		ReferenceName:    pulumi.String(truncate(args.Region+"-health", 64)),
		Tags:             mergeTags(args.Tags, pulumi.StringMap{"Name": pulumi.String(appName(args.App) + " " + args.Region + " " + contract.Health.Path)}),
	}, parent)
}

func checkerRegions() pulumi.StringArray {
	regions := pulumi.StringArray{}
	for _, r := range HealthCheckRegions {
		regions = append(regions, pulumi.String(r))
	}
	return regions
}
