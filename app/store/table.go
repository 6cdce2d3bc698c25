package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/access911/access911-infra/contract"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// CreateTableInput is the calls table as the table component defines it (key
// schema, GSI, stream), from the same constants in package calls, for local
// runs against DynamoDB Local. In AWS, Pulumi creates the table.
func CreateTableInput(name string) *dynamodb.CreateTableInput {
	var attrs []types.AttributeDefinition
	for _, a := range contract.KeyAttributes() {
		attrs = append(attrs, types.AttributeDefinition{AttributeName: aws.String(a.Name), AttributeType: types.ScalarAttributeType(a.Type)})
	}
	return &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: attrs,
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(contract.TableHashKey), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(contract.TableRangeKey), KeyType: types.KeyTypeRange},
		},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
			IndexName: aws.String(contract.EmergencyTypeIndex),
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String(contract.IndexHashKey), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String(contract.IndexRangeKey), KeyType: types.KeyTypeRange},
			},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		}},
		StreamSpecification: &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeNewAndOldImages},
	}
}

// TableAdmin is what EnsureTable needs.
type TableAdmin interface {
	CreateTable(context.Context, *dynamodb.CreateTableInput, ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
	DescribeTable(context.Context, *dynamodb.DescribeTableInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
}

// EnsureTable creates the calls table if it does not exist and waits until
// it is ACTIVE. For local runs only.
func EnsureTable(ctx context.Context, db TableAdmin, name string) error {
	_, err := db.CreateTable(ctx, CreateTableInput(name))
	var inUse *types.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return fmt.Errorf("create table %q: %w", name, err)
	}
	w := dynamodb.NewTableExistsWaiter(db)
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, time.Minute); err != nil {
		return fmt.Errorf("table %q not active: %w", name, err)
	}
	return nil
}
