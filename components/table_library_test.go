package components_test

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/access911/access911-infra/capacity"
	"github.com/access911/access911-infra/components"
	"github.com/access911/access911-infra/contract"
	"github.com/access911/access911-infra/pulumitest"
)

func table(t *testing.T, args *components.CallsTableArgs) (*pulumitest.Result, error) {
	t.Helper()
	return pulumitest.Run(func(ctx *pulumi.Context) error {
		_, err := components.NewCallsTable(ctx, "t", args)
		return err
	})
}

// Without Keys the table is access911's; AllowDestroy turns the data
// protections off, and only then.
func TestTableDefaultsAndTheProtectionsOptOut(t *testing.T) {
	for _, allow := range []bool{false, true} {
		res, err := table(t, &components.CallsTableArgs{Name: "calls", Billing: capacity.Billing{Mode: capacity.PayPerRequest}, AllowDestroy: allow})
		require.NoError(t, err)
		tbl := res.ByType("aws:dynamodb/table:Table")[0]
		assert.Equal(t, contract.TableHashKey, tbl.Inputs["hashKey"])
		assert.Equal(t, contract.TableRangeKey, tbl.Inputs["rangeKey"])
		assert.Equal(t, contract.EmergencyTypeIndex, tbl.Inputs["globalSecondaryIndexes"].([]any)[0].(map[string]any)["name"])
		assert.Equal(t, !allow, tbl.Protect, "protect")
		assert.Equal(t, !allow, tbl.RetainOnDelete, "retain on delete")
		assert.Equal(t, !allow, tbl.Inputs["deletionProtectionEnabled"], "deletion protection")
		assert.Equal(t, true, tbl.Inputs["pointInTimeRecovery"].(map[string]any)["enabled"], "PITR stays on")
		assert.Equal(t, true, tbl.Inputs["serverSideEncryption"].(map[string]any)["enabled"], "encryption stays on")
	}
}

// A hash-only table with two indexes, provisioned: every index gets the
// capacity and autoscaling, named apart.
func TestTableWithItsOwnSchema(t *testing.T) {
	res, err := table(t, &components.CallsTableArgs{Name: "kv",
		Billing: capacity.Billing{Mode: capacity.Provisioned, ReadCapacity: 5, WriteCapacity: 5, Autoscaling: &capacity.Autoscaling{Min: 5, Max: 50, TargetPercent: 70}},
		Keys: &components.TableKeys{Hash: contract.KeyAttribute{Name: "k", Type: "S"}, Indexes: []components.TableIndex{
			{Name: "by-a", Hash: contract.KeyAttribute{Name: "a", Type: "S"}},
			{Name: "by-b", Hash: contract.KeyAttribute{Name: "b", Type: "N"}, Range: contract.KeyAttribute{Name: "k", Type: "S"}},
		}}})
	require.NoError(t, err)
	tbl := res.ByType("aws:dynamodb/table:Table")[0]
	assert.Equal(t, "k", tbl.Inputs["hashKey"])
	assert.Nil(t, tbl.Inputs["rangeKey"])
	assert.ElementsMatch(t, []any{map[string]any{"name": "k", "type": "S"}, map[string]any{"name": "a", "type": "S"}, map[string]any{"name": "b", "type": "N"}},
		tbl.Inputs["attributes"], "each key attribute once")
	gsis := tbl.Inputs["globalSecondaryIndexes"].([]any)
	require.Len(t, gsis, 2)
	assert.Equal(t, 5.0, gsis[1].(map[string]any)["readCapacity"])
	var targets []string
	for _, r := range res.ByType("aws:appautoscaling/target:Target") {
		targets = append(targets, r.Name)
	}
	assert.Equal(t, []string{"t-index-by-b-read", "t-index-by-b-write", "t-index-read", "t-index-write", "t-table-read", "t-table-write"}, targets)
}

// What DynamoDB would refuse is refused before anything is registered,
// naming what is wrong.
func TestTableRefusesWhatDynamoDBWould(t *testing.T) {
	onDemand := capacity.Billing{Mode: capacity.PayPerRequest}
	cases := []struct {
		name string
		args *components.CallsTableArgs
		want string
	}{
		{"provisioned with no read units", &components.CallsTableArgs{Name: "x", Billing: capacity.Billing{Mode: capacity.Provisioned, WriteCapacity: 5}},
			"provisioned billing with 0 read and 5 write units: accepted: at least 1 of each"},
		{"no hash key", &components.CallsTableArgs{Name: "x", Billing: onDemand, Keys: &components.TableKeys{}}, "table key: a hash key is required"},
		{"a key type DynamoDB has not", &components.CallsTableArgs{Name: "x", Billing: onDemand,
			Keys: &components.TableKeys{Hash: contract.KeyAttribute{Name: "k", Type: "BOOL"}}}, `attribute "k" has type "BOOL": accepted: S, N or B`},
		{"one attribute, two types", &components.CallsTableArgs{Name: "x", Billing: onDemand, Keys: &components.TableKeys{
			Hash: contract.KeyAttribute{Name: "k", Type: "S"}, Indexes: []components.TableIndex{{Name: "i", Hash: contract.KeyAttribute{Name: "k", Type: "N"}}}}},
			`index i: attribute "k" is N here and S elsewhere`},
		{"an index without a name", &components.CallsTableArgs{Name: "x", Billing: onDemand, Keys: &components.TableKeys{
			Hash: contract.KeyAttribute{Name: "k", Type: "S"}, Indexes: []components.TableIndex{{Hash: contract.KeyAttribute{Name: "a", Type: "S"}}}}},
			"an index needs a name"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := table(t, tc.args)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Empty(t, res.ByType("aws:dynamodb/table:Table"))
		})
	}
}
