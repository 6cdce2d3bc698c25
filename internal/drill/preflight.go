package drill

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/access911/access911-infra/contract"
)

// preflight checks the target can serve, asking only the target: its API's
// health, a keyed route with our clients' key, its table replica ACTIVE and
// its archive bucket replicating. It changes nothing.
func (r *runner) preflight(ctx context.Context, to Region) (string, error) {
	var problems []string
	if err := APIHealthy(ctx, r.o.Clients.HTTP, to.APIURL, to.Region); err != nil {
		problems = append(problems, err.Error())
	}
	if err := r.keyedRouteServes(ctx, to); err != nil {
		problems = append(problems, err.Error())
	}
	t, err := r.o.Clients.DynamoDB(to.Region).DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(to.TableName)})
	switch {
	case err != nil:
		problems = append(problems, fmt.Sprintf("table %s in %s: %v", to.TableName, to.Region, err))
	case t.Table.TableStatus != ddbtypes.TableStatusActive:
		problems = append(problems, fmt.Sprintf("table %s in %s is %s", to.TableName, to.Region, t.Table.TableStatus))
	}
	s3c := r.o.Clients.S3(to.Region)
	if _, err := s3c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(to.ArchiveBucketName)}); err != nil {
		problems = append(problems, fmt.Sprintf("archive bucket %s: %v", to.ArchiveBucketName, err))
	} else if rep, err := s3c.GetBucketReplication(ctx, &s3.GetBucketReplicationInput{Bucket: aws.String(to.ArchiveBucketName)}); err != nil || rep.ReplicationConfiguration == nil || len(rep.ReplicationConfiguration.Rules) == 0 {
		problems = append(problems, fmt.Sprintf("archive bucket %s has no replication configured", to.ArchiveBucketName))
	}
	if len(problems) > 0 {
		return "", errors.New(strings.Join(problems, "; "))
	}
	return fmt.Sprintf("API healthy and takes our clients' key, table ACTIVE, bucket %s replicating", to.ArchiveBucketName), nil
}

// APIHealthy asks a region's API for its health route (apiURL is the stack's
// apiUrl output, the stage included, or https://<a hostname>): it must
// answer 200 {"status":"ok"} and name region as the one serving it.
func APIHealthy(ctx context.Context, client *http.Client, apiURL, region string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(apiURL, "/")+contract.Health.Path, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("API %s/health: %v", apiURL, err)
	}
	defer resp.Body.Close()
	var body struct {
		Status string `json:"status"`
		Region string `json:"region"`
	}
	_ = json.NewDecoder(io.LimitReader(resp.Body, 4096)).Decode(&body)
	if resp.StatusCode != http.StatusOK || body.Status != "ok" {
		return fmt.Errorf("API %s/health answered %d %q", apiURL, resp.StatusCode, body.Status)
	}
	if body.Region != region {
		return fmt.Errorf("API %s/health is served by %q, not %s", apiURL, body.Region, region)
	}
	return nil
}

// apiKey is our clients' key: the option, or the region's replica of the
// shared secret.
func (r *runner) apiKey(ctx context.Context, reg Region) (string, error) {
	if r.o.APIKey != "" {
		return r.o.APIKey, nil
	}
	out, err := r.o.Clients.SecretsManager(reg.Region).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{
		SecretId: aws.String(contract.APIKeySecretName)})
	if err != nil {
		return "", fmt.Errorf("our clients' API key: secret %s in %s: %v (or give the key with --api-key)", contract.APIKeySecretName, reg.Region, err)
	}
	return aws.ToString(out.SecretString), nil
}

// keyedRouteServes asks the target region for a page of calls with the key
// our own clients hold: after the switch they send it there, and a region
// whose API key has another value answers every keyed route 403.
func (r *runner) keyedRouteServes(ctx context.Context, reg Region) error {
	key, err := r.apiKey(ctx, reg)
	if err != nil {
		return err
	}
	url := strings.TrimSuffix(reg.APIURL, "/") + contract.QueryCalls.Path + "?emergency_type=other&limit=1"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set(contract.APIKeyHeader, key)
	resp, err := r.o.Clients.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("keyed route GET %s: %v", contract.QueryCalls.Path, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusForbidden:
		return fmt.Errorf("keyed route GET %s in %s answered 403 to our clients' key: the region's API key has another value", contract.QueryCalls.Path, reg.Region)
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("keyed route GET %s in %s answered %d", contract.QueryCalls.Path, reg.Region, resp.StatusCode)
	}
	return nil
}

// verifyServes waits until the target answers its health route and, through
// public DNS (ThroughName), the shared hostname resolves to the target's
// regional domain and its /health is served by the target. No Route 53 API.
func (r *runner) verifyServes(ctx context.Context, to Region) (string, error) {
	host := strings.TrimSuffix(r.o.Inventory.Hostname, ".")
	deadline := time.Now().Add(r.o.VerifyWait)
	for {
		err := APIHealthy(ctx, r.o.Clients.HTTP, to.APIURL, to.Region)
		if err == nil && !r.o.ThroughName {
			return fmt.Sprintf("%s/health is served by %s (DNS not checked: no public DNS here)", to.APIURL, to.Region), nil
		}
		if err == nil {
			var cname string
			if cname, err = r.o.Resolver.LookupCNAME(ctx, host); err == nil && strings.TrimSuffix(cname, ".") != strings.TrimSuffix(to.RegionalDomainName, ".") {
				err = fmt.Errorf("%s resolves to %s, not %s's %s", host, cname, to.Region, to.RegionalDomainName)
			}
			if err == nil {
				if err = APIHealthy(ctx, r.o.Clients.HTTP, "https://"+host, to.Region); err == nil {
					return fmt.Sprintf("%s -> %s, and https://%s/health is served by %s", host, cname, host, to.Region), nil
				}
			}
		}
		if time.Now().After(deadline) {
			return "", err
		}
		if err := sleep(ctx, 500*time.Millisecond); err != nil {
			return "", err
		}
	}
}
