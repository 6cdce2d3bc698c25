package components

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/secretsmanager"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// WebhookSecretType is the Pulumi type token of the WebhookSecret component.
const WebhookSecretType = "access911:components:WebhookSecret"

// SecretRecoveryDays is how long a deleted secret can be restored: the
// longest Secrets Manager allows, the secret's deletion protection.
const SecretRecoveryDays = 30

// WebhookSecretArgs configures the provider's webhook secret.
type WebhookSecretArgs struct {
	// Value, if set, is stored as the secret's value; it must be a Pulumi
	// secret (pulumi config set --secret), so state holds it encrypted.
	// Without it the secret is created empty and its value is put outside
	// Pulumi (aws secretsmanager put-secret-value), never into state.
	Value pulumi.StringInput `pulumi:"value"`
	// KMSKeyArn encrypts the secret; empty uses Secrets Manager's own key.
	KMSKeyArn pulumi.StringInput `pulumi:"kmsKeyArn"`
	// Description says what the secret signs; default the provider's
	// webhook secret.
	Description string           `pulumi:"description"`
	Tags        pulumi.StringMap `pulumi:"tags"`
}

// WebhookSecret is the Secrets Manager secret the function verifies the
// provider's signatures with.
type WebhookSecret struct {
	pulumi.ResourceState

	SecretArn pulumi.StringOutput `pulumi:"secretArn"`
}

// NewWebhookSecret registers the secret and, from a Pulumi secret, its value.
func NewWebhookSecret(ctx *pulumi.Context, name string, args *WebhookSecretArgs, opts ...pulumi.ResourceOption) (*WebhookSecret, error) {
	if args == nil {
		args = &WebhookSecretArgs{}
	}
	c := &WebhookSecret{}
	if err := ctx.RegisterComponentResource(WebhookSecretType, name, c, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(c)
	description := args.Description
	if description == "" {
		description = "The telephony provider's webhook signing secret"
	}
	secret, err := secretsmanager.NewSecret(ctx, name, &secretsmanager.SecretArgs{
		NamePrefix:           pulumi.String(name + "-"),
		Description:          pulumi.String(description + `: the secret, or during a rotation {"current":"...","previous":"..."}`),
		KmsKeyId:             args.KMSKeyArn,
		RecoveryWindowInDays: pulumi.Int(SecretRecoveryDays),
		Tags:                 args.Tags,
	}, parent, pulumi.Protect(true))
	if err != nil {
		return nil, fmt.Errorf("webhook secret %q: %w", name, err)
	}
	if args.Value != nil {
		if err := secretValue(ctx, name, secret, args.Value, parent); err != nil {
			return nil, fmt.Errorf("webhook secret %q: value: %w", name, err)
		}
	}
	c.SecretArn = secret.Arn
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{"secretArn": c.SecretArn}); err != nil {
		return nil, err
	}
	return c, nil
}

// secretValue stores a secret's value, kept a Pulumi secret in state.
func secretValue(ctx *pulumi.Context, name string, secret *secretsmanager.Secret, value pulumi.StringInput,
	parent pulumi.ResourceOption) error {
	_, err := secretsmanager.NewSecretVersion(ctx, name, &secretsmanager.SecretVersionArgs{
		SecretId:     secret.ID(),
		SecretString: pulumi.ToSecret(value).(pulumi.StringInput),
	}, parent)
	return err
}

// ClientKeySecretType is the Pulumi type token of the ClientKeySecret component.
const ClientKeySecretType = "access911:components:ClientKeySecret"

// ClientKeySecretArgs configures the secret that carries the API key value
// from the region that generates it to every other serving region.
type ClientKeySecretArgs struct {
	// Name is the secret's name, the same in every region (its replicas
	// keep it), so each region's stack finds its replica by name.
	Name string `pulumi:"name"`
	// Value is the API key's value (a Pulumi secret output).
	Value pulumi.StringInput `pulumi:"value"`
	// ReplicaRegions are the other serving regions: Secrets Manager keeps a
	// read-only replica of the secret in each, encrypted with that region's
	// Secrets Manager key.
	ReplicaRegions []string         `pulumi:"replicaRegions"`
	Tags           pulumi.StringMap `pulumi:"tags"`
}

// ClientKeySecret is the secret holding the one API key value every region
// accepts.
type ClientKeySecret struct {
	pulumi.ResourceState

	SecretArn pulumi.StringOutput `pulumi:"secretArn"`
}

// NewClientKeySecret registers the secret (fixed name, protected, a replica
// per other region) and its value.
func NewClientKeySecret(ctx *pulumi.Context, name string, args *ClientKeySecretArgs, opts ...pulumi.ResourceOption) (*ClientKeySecret, error) {
	if args == nil || args.Name == "" || args.Value == nil {
		return nil, fmt.Errorf("client key secret %q: a name and a value are required", name)
	}
	c := &ClientKeySecret{}
	if err := ctx.RegisterComponentResource(ClientKeySecretType, name, c, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(c)
	replicas := secretsmanager.SecretReplicaArray{}
	for _, region := range args.ReplicaRegions {
		replicas = append(replicas, secretsmanager.SecretReplicaArgs{Region: pulumi.String(region)})
	}
	secret, err := secretsmanager.NewSecret(ctx, name, &secretsmanager.SecretArgs{
		Name:                 pulumi.String(args.Name),
		Description:          pulumi.String("The API key value our own clients send (x-api-key); every region's API key has this value"),
		RecoveryWindowInDays: pulumi.Int(SecretRecoveryDays),
		Replicas:             replicas,
		Tags:                 args.Tags,
	}, parent, pulumi.Protect(true))
	if err != nil {
		return nil, fmt.Errorf("client key secret %q: %w", name, err)
	}
	if err := secretValue(ctx, name, secret, args.Value, parent); err != nil {
		return nil, fmt.Errorf("client key secret %q: value: %w", name, err)
	}
	c.SecretArn = secret.Arn
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{"secretArn": c.SecretArn}); err != nil {
		return nil, err
	}
	return c, nil
}
