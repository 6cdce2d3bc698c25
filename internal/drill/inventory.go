// Package drill switches the active region of a deployment: a data-plane
// first operation (Route53 record weights) with a preflight of the target, an
// RPO probe, verification, a config update of Pulumi.yaml, a report and
// a rollback. It uses aws-sdk-go-v2 and never imports Pulumi.
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
	HealthCheckID      string
	APIHostname        string
	HostedZoneID       string
	RegionalDomainName string
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
		HealthCheckID:      get(contract.OutputHealthCheckID),
		APIHostname:        get(contract.OutputAPIHostname),
		HostedZoneID:       get(contract.OutputHostedZoneID),
		RegionalDomainName: get(contract.OutputRegionalDomainName),
	}
	sort.Strings(missing)
	return r, missing
}

// Inventory is every region of the deployment, by region name.
type Inventory struct {
	Hostname string
	ZoneID   string
	Regions  map[string]Region
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
			inv.Hostname, inv.ZoneID = r.APIHostname, r.HostedZoneID
		}
		if r.APIHostname != inv.Hostname || r.HostedZoneID != inv.ZoneID {
			return nil, fmt.Errorf("%s: hostname/zone %s/%s differ from %s/%s in the other stacks", f, r.APIHostname, r.HostedZoneID, inv.Hostname, inv.ZoneID)
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
