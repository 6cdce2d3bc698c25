package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/access911/access911-infra/components"
)

// AlarmsArgs are components.AlarmsArgs as plain values (the access911
// intake and read-cache groups aside).
type AlarmsArgs struct {
	Region              string             `pulumi:"region"`
	APIName             pulumi.StringInput `pulumi:"apiName,optional"`
	StageName           pulumi.StringInput `pulumi:"stageName,optional"`
	FunctionName        pulumi.StringInput `pulumi:"functionName,optional"`
	ReservedConcurrency int                `pulumi:"reservedConcurrency,optional"`
	TableName           pulumi.StringInput `pulumi:"tableName,optional"`
	// TableIndexes are the indexes watched; none when unset (access911's
	// index is the Go default only).
	TableIndexes    []string           `pulumi:"tableIndexes,optional"`
	TopicArn        pulumi.StringInput `pulumi:"topicArn,optional"`
	AccountID       pulumi.StringInput `pulumi:"accountId,optional"`
	AlarmEmail      string             `pulumi:"alarmEmail,optional"`
	DashboardName   string             `pulumi:"dashboardName,optional"`
	MetricNamespace string             `pulumi:"metricNamespace,optional"`
	Service         string             `pulumi:"service,optional"`
	NoAppMetrics    bool               `pulumi:"noAppMetrics,optional"`
	App             string             `pulumi:"app,optional"`
	Tags            map[string]string  `pulumi:"tags,optional"`
}

// NewAlarms constructs components.Alarms from plain arguments.
func NewAlarms(ctx *pulumi.Context, name string, args AlarmsArgs, opts ...pulumi.ResourceOption) (*components.Alarms, error) {
	indexes := args.TableIndexes
	if indexes == nil {
		indexes = []string{}
	}
	return components.NewAlarms(ctx, name, &components.AlarmsArgs{Region: args.Region,
		APIName: args.APIName, StageName: args.StageName, FunctionName: args.FunctionName,
		ReservedConcurrency: args.ReservedConcurrency, TableName: args.TableName, TableIndexes: indexes,
		TopicArn: args.TopicArn, AccountID: args.AccountID, AlarmEmail: args.AlarmEmail, DashboardName: args.DashboardName,
		MetricNamespace: args.MetricNamespace, Service: args.Service, NoAppMetrics: args.NoAppMetrics, App: args.App,
		Tags: pulumi.ToStringMap(args.Tags)}, opts...)
}
