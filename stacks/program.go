package stacks

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/access911/access911-infra/artifact"
	"github.com/access911/access911-infra/stacks/stackconfig"
)

// What the program reads from the engine and its environment: the
// configuration, the secrets, the providers and the caller's identity.

// LoadConfig reads the stack's configuration from the Pulumi engine and
// validates it. It registers nothing, so bad config fails before any resource.
func LoadConfig(ctx *pulumi.Context) (stackconfig.Config, error) {
	return LoadConfigFrom(ctx, "", stackconfig.ParseOptions{})
}

// LoadConfigFrom reads the same keys under another namespace ("shop" reads
// shop:regions for access911:regions); an error names the keys as given.
// o extends what stackconfig knows (archive pairs, regions, defaults).
func LoadConfigFrom(ctx *pulumi.Context, namespace string, o stackconfig.ParseOptions) (stackconfig.Config, error) {
	if namespace == "" {
		namespace = stackconfig.Namespace
	}
	rename := func(key string) string {
		if rest, ok := strings.CutPrefix(key, stackconfig.Namespace+":"); ok {
			return namespace + ":" + rest
		}
		return key
	}
	values := map[string]string{}
	for _, k := range append([]string{stackconfig.KeyAWSRegion}, stackconfig.Keys()...) {
		if v, ok := ctx.GetConfig(rename(k)); ok {
			values[k] = v
		}
	}
	cfg, err := stackconfig.ParseWith(values, o)
	return cfg, renameKeys(err, namespace)
}

// secretValues are the optional secret config values: the provider's
// webhook secret and the feed's token secret.
type secretValues struct{ webhook, feed pulumi.StringInput }

func readSecretValues(ctx *pulumi.Context) (secretValues, error) {
	webhook, err := secretValue(ctx, stackconfig.KeyWebhookSecret, "the provider's webhook secret")
	if err != nil {
		return secretValues{}, err
	}
	feed, err := secretValue(ctx, stackconfig.KeyFeedSecret, "the dispatcher token secret")
	return secretValues{webhook: webhook, feed: feed}, err
}

// secretValue is an optional secret config value. Set in plain text it is
// refused before anything is registered: state would hold it readable.
func secretValue(ctx *pulumi.Context, key, what string) (pulumi.StringInput, error) {
	v, ok := ctx.GetConfig(key)
	if !ok {
		return nil, nil
	}
	if !ctx.IsConfigSecret(key) {
		return nil, fmt.Errorf("%s is set in plain text; remove it and run: pulumi config set --secret %s <%s>", key, key, what)
	}
	return pulumi.ToSecret(pulumi.String(v)).(pulumi.StringOutput), nil
}

// projectRelative makes a path under the project relative to it: Pulumi runs
// the program in the project directory, and state and plans then hold no
// machine-specific path.
func projectRelative(path string) string {
	if rel, err := filepath.Rel(moduleDir(), path); err == nil && !strings.HasPrefix(rel, "..") {
		return rel
	}
	return path
}

// moduleDir is the directory holding go.mod: the project directory under
// `pulumi up`, found by walking up from the working directory in tests and
// the offline plan.
func moduleDir() string {
	dir, err := artifact.FindUp(".", "go.mod")
	if err != nil {
		return "."
	}
	return dir
}

// newProvider is the explicit AWS provider for one region. Every AWS resource
// in the program names its provider, so no resource can land in whatever
// region the operator's shell happens to default to.
func newProvider(ctx *pulumi.Context, o Options, region string) (*aws.Provider, error) {
	p, err := aws.NewProvider(ctx, o.keptName("aws-"+region), &aws.ProviderArgs{
		Region: pulumi.String(region),
		DefaultTags: aws.ProviderDefaultTagsArgs{Tags: pulumi.StringMap{
			"project":    pulumi.String(o.App),
			"stack":      pulumi.String(ctx.Stack()),
			"managed-by": pulumi.String("pulumi"),
		}},
	})
	if err != nil {
		return nil, fmt.Errorf("aws provider %s: %w", region, err)
	}
	return p, nil
}

// identity is the account (and its partition) a provider deploys into.
type identity struct{ AccountID, Partition string }

// callerIdentity asks the region's provider who it deploys as.
func callerIdentity(ctx *pulumi.Context, provider *aws.Provider) (identity, error) {
	id, err := aws.GetCallerIdentity(ctx, &aws.GetCallerIdentityArgs{}, pulumi.Provider(provider))
	if err != nil {
		return identity{}, fmt.Errorf("caller identity: %w", err)
	}
	partition := "aws"
	if parts := strings.SplitN(id.Arn, ":", 3); len(parts) == 3 && parts[1] != "" {
		partition = parts[1]
	}
	return identity{AccountID: id.AccountId, Partition: partition}, nil
}

// globalTableArn is the ARN of the home region's table. The table has the
// same explicit name in every region, so the ARN follows from the account,
// which the provider reports; the home stack must be up first (README).
func globalTableArn(who identity, cfg stackconfig.Config) string {
	return fmt.Sprintf("arn:%s:dynamodb:%s:%s:table/%s", who.Partition, cfg.HomeRegion, who.AccountID, cfg.TableName)
}
