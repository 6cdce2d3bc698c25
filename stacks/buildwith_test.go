package stacks_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/access911/access911-infra/artifact"
	"github.com/access911/access911-infra/contract"
	"github.com/access911/access911-infra/internal/plan"
	"github.com/access911/access911-infra/stacks"
	"github.com/access911/access911-infra/stacks/stackconfig"
)

// Another app builds a region from this composition: its keys under its own
// namespace, its own Lambda artifact (nothing compiles ./cmd/lambda); an
// invalid key is named as that app wrote it.
func TestBuildWithAnotherNamespaceAndArtifact(t *testing.T) {
	proj, cfg := stackFile(t, "us-west-2")
	shop := map[string]string{}
	for k, v := range cfg {
		shop[strings.Replace(k, stackconfig.Namespace+":", "shop:", 1)] = v
	}
	code := &artifact.Artifact{Path: "dist/shop-lambda.zip", SHA256: "c2hvcC1hcnRpZmFjdC1zaGEyNTY="}
	build := func(ctx *pulumi.Context) (pulumi.Map, error) {
		return stacks.BuildWith(ctx, stacks.Options{ConfigNamespace: "shop", Code: code})
	}
	res, err := plan.Run(proj.Name(), "us-west-2", shop, build)
	require.NoError(t, err)
	access, err := plan.Run(proj.Name(), "us-west-2", cfg, stacks.Build)
	require.NoError(t, err)
	assert.Len(t, res.Custom(), len(access.Custom()), "the same region, read from shop: keys")
	fns := res.ByType("aws:lambda/function:Function")
	require.NotEmpty(t, fns)
	for _, fn := range fns {
		assert.Equal(t, code.SHA256, get(fn, "sourceCodeHash"), fn.Name)
	}
	assert.Equal(t, code.SHA256, res.Outputs["artifactSha256"])

	shop["shop:regions"] = "us-west-2"
	_, err = plan.Run(proj.Name(), "us-west-2", shop, build)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "shop:regions")
	assert.NotContains(t, err.Error(), "access911:regions")

	_, err = plan.Run(proj.Name(), "us-west-2", cfg, func(ctx *pulumi.Context) (pulumi.Map, error) {
		return stacks.BuildWith(ctx, stacks.Options{Code: &artifact.Artifact{Path: "x.zip"}})
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Code needs the zip's Path and its SHA256")
}

// shopConfig is a stack's committed configuration under the shop: namespace,
// the table name left to the app's default.
func shopConfig(t *testing.T, stack string) map[string]string {
	t.Helper()
	_, cfg := stackFile(t, stack)
	shop := map[string]string{}
	for k, v := range cfg {
		if k != stackconfig.KeyTableName {
			shop[strings.Replace(k, stackconfig.Namespace+":", "shop:", 1)] = v
		}
	}
	return shop
}

var shopCode = &artifact.Artifact{Path: "dist/shop-lambda.zip", SHA256: "c2hvcC1hcnRpZmFjdC1zaGEyNTY="}

// buildShop builds a region of the app "shop" with these features.
func buildShop(t *testing.T, stack string, f stacks.Features, edit func(map[string]string)) (*plan.Result, error) {
	t.Helper()
	cfg := shopConfig(t, stack)
	if edit != nil {
		edit(cfg)
	}
	return plan.Run("shop", stack, cfg, func(ctx *pulumi.Context) (pulumi.Map, error) {
		return stacks.BuildWith(ctx, stacks.Options{App: "shop", ConfigNamespace: "shop", Code: shopCode, Features: f})
	})
}

// cliMentions are the runbook lines that name the access911 CLI (its
// replay and cost commands work on any app's stack outputs).
var cliMentions = strings.NewReplacer("access911 replay", "", "access911 cost", "")

// Another app's region: every logical name, physical name, tag, description
// and metric dimension is the app's; the region is access911's, resource for
// resource.
func TestBuildWithAnotherAppNamesEverythingAfterIt(t *testing.T) {
	for _, stack := range []string{"us-east-1", "us-west-2"} {
		t.Run(stack, func(t *testing.T) {
			res, err := buildShop(t, stack, stacks.Features{}, nil)
			require.NoError(t, err)
			access := mustSynthesize(t, stack, nil)
			assert.Len(t, res.Custom(), len(access.Custom()), "the same region, resource for resource")
			for _, r := range res.Resources {
				if r.Parent == "" || strings.HasSuffix(r.Parent, "pulumi:pulumi:Stack::shop-"+stack) {
					assert.True(t, strings.HasPrefix(r.Name, "shop-"), "%s %s is not prefixed", r.Type, r.Name)
				}
				inputs, err := json.Marshal(r.Inputs)
				require.NoError(t, err)
				assert.NotContains(t, cliMentions.Replace(r.Name+" "+string(inputs)), "access911", "%s %s", r.Type, r.Name)
			}
			for _, p := range res.ByType(awsProviderType) {
				assert.Equal(t, "shop", get(p, "defaultTags.tags.project"), p.Name)
			}
			assert.Equal(t, "shop-calls", res.Outputs[contract.OutputTableName])
			assert.Equal(t, "shop-"+stack, res.Outputs[contract.OutputDashboardName])
			assert.Equal(t, "shop/api-key", res.Outputs[contract.OutputAPIKeySecretName])
			for _, fn := range res.ByType("aws:lambda/function:Function") {
				assert.Equal(t, "shop", get(fn, "environment.variables."+contract.EnvMetricsService), fn.Name)
			}
			for _, a := range res.ByType("aws:cloudwatch/metricAlarm:MetricAlarm") {
				if s := get(a, "dimensions."+contract.ServiceDimension); s != nil {
					assert.Equal(t, "shop", s, "%s watches the app's metrics", a.Name)
				}
			}
			for _, fn := range access.ByType("aws:lambda/function:Function") {
				assert.Nil(t, get(fn, "environment.variables."+contract.EnvMetricsService), "access911's functions as deployed: %s", fn.Name)
			}
		})
	}
	_, err := plan.Run("shop", "us-east-1", shopConfig(t, "us-east-1"), func(ctx *pulumi.Context) (pulumi.Map, error) {
		return stacks.BuildWith(ctx, stacks.Options{App: "Shop_App", ConfigNamespace: "shop", Code: shopCode})
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `App "Shop_App"`)
}

// names are the logical names of a result's resources.
func names(res *plan.Result) []string {
	var out []string
	for _, r := range res.Resources {
		out = append(out, r.Name)
	}
	return out
}

// Each part an app may leave out is left out whole: its resources, its
// outputs, its routes and its rights; a switch the rest depends on is
// refused, naming what needs it.
func TestBuildWithFeaturesLeavesPartsOut(t *testing.T) {
	all, err := buildShop(t, "us-east-1", stacks.Features{}, nil)
	require.NoError(t, err)
	var webhookPaths, inboxRules int // what the parts add when on
	for _, r := range all.ByType("aws:apigateway/resource:Resource") {
		if get(r, "pathPart") == "webhooks" {
			webhookPaths++
		}
	}
	for _, r := range all.ByType("aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2") {
		if strings.Contains(fmt.Sprint(r.Inputs), contract.InboxPrefix) {
			inboxRules++
		}
	}
	require.NotZero(t, webhookPaths)
	require.NotZero(t, inboxRules)
	require.NotEmpty(t, all.ByType("aws:apigatewayv2/api:Api"))
	require.Contains(t, names(all), "shop-drain")
	t.Run("no feed", func(t *testing.T) {
		res, err := buildShop(t, "us-east-1", stacks.Features{NoFeed: true}, nil)
		require.NoError(t, err)
		assert.Empty(t, res.ByType("aws:apigatewayv2/api:Api"))
		assert.NotContains(t, names(res), "shop-feed-secret")
		for _, k := range []string{contract.OutputFeedURL, contract.OutputFeedSecretArn, contract.OutputFeedSwarmFunction} {
			assert.NotContains(t, res.Outputs, k)
		}
		assert.Contains(t, res.Outputs, contract.OutputIntakeQueueURL)
		assert.Less(t, len(res.Custom()), len(all.Custom()))
		assert.Equal(t, 8, feedFindings(t, all), "checked with the feed: its model and its two loads")
		assert.Zero(t, feedFindings(t, res), "a region without the feed is not checked for one")
	})
	t.Run("no provider webhook", func(t *testing.T) {
		res, err := buildShop(t, "us-east-1", stacks.Features{NoProviderWebhook: true}, nil)
		require.NoError(t, err)
		assert.NotContains(t, names(res), "shop-webhook-secret")
		assert.NotContains(t, names(res), "shop-inbox")
		for _, r := range res.ByType("aws:apigateway/resource:Resource") {
			assert.NotEqual(t, "webhooks", get(r, "pathPart"), r.Name)
		}
		for _, k := range []string{contract.OutputWebhookURL, contract.OutputWebhookInboxURL, contract.OutputWebhookSecretArn} {
			assert.NotContains(t, res.Outputs, k)
		}
		intake := one(t, res, "aws:lambda/function:Function", "shop-intake")
		assert.Nil(t, get(intake, "environment.variables."+contract.EnvWebhookSecretARN))
		policy := one(t, res, rolePolicyType, "shop-intake")
		for _, sid := range []string{"WebhookSecret", "ProcessInbox", "FindCallAudio"} {
			assert.NotContains(t, get(policy, "policy"), `"Sid":"`+sid+`"`)
		}
		assert.Contains(t, get(policy, "policy"), `"Sid":"EnqueueCalls"`, "the intake queue stays")
		for _, r := range res.ByType("aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2") {
			assert.NotContains(t, fmt.Sprint(r.Inputs), contract.InboxPrefix, "no inbox, no inbox expiry: %s", r.Name)
		}
	})
	t.Run("no intake queue", func(t *testing.T) {
		res, err := buildShop(t, "us-east-1", stacks.Features{NoIntakeQueue: true, NoProviderWebhook: true}, nil)
		require.NoError(t, err)
		for _, n := range []string{"shop-intake-queue", "shop-drain"} {
			assert.NotContains(t, names(res), n)
		}
		assert.NotContains(t, res.Outputs, contract.OutputIntakeQueueURL)
		intake := one(t, res, "aws:lambda/function:Function", "shop-intake")
		assert.Nil(t, get(intake, "environment.variables."+contract.EnvIntakeQueueURL))
		assert.NotContains(t, get(one(t, res, rolePolicyType, "shop-intake"), "policy"), "sqs:")
		for _, a := range res.ByType("aws:cloudwatch/metricAlarm:MetricAlarm") {
			assert.NotContains(t, a.Name, "IntakeDeadLetters")
		}
	})
	refused := []struct {
		name     string
		features stacks.Features
		edit     func(map[string]string)
		want     string
	}{
		{"intake queue without the webhook's", stacks.Features{NoIntakeQueue: true}, nil, "Features.NoIntakeQueue needs Features.NoProviderWebhook"},
		{"buffered intake without a queue", stacks.Features{NoIntakeQueue: true, NoProviderWebhook: true},
			func(c map[string]string) { c["shop:intakeMode"] = contract.IntakeBuffered }, `shop:intakeMode "buffered" needs the intake queue`},
		{"read cache without the feed", stacks.Features{NoFeed: true},
			func(c map[string]string) { c["shop:readCache"] = stackconfig.ReadCacheValkey }, `shop:readCache "valkey" needs the read cache and the feed`},
		{"read cache switched off", stacks.Features{NoReadCache: true},
			func(c map[string]string) { c["shop:readCache"] = stackconfig.ReadCacheValkey }, `shop:readCache "valkey"`},
	}
	for _, c := range refused {
		t.Run(c.name, func(t *testing.T) {
			res, err := buildShop(t, "us-east-1", c.features, c.edit)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
			if res != nil {
				assert.Empty(t, res.Resources, "refused before anything is registered")
			}
		})
	}
}

// feedFindings counts the capacity check's findings about the feed.
func feedFindings(t *testing.T, res *plan.Result) int {
	t.Helper()
	findings, ok := res.Outputs[contract.OutputCapacityCheck].(map[string]any)["findings"].([]any)
	require.True(t, ok, "the capacity check's findings")
	n := 0
	for _, f := range findings {
		if strings.HasPrefix(f.(map[string]any)["check"].(string), "feed ") {
			n++
		}
	}
	return n
}

// A capacity check that fails names the keys in the app's namespace.
func TestBuildWithNamesCapacityKeysInTheAppsNamespace(t *testing.T) {
	_, err := buildShop(t, "us-east-1", stacks.Features{}, func(c map[string]string) {
		c["shop:lambdaReservedConcurrency"] = "1"
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "shop:capacityCheck: warn")
	assert.NotContains(t, err.Error(), "access911:")
}
