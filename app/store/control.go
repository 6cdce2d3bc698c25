package store

import (
	"context"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/access911/access911-infra/contract"
)

// controlKey is region's control item's key in the calls table.
func controlKey(region string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		contract.TableHashKey:  &types.AttributeValueMemberS{Value: contract.ControlID(region)},
		contract.TableRangeKey: &types.AttributeValueMemberN{Value: strconv.Itoa(contract.ControlRangeKey)},
	}
}

// Control reads region's failover control from this replica, strongly
// consistent; a region no item names is allowed.
func (s *Store) Control(ctx context.Context, region string) (contract.ControlState, error) {
	out, err := s.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.Table, Key: controlKey(region), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return contract.ControlState{}, fmt.Errorf("control of %s in table %q: %w", region, s.Table, err)
	}
	st := contract.ControlState{Region: region, Allowed: true}
	if len(out.Item) == 0 {
		return st, nil
	}
	if v, ok := out.Item[contract.ControlAllowedAttr].(*types.AttributeValueMemberBOOL); ok {
		st.Allowed = v.Value
	}
	if v, ok := out.Item[contract.ControlChangedAtAttr].(*types.AttributeValueMemberN); ok {
		st.ChangedAt, _ = strconv.ParseInt(v.Value, 10, 64)
	}
	if v, ok := out.Item[contract.ControlByAttr].(*types.AttributeValueMemberS); ok {
		st.By = v.Value
	}
	if v, ok := out.Item[contract.ControlReasonAttr].(*types.AttributeValueMemberS); ok {
		st.Reason = v.Value
	}
	return st, nil
}

// SetControl writes a region's failover control into this replica; the
// global table carries it to the others (last writer wins).
func (s *Store) SetControl(ctx context.Context, st contract.ControlState) error {
	item := controlKey(st.Region)
	item[contract.ControlAllowedAttr] = &types.AttributeValueMemberBOOL{Value: st.Allowed}
	item[contract.ControlChangedAtAttr] = &types.AttributeValueMemberN{Value: strconv.FormatInt(st.ChangedAt, 10)}
	item[contract.ControlByAttr] = &types.AttributeValueMemberS{Value: st.By}
	if st.Reason != "" {
		item[contract.ControlReasonAttr] = &types.AttributeValueMemberS{Value: st.Reason}
	}
	if _, err := s.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.Table, Item: item}); err != nil {
		return fmt.Errorf("set the control of %s in table %q: %w", st.Region, s.Table, err)
	}
	return nil
}
