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
