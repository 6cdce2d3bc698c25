// Package drill moves the callers between regions with the failover control
// (contract.ControlState): a data-plane write into the table replica of the
// region being switched to, which Route 53's gate checks read from every
// region's API. It calls no Route 53 API and sends nothing to the region
// being left but reads (its health, its replication latency). A preflight of
// the target, the RPO, a catch-up gate before a region is turned back on,
// verification through the readers and public DNS, a canary call for the
// RTO, a report and a rollback. It uses aws-sdk-go-v2 and never imports
// Pulumi.
package drill

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/access911/access911-infra/contract"
)

// Region is what the drill needs to know about one region's stack: the
// outputs of `pulumi stack output --json`, by the contract's output names.
type Region struct {
	Region             string
	APIURL             string
	TableName          string
	ArchiveBucketName  string
	APIHostname        string
	RegionalDomainName string
	// Optional: the archive's replica (the catch-up gate reads its pending
	// replication) and the failover order (any stack's).
	ArchiveReplicaBucketName string
	FailoverOrder            []string
}

// regionFromOutputs reads a Region from stack outputs, listing the outputs
// it needs and did not find.
func regionFromOutputs(outputs map[string]any) (Region, []string) {
	var missing []string
	get := func(name string) string {
		v, _ := outputs[name].(string)
		if v == "" {
			missing = append(missing, name)
		}
		return v
	}
	r := Region{
		Region:             get(contract.OutputRegion),
		APIURL:             get(contract.OutputAPIURL),
		TableName:          get(contract.OutputTableName),
		ArchiveBucketName:  get(contract.OutputArchiveBucketName),
		APIHostname:        get(contract.OutputAPIHostname),
		RegionalDomainName: get(contract.OutputRegionalDomainName),
	}
	r.ArchiveReplicaBucketName, _ = outputs[contract.OutputArchiveReplicaBucketName].(string)
	order, _ := outputs[contract.OutputFailoverOrder].([]any)
	for _, o := range order {
		if s, ok := o.(string); ok {
			r.FailoverOrder = append(r.FailoverOrder, s)
		}
	}
	if len(r.FailoverOrder) == 0 {
		missing = append(missing, contract.OutputFailoverOrder)
	}
	sort.Strings(missing)
	return r, missing
}

// Inventory is every region of the deployment, by region name.
type Inventory struct {
	Hostname string
	// Order is the shared hostname's failover order.
	Order   []string
	Regions map[string]Region
}

// LoadOutputs reads DIR/<stack>.json files, each the output of
// `pulumi stack output --json --stack <stack>`.
func LoadOutputs(dir string) (*Inventory, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no stack outputs in %s: run `pulumi stack output --json --stack S > %s/S.json` for each stack", dir, dir)
	}
	inv := &Inventory{Regions: map[string]Region{}}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var outputs map[string]any
		if err := json.Unmarshal(b, &outputs); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		r, missing := regionFromOutputs(outputs)
		if len(missing) > 0 {
			return nil, fmt.Errorf("%s lacks %s (is access911:apiHostname set in that stack?)", f, strings.Join(missing, ", "))
		}
		if inv.Hostname == "" {
			inv.Hostname, inv.Order = r.APIHostname, r.FailoverOrder
		}
		if r.APIHostname != inv.Hostname || strings.Join(r.FailoverOrder, ",") != strings.Join(inv.Order, ",") {
			return nil, fmt.Errorf("%s: hostname %s and failover order %v differ from %s and %v in the other stacks (deploy every stack)",
				f, r.APIHostname, r.FailoverOrder, inv.Hostname, inv.Order)
		}
		if _, dup := inv.Regions[r.Region]; dup {
			return nil, fmt.Errorf("%s: region %s appears twice", f, r.Region)
		}
		inv.Regions[r.Region] = r
	}
	return inv, nil
}

// Names lists the regions, sorted.
func (inv *Inventory) Names() []string {
	out := make([]string, 0, len(inv.Regions))
	for r := range inv.Regions {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}
