package components_test

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/access911/access911-infra/components"
	"github.com/access911/access911-infra/contract"
	"github.com/access911/access911-infra/pulumitest"
)

// Another service's alarms: on the team's existing topic (no topic or key
// created), its own metric namespace and service dimension, and every
// alarm's ARN out by name.
func TestAlarmsOnAnExistingTopicInAnotherNamespace(t *testing.T) {
	var arns map[string]string
	res, err := pulumitest.Run(func(ctx *pulumi.Context) error {
		a, err := components.NewAlarms(ctx, "shop", &components.AlarmsArgs{
			Region: "us-east-2", AccountID: pulumi.String("123456789012"),
			APIName: pulumi.String("shop-api"), StageName: pulumi.String("prod"),
			FunctionName: pulumi.String("shop-fn"), ReservedConcurrency: 10, TableName: pulumi.String("shop-orders"),
			TopicArn:        pulumi.String("arn:aws:sns:us-east-2:123456789012:oncall"),
			MetricNamespace: "Shop", Service: "shop",
		})
		if err != nil {
			return err
		}
		a.AlarmArns.ApplyT(func(m map[string]string) error { arns = m; return nil })
		return nil
	})
	require.NoError(t, err)
	assert.Empty(t, res.ByType("aws:sns/topic:Topic"), "the existing topic is used")
	assert.Empty(t, res.ByType("aws:kms/key:Key"))
	alarms := res.ByType("aws:cloudwatch/metricAlarm:MetricAlarm")
	require.NotEmpty(t, alarms)
	own := 0
	for _, al := range alarms {
		assert.Equal(t, []any{"arn:aws:sns:us-east-2:123456789012:oncall"}, al.Inputs["alarmActions"], al.Name)
		if ns, ok := al.Inputs["namespace"]; ok && ns != "AWS/ApiGateway" && ns != "AWS/Lambda" && ns != "AWS/DynamoDB" {
			assert.Equal(t, "Shop", ns, al.Name)
			assert.Equal(t, map[string]any{contract.ServiceDimension: "shop"}, al.Inputs["dimensions"], al.Name)
			own++
		}
	}
	assert.Equal(t, 3, own, "QueueDepth, WebhookSignatureRejected and ReplicationLag read the app's own metrics")
	byName := map[string]bool{}
	for _, al := range alarms {
		byName[al.Name] = true
	}
	require.Len(t, arns, len(alarms), "one ARN per alarm")
	for name := range arns {
		assert.True(t, byName["shop-"+name], name)
	}
	assert.Contains(t, arns, "HighErrorRate")
}

// Alarms for an existing function alone: no API, no table, no app metrics,
// no reserved concurrency needed elsewhere; the dashboard shows only it.
func TestAlarmsForAnExistingFunctionAlone(t *testing.T) {
	res, err := pulumitest.Run(func(ctx *pulumi.Context) error {
		_, err := components.NewAlarms(ctx, "billing", &components.AlarmsArgs{
			Region: "us-east-2", FunctionName: pulumi.String("billing-fn"), ReservedConcurrency: 20,
			TopicArn: pulumi.String("arn:aws:sns:us-east-2:123456789012:oncall"), NoAppMetrics: true,
		})
		return err
	})
	require.NoError(t, err)
	var names []string
	for _, al := range res.ByType("aws:cloudwatch/metricAlarm:MetricAlarm") {
		names = append(names, al.Name)
		assert.Equal(t, map[string]any{"FunctionName": "billing-fn"}, al.Inputs["dimensions"], al.Name)
	}
	assert.Equal(t, []string{"billing-LambdaConcurrencyNearLimit", "billing-LambdaErrors", "billing-LambdaThrottles"}, names)
	dash := res.ByType("aws:cloudwatch/dashboard:Dashboard")[0]
	body := dash.Inputs["dashboardBody"].(string)
	assert.Contains(t, body, `"Concurrent executions"`)
	for _, absent := range []string{"AWS/ApiGateway", "AWS/DynamoDB", contract.Namespace} {
		assert.NotContains(t, body, absent)
	}
}

func TestAlarmsRefuseWhatTheyCannotWatch(t *testing.T) {
	cases := []struct {
		name string
		args *components.AlarmsArgs
		want string
	}{
		{"nothing", &components.AlarmsArgs{Region: "us-east-2", AccountID: pulumi.String("1")}, "nothing to watch"},
		{"an API without its stage", &components.AlarmsArgs{Region: "us-east-2", AccountID: pulumi.String("1"), APIName: pulumi.String("a")},
			"the API's stage (StageName) is required with APIName"},
		{"a function without reserved concurrency", &components.AlarmsArgs{Region: "us-east-2", AccountID: pulumi.String("1"),
			FunctionName: pulumi.String("f")}, "reserved concurrency must be at least 1 with a function"},
		{"a topic of its own without the account", &components.AlarmsArgs{Region: "us-east-2", TableName: pulumi.String("t")},
			"the account is required for the topic's key policy"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := pulumitest.Run(func(ctx *pulumi.Context) error {
				_, err := components.NewAlarms(ctx, "x", tc.args)
				return err
			})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// A table's own indexes are watched, each by name (an empty list: none);
// without TableIndexes it is access911's index.
func TestAlarmsWatchTheTablesOwnIndexes(t *testing.T) {
	for _, c := range []struct {
		name    string
		indexes []string
		want    map[string]string // alarm name -> index
	}{
		{"access911's", nil, map[string]string{"t-DynamoDBIndexThrottles": contract.EmergencyTypeIndex}},
		{"two of its own", []string{"by-customer", "by-status"}, map[string]string{
			"t-DynamoDBIndexThrottles-by-customer": "by-customer", "t-DynamoDBIndexThrottles-by-status": "by-status"}},
		{"none", []string{}, map[string]string{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			res, err := pulumitest.Run(func(ctx *pulumi.Context) error {
				_, err := components.NewAlarms(ctx, "t", &components.AlarmsArgs{Region: "us-east-2",
					TableName: pulumi.String("shop-orders"), TableIndexes: c.indexes, NoAppMetrics: true,
					TopicArn: pulumi.String("arn:aws:sns:us-east-2:123456789012:oncall")})
				return err
			})
			require.NoError(t, err)
			got := map[string]string{}
			for _, al := range res.ByType("aws:cloudwatch/metricAlarm:MetricAlarm") {
				queries, _ := al.Inputs["metricQueries"].([]any) // the single-metric alarms have none
				for _, q := range queries {
					metric, _ := q.(map[string]any)["metric"].(map[string]any) // an expression has none
					dims, _ := metric["dimensions"].(map[string]any)
					if ix, ok := dims["GlobalSecondaryIndexName"]; ok {
						got[al.Name] = ix.(string)
						assert.Equal(t, "shop-orders", dims["TableName"])
					}
				}
			}
			assert.Equal(t, c.want, got)
			body := res.ByType("aws:cloudwatch/dashboard:Dashboard")[0].Inputs["dashboardBody"].(string)
			for _, ix := range c.want {
				assert.Contains(t, body, `"GlobalSecondaryIndexName","`+ix+`"`)
			}
			if len(c.want) == 0 {
				assert.NotContains(t, body, "GlobalSecondaryIndexName")
			}
		})
	}
}
