package handler

import (
	"context"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/access911/access911-infra/app/elevenlabs"
)

// SecretValueGetter is the part of the Secrets Manager client the function
// uses.
type SecretValueGetter interface {
	GetSecretValue(context.Context, *secretsmanager.GetSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// SecretsManagerSource reads the webhook secret from Secrets Manager once
// per cold start and keeps it; a failed read is retried on the next
// delivery, not cached. A rotation reaches running functions as they are
// recycled, which is why the value may hold the previous secret as well.
type SecretsManagerSource struct {
	Client SecretValueGetter
	ARN    string

	mu      sync.Mutex
	secrets []string
}

// WebhookSecrets returns the cached secrets, reading them the first time.
func (s *SecretsManagerSource) WebhookSecrets(ctx context.Context) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.secrets != nil {
		return s.secrets, nil
	}
	out, err := s.Client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(s.ARN)})
	if err != nil {
		return nil, fmt.Errorf("read webhook secret %s: %w", s.ARN, err)
	}
	secrets, err := elevenlabs.ParseSecrets(aws.ToString(out.SecretString))
	if err != nil {
		return nil, fmt.Errorf("webhook secret %s: %w", s.ARN, err)
	}
	s.secrets = secrets
	return secrets, nil
}
