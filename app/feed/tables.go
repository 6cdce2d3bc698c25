package feed

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/access911/access911-infra/contract"
)

// TablesInput are the connections table (by connection id, with the
// partition index and a TTL on stale rows) and the partitions table, for
// local runs; in AWS the feed's component creates them.
func TablesInput(connections, partitions string) []*dynamodb.CreateTableInput {
	return []*dynamodb.CreateTableInput{
		{
			TableName:   aws.String(connections),
			BillingMode: types.BillingModePayPerRequest,
			AttributeDefinitions: []types.AttributeDefinition{
				{AttributeName: aws.String(contract.FeedConnectionKey), AttributeType: types.ScalarAttributeTypeS},
				{AttributeName: aws.String(contract.FeedPartitionKey), AttributeType: types.ScalarAttributeTypeN},
			},
			KeySchema: []types.KeySchemaElement{{AttributeName: aws.String(contract.FeedConnectionKey), KeyType: types.KeyTypeHash}},
			GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
				IndexName:  aws.String(contract.FeedPartitionIndex),
				KeySchema:  []types.KeySchemaElement{{AttributeName: aws.String(contract.FeedPartitionKey), KeyType: types.KeyTypeHash}},
				Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
			}},
		},
		{
			TableName:            aws.String(partitions),
			BillingMode:          types.BillingModePayPerRequest,
			AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String(contract.FeedPartitionKey), AttributeType: types.ScalarAttributeTypeN}},
			KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String(contract.FeedPartitionKey), KeyType: types.KeyTypeHash}},
		},
	}
}

// TableAdmin is what EnsureTables needs.
type TableAdmin interface {
	CreateTable(context.Context, *dynamodb.CreateTableInput, ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
	DescribeTable(context.Context, *dynamodb.DescribeTableInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
}

// EnsureTables creates both tables if missing and waits until they are
// ACTIVE. For local runs only.
func EnsureTables(ctx context.Context, db TableAdmin, connections, partitions string) error {
	for _, in := range TablesInput(connections, partitions) {
		if err := EnsureTable(ctx, db, in); err != nil {
			return err
		}
	}
	return nil
}

// EnsureTable creates one table if missing and waits until it is ACTIVE.
// For local runs only.
func EnsureTable(ctx context.Context, db TableAdmin, in *dynamodb.CreateTableInput) error {
	_, err := db.CreateTable(ctx, in)
	var inUse *types.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return fmt.Errorf("create table %q: %w", aws.ToString(in.TableName), err)
	}
	w := dynamodb.NewTableExistsWaiter(db)
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: in.TableName}, time.Minute); err != nil {
		return fmt.Errorf("table %q not active: %w", aws.ToString(in.TableName), err)
	}
	return nil
}
