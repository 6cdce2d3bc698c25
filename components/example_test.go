package components_test

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/access911/access911-infra/capacity"
	"github.com/access911/access911-infra/components"
	"github.com/access911/access911-infra/contract"
	"github.com/access911/access911-infra/pulumitest"
)

// Another service's table: its own key schema and index, on-demand, with
// the data protections on as they are by default.
func ExampleNewCallsTable() {
	res, err := pulumitest.Run(func(ctx *pulumi.Context) error {
		_, err := components.NewCallsTable(ctx, "orders", &components.CallsTableArgs{
			Name:    "shop-orders",
			Billing: capacity.Billing{Mode: capacity.PayPerRequest},
			Keys: &components.TableKeys{
				Hash:    contract.KeyAttribute{Name: "order_id", Type: "S"},
				Range:   contract.KeyAttribute{Name: "placed_at", Type: "N"},
				Indexes: []components.TableIndex{{Name: "by-customer", Hash: contract.KeyAttribute{Name: "customer_id", Type: "S"}}},
			},
			TTLAttribute: "purge_at",
		})
		return err
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	t := res.ByType("aws:dynamodb/table:Table")[0]
	fmt.Println(t.Name, t.Inputs["name"], t.Inputs["hashKey"], t.Inputs["rangeKey"], t.Inputs["billingMode"])
	fmt.Println("index:", t.Inputs["globalSecondaryIndexes"].([]any)[0].(map[string]any)["name"])
	fmt.Println("ttl:", t.Inputs["ttl"].(map[string]any)["attributeName"])
	fmt.Println("protect:", t.Protect, "retain:", t.RetainOnDelete, "deletion protection:", t.Inputs["deletionProtectionEnabled"])
	// Output:
	// orders shop-orders order_id placed_at PAY_PER_REQUEST
	// index: by-customer
	// ttl: purge_at
	// protect: true retain: true deletion protection: true
}
