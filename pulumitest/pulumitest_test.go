package pulumitest_test

import (
	"testing"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/acm"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/dynamodb"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sns"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/access911/access911-infra/pulumitest"
)

// A run hands back what was registered, with its options; the caller's
// identity is AccountID; Invoke answers another data source; Config is read
// by the program.
func TestRunRecordsResourcesConfigAndInvokes(t *testing.T) {
	var account, stream, topic string
	res, err := pulumitest.Run(func(ctx *pulumi.Context) error {
		id, err := aws.GetCallerIdentity(ctx, &aws.GetCallerIdentityArgs{})
		if err != nil {
			return err
		}
		account = id.AccountId
		tbl, err := dynamodb.LookupTable(ctx, &dynamodb.LookupTableArgs{Name: "orders"})
		if err != nil {
			return err
		}
		stream = tbl.StreamArn
		topic = config.New(ctx, "shop").Require("topicName")
		_, err = sns.NewTopic(ctx, "t", &sns.TopicArgs{Name: pulumi.String(topic)}, pulumi.Protect(true))
		return err
	}, pulumitest.Project("shop"), pulumitest.Stack("prod"),
		pulumitest.Config(map[string]string{"shop:topicName": "oncall"}),
		pulumitest.Invoke("aws:dynamodb/getTable:getTable", func(args map[string]any) map[string]any {
			return map[string]any{"name": args["name"], "streamArn": "arn:aws:dynamodb:eu-west-2:1:table/" + args["name"].(string) + "/stream/x"}
		}))
	require.NoError(t, err)
	assert.Equal(t, pulumitest.AccountID, account)
	assert.Equal(t, "arn:aws:dynamodb:eu-west-2:1:table/orders/stream/x", stream)
	assert.Equal(t, "oncall", topic)
	topics := res.ByType("aws:sns/topic:Topic")
	require.Len(t, topics, 1)
	assert.Equal(t, "oncall", topics[0].Inputs["name"])
	assert.True(t, topics[0].Protect)
	assert.True(t, topics[0].Custom)
}

// Outputs adds what AWS computes to a type's state; a certificate's DNS
// validation records are there without it.
func TestOutputsAddComputedState(t *testing.T) {
	var fnArn, record string
	_, err := pulumitest.Run(func(ctx *pulumi.Context) error {
		topic, err := sns.NewTopic(ctx, "alerts", &sns.TopicArgs{})
		if err != nil {
			return err
		}
		topic.Arn.ApplyT(func(a string) string { fnArn = a; return a })
		cert, err := acm.NewCertificate(ctx, "c", &acm.CertificateArgs{DomainName: pulumi.String("calls.shop.example"),
			ValidationMethod: pulumi.String("DNS")})
		if err != nil {
			return err
		}
		cert.DomainValidationOptions.Index(pulumi.Int(0)).ResourceRecordName().ApplyT(func(n *string) string { record = *n; return *n })
		return nil
	}, pulumitest.Outputs("aws:sns/topic:Topic", func(name string, _ map[string]any) map[string]any {
		return map[string]any{"arn": "arn:aws:sns:eu-west-2:" + pulumitest.AccountID + ":" + name}
	}))
	require.NoError(t, err)
	assert.Equal(t, "arn:aws:sns:eu-west-2:123456789012:alerts", fnArn)
	assert.Equal(t, "_0123456789abcdef.calls.shop.example.", record)
}
