package deploy

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/pulumi/pulumi/sdk/v3/go/auto"

	"github.com/access911/access911-infra/contract"
	"github.com/access911/access911-infra/internal/drill"
)

// Readiness tells when a region just deployed serves: its table or replica
// ACTIVE, with no replica change still under way, and GET <apiUrl>/health
// answering 200 from that region. It asks only that region.
type Readiness struct {
	DynamoDB func(region string) *dynamodb.Client
	HTTP     *http.Client
	// Poll is the pause between attempts; Timeout the longest wait.
	Poll, Timeout time.Duration
}

// Wait polls until the region is ready or Timeout passes.
func (r Readiness) Wait(ctx context.Context, region string, outputs map[string]any) error {
	table, _ := outputs[contract.OutputTableName].(string)
	apiURL, _ := outputs[contract.OutputAPIURL].(string)
	if table == "" || apiURL == "" {
		return fmt.Errorf("the stack's outputs lack %s or %s", contract.OutputTableName, contract.OutputAPIURL)
	}
	ctx, cancel := context.WithTimeout(ctx, r.Timeout)
	defer cancel()
	for {
		err := r.tableActive(ctx, region, table)
		if err == nil {
			err = drill.APIHealthy(ctx, r.HTTP, apiURL, region)
		}
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("not ready within %s: %w", r.Timeout, err)
		case <-time.After(r.Poll):
		}
	}
}

// tableActive: the region's table (or replica) ACTIVE and, in that
// region's own view of the global table, no replica still CREATING or
// UPDATING (one blocks the next region's replica change). DescribeTable
// lists a global table's replicas in every replica region (DynamoDB API
// Reference, TableDescription.Replicas), so this asks only the region just
// deployed: it works while the home region is unreachable.
func (r Readiness) tableActive(ctx context.Context, region, table string) error {
	own, err := r.describe(ctx, region, table)
	if err != nil {
		return err
	}
	if own.TableStatus != types.TableStatusActive {
		return fmt.Errorf("table %s in %s is %s", table, region, own.TableStatus)
	}
	for _, rep := range own.Replicas {
		if rep.ReplicaStatus != types.ReplicaStatusActive {
			return fmt.Errorf("replica of %s in %s is %s", table, aws.ToString(rep.RegionName), rep.ReplicaStatus)
		}
	}
	return nil
}

func (r Readiness) describe(ctx context.Context, region, table string) (*types.TableDescription, error) {
	out, err := r.DynamoDB(region).DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		return nil, fmt.Errorf("describe table %s in %s: %w", table, region, err)
	}
	return out.Table, nil
}

// LocalStacks opens the project's own stacks (Pulumi.<region>.yaml in
// projectDir, the program built from projectDir) with the given CLI.
func LocalStacks(projectDir string, cmd auto.PulumiCommand, upsert bool) func(ctx context.Context, region string) (auto.Stack, error) {
	return func(ctx context.Context, region string) (auto.Stack, error) {
		if upsert {
			return auto.UpsertStackLocalSource(ctx, region, projectDir, auto.Pulumi(cmd))
		}
		return auto.SelectStackLocalSource(ctx, region, projectDir, auto.Pulumi(cmd))
	}
}

// DeployedOutputs are the outputs of each region's stack that exists and
// has been deployed (it has outputs); a region without a stack is skipped.
func DeployedOutputs(ctx context.Context, open func(context.Context, string) (auto.Stack, error), regions []string) (map[string]map[string]any, error) {
	deployed := map[string]map[string]any{}
	for _, region := range regions {
		stack, err := open(ctx, region)
		if auto.IsSelectStack404Error(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("stack %s: %w", region, err)
		}
		outs, err := stack.Outputs(ctx)
		if err != nil {
			return nil, fmt.Errorf("stack %s outputs: %w", region, err)
		}
		if len(outs) == 0 {
			continue
		}
		values := map[string]any{}
		for k, v := range outs {
			values[k] = v.Value
		}
		deployed[region] = values
	}
	return deployed, nil
}
