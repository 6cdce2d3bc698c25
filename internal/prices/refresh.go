package prices

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/pricing"
	"github.com/aws/aws-sdk-go-v2/service/pricing/types"

	"github.com/access911/access911-infra/capacity"
)

// API is the Price List Query API call the refresh makes.
type API interface {
	GetProducts(context.Context, *pricing.GetProductsInput, ...func(*pricing.Options)) (*pricing.GetProductsOutput, error)
}

// Endpoints: the Price List Query API answers in these regions only.
var Endpoints = []string{"us-east-1", "ap-south-1"}

// Product is one PriceList document of a GetProducts answer (format
// aws_v1): a JSON string per product.
type Product struct {
	Product struct {
		SKU           string            `json:"sku"`
		ProductFamily string            `json:"productFamily"`
		Attributes    map[string]string `json:"attributes"`
	} `json:"product"`
	ServiceCode string `json:"serviceCode"`
	Terms       struct {
		OnDemand map[string]struct {
			OfferTermCode   string `json:"offerTermCode"`
			EffectiveDate   string `json:"effectiveDate"`
			PriceDimensions map[string]struct {
				Unit         string            `json:"unit"`
				BeginRange   string            `json:"beginRange"`
				Description  string            `json:"description"`
				PricePerUnit map[string]string `json:"pricePerUnit"`
			} `json:"priceDimensions"`
		} `json:"OnDemand"`
	} `json:"terms"`
	Version         string `json:"version"`
	PublicationDate string `json:"publicationDate"`
}

// ParseProduct reads one PriceList entry.
func ParseProduct(doc string) (Product, error) {
	var p Product
	if err := json.Unmarshal([]byte(doc), &p); err != nil {
		return p, fmt.Errorf("a PriceList entry that is not a product document: %w", err)
	}
	if p.Product.SKU == "" {
		return p, errors.New("a PriceList entry without product.sku")
	}
	return p, nil
}

// OnDemand is the product's On-Demand price per unit in USD for the tier
// that begins at beginRange ("0" when empty), and the unit.
func (p Product) OnDemand(beginRange string) (float64, string, error) {
	if beginRange == "" {
		beginRange = "0"
	}
	term, ok := p.Terms.OnDemand[p.Product.SKU+"."+OnDemandTerm]
	if !ok {
		return 0, "", fmt.Errorf("SKU %s has no OnDemand term %s", p.Product.SKU, OnDemandTerm)
	}
	for _, d := range term.PriceDimensions {
		if d.BeginRange != beginRange {
			continue
		}
		usd, err := strconv.ParseFloat(d.PricePerUnit["USD"], 64)
		if err != nil {
			return 0, "", fmt.Errorf("SKU %s: price %q: %w", p.Product.SKU, d.PricePerUnit["USD"], err)
		}
		return usd, d.Unit, nil
	}
	return 0, "", fmt.Errorf("SKU %s has no tier beginning at %s", p.Product.SKU, beginRange)
}

// Found is one item's price as the Price List gives it.
type Found struct {
	Item, Region string
	Price        capacity.Price
}

// filters are the item's GetProducts filters in region.
func (it Item) filters(region string) []types.Filter {
	f := []types.Filter{{Type: types.FilterTypeTermMatch, Field: aws.String("regionCode"), Value: aws.String(region)}}
	for _, k := range sortedKeys(it.Attributes) {
		f = append(f, types.Filter{Type: types.FilterTypeTermMatch, Field: aws.String(k), Value: aws.String(it.Attributes[k])})
	}
	return append(f, types.Filter{Type: types.FilterTypeContains, Field: aws.String("usagetype"), Value: aws.String(it.UsageType)})
}

func describe(service string, filters []types.Filter) string {
	parts := []string{"serviceCode=" + service}
	for _, f := range filters {
		op := "="
		if f.Type == types.FilterTypeContains {
			op = "~"
		}
		parts = append(parts, aws.ToString(f.Field)+op+aws.ToString(f.Value))
	}
	return strings.Join(parts, " ")
}

// Lookup finds one item's price in one region: every page of the filtered
// products, then the one whose usage type is a region prefix followed by
// the item's; none or several is an error naming the item and the filter.
func Lookup(ctx context.Context, api API, it Item, region string) (Found, error) {
	filters := it.filters(region)
	in := &pricing.GetProductsInput{ServiceCode: aws.String(it.ServiceCode), Filters: filters,
		FormatVersion: aws.String("aws_v1"), MaxResults: aws.Int32(100)}
	var matches []Product
	var seen []string
	for {
		out, err := api.GetProducts(ctx, in)
		if err != nil {
			return Found{}, fmt.Errorf("%s in %s: GetProducts %s: %w", it.Name, region, describe(it.ServiceCode, filters), err)
		}
		for _, doc := range out.PriceList {
			p, err := ParseProduct(doc)
			if err != nil {
				return Found{}, fmt.Errorf("%s in %s: %w", it.Name, region, err)
			}
			usage := p.Product.Attributes["usagetype"]
			seen = append(seen, usage)
			for _, prefix := range UsageTypePrefixes[region] {
				if usage == prefix+it.UsageType {
					matches = append(matches, p)
				}
			}
		}
		if aws.ToString(out.NextToken) == "" {
			break
		}
		in.NextToken = out.NextToken
	}
	if len(matches) != 1 {
		return Found{}, fmt.Errorf("%s in %s: %d products match usage type %s (prefixes %q) for %s; usage types returned: %v",
			it.Name, region, len(matches), it.UsageType, UsageTypePrefixes[region], describe(it.ServiceCode, filters), seen)
	}
	return found(it, region, matches[0])
}

func found(it Item, region string, p Product) (Found, error) {
	usd, unit, err := p.OnDemand(it.BeginRange)
	if err != nil {
		return Found{}, fmt.Errorf("%s in %s: %w", it.Name, region, err)
	}
	scale := it.Scale
	if scale == 0 {
		scale = 1
	}
	return Found{Item: it.Name, Region: region, Price: capacity.Price{
		USD: round(usd * scale),
		Source: fmt.Sprintf("AWS Price List API: %s SKU %s (%s, %s), OnDemand %s, offer version %s, published %s",
			it.ServiceCode, p.Product.SKU, p.Product.Attributes["usagetype"], unit, OnDemandTerm, p.Version, p.PublicationDate),
	}}, nil
}

// round keeps 10 significant digits: 0.000000705 x 1e6 is 0.705, not
// 0.7050000000000001.
func round(v float64) float64 {
	if v == 0 {
		return 0
	}
	d := math.Pow(10, 9-math.Floor(math.Log10(math.Abs(v))))
	return math.Round(v*d) / d
}

// Change is one price the refresh changed.
type Change struct {
	Region, Item string
	Old, New     float64
}

// Refresh looks every item of Items up in each region and returns the
// table with those prices and sources replaced (units and the other
// items kept), dated date, and what changed. Any item it cannot find fails
// the whole refresh: the table is returned only complete.
func Refresh(ctx context.Context, api API, table capacity.PriceTable, regions []string, date string) (capacity.PriceTable, []Change, error) {
	out := capacity.PriceTable{Date: date, Regions: map[string]map[string]capacity.Price{}}
	for r, items := range table.Regions {
		out.Regions[r] = map[string]capacity.Price{}
		for k, v := range items {
			out.Regions[r][k] = v
		}
	}
	var errs []error
	var changes []Change
	for _, region := range regions {
		if _, ok := table.Regions[region]; !ok {
			errs = append(errs, fmt.Errorf("region %s is not in the table (%s)", region, strings.Join(sortedKeys(table.Regions), ", ")))
			continue
		}
		for _, it := range Items {
			f, err := Lookup(ctx, api, it, region)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			old := table.Regions[region][it.Name]
			if old.USD != f.Price.USD {
				changes = append(changes, Change{Region: region, Item: it.Name, Old: old.USD, New: f.Price.USD})
			}
			f.Price.Unit = old.Unit
			out.Regions[region][it.Name] = f.Price
		}
	}
	if len(errs) > 0 {
		return table, nil, errors.Join(errs...)
	}
	out.Provenance = fmt.Sprintf("Refreshed on %s by `access911 prices --refresh` from the AWS Price List Query API (GetProducts, OnDemand "+
		"term %s) for %s: each such price's source names its SKU, offer version and publication date. Items the Price List mapping "+
		"does not cover (%s) keep the value and source they had. Previously: %s", date, OnDemandTerm, strings.Join(regions, ", "),
		strings.Join(Unmapped(table), ", "), table.Provenance)
	return out, changes, nil
}

// Unmapped are the table's items the refresh does not look up.
func Unmapped(table capacity.PriceTable) []string {
	mapped := map[string]bool{}
	for _, it := range Items {
		mapped[it.Name] = true
	}
	all := map[string]bool{}
	for _, items := range table.Regions {
		for k := range items {
			if !mapped[k] {
				all[k] = true
			}
		}
	}
	return sortedKeys(all)
}

// WriteChanges prints what a refresh changed, one line a price.
func WriteChanges(w io.Writer, changes []Change) {
	if len(changes) == 0 {
		fmt.Fprintln(w, "no price changed")
		return
	}
	slices.SortFunc(changes, func(a, b Change) int { return strings.Compare(a.Region+a.Item, b.Region+b.Item) })
	for _, c := range changes {
		fmt.Fprintf(w, "  %-13s %-42s %g -> %g\n", c.Region, c.Item, c.Old, c.New)
	}
	fmt.Fprintf(w, "%d prices changed\n", len(changes))
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
