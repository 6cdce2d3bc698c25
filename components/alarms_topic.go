package components

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sns"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// The alarms' topic and its key: CloudWatch publishes only through a key
// whose policy lets it.

// alarmTopic is the encrypted topic the alarms notify, with a customer
// managed key of its own: CloudWatch can publish to an encrypted topic only
// through a key whose policy lets cloudwatch.amazonaws.com use it, which the
// AWS managed alias/aws/sns key never does (SNS developer guide,
// sns-key-management, "Configure AWS KMS permissions for AWS services").
func alarmTopic(ctx *pulumi.Context, name string, a AlarmsArgs, parent pulumi.ResourceOption) (*sns.Topic, error) {
	key, err := kms.NewKey(ctx, name, &kms.KeyArgs{
		Description:          pulumi.String(appName(a.App) + " alarm topic: CloudWatch alarms publish through it"),
		EnableKeyRotation:    pulumi.Bool(true),
		DeletionWindowInDays: pulumi.Int(KMSKeyDeletionWindowDays),
		Policy: a.AccountID.ToStringOutput().ApplyT(func(account string) string {
			return TopicKeyPolicy(account, AlarmPublisherService).JSON()
		}).(pulumi.StringOutput),
		Tags: a.Tags,
	}, parent, pulumi.Protect(true))
	if err != nil {
		return nil, fmt.Errorf("topic key: %w", err)
	}
	topic, err := sns.NewTopic(ctx, name, &sns.TopicArgs{
		DisplayName:    pulumi.String(appName(a.App) + " alarms"),
		KmsMasterKeyId: key.Arn,
		Tags:           a.Tags,
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("topic: %w", err)
	}
	return topic, nil
}

// AlarmPublisherService is the service principal that publishes alarm
// notifications to SNS.
const AlarmPublisherService = "cloudwatch.amazonaws.com"

// TopicPublisherKeyActions are what a publishing service needs of an SNS
// topic's key, as the SNS developer guide's key policy for AWS services
// grants them.
var TopicPublisherKeyActions = []string{"kms:Decrypt", "kms:GenerateDataKey*"}

// TopicKeyPolicy is the key policy of a topic's key: the account administers
// the key through IAM (AWS's default key policy statement, without which a
// key becomes unmanageable), and each publishing service may use it to
// publish. The service statement carries no condition: the SNS guide gives
// none, and a condition CloudWatch does not send would drop every
// notification again; the topic's own policy decides who may publish.
func TopicKeyPolicy(accountID string, publishers ...string) PolicyDocument {
	doc := PolicyDocument{Version: policyVersion, Statement: []PolicyStatement{{
		Sid: "AccountAdministersTheKey", Effect: "Allow",
		Principal: map[string]string{"AWS": "arn:aws:iam::" + accountID + ":root"},
		Action:    []string{"kms:*"}, Resource: []string{"*"},
	}}}
	for _, service := range publishers {
		doc.Statement = append(doc.Statement, PolicyStatement{
			Sid: "PublishFrom" + strings.ReplaceAll(strings.TrimSuffix(service, ".amazonaws.com"), ".", ""), Effect: "Allow",
			Principal: map[string]string{"Service": service},
			Action:    TopicPublisherKeyActions, Resource: []string{"*"},
		})
	}
	return doc
}
